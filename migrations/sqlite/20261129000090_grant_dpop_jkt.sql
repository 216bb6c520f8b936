-- RFC 9449 §5: the thumbprint of the DPoP key a public client's refresh tokens are bound to
-- (src/oidc/dpop.rs). Kept on the grant, so every rotation of the family keeps the binding.
-- NULL when the refresh tokens are not bound.
ALTER TABLE grants ADD COLUMN dpop_jkt TEXT;
