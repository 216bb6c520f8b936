-- The x5t#S256 thumbprint of the certificate a certificate login proved (src/certs/login.rs),
-- kept with the grant so ID tokens minted on refresh still name it. NULL for other logins.
ALTER TABLE grants ADD COLUMN cert_thumbprint TEXT;
