-- Officers' second factors. The TOTP secret is sealed under the master key (never stored in
-- clear); `activated_at` stays NULL until the officer proved the enrolment with a code
-- (verify-before-activate); `last_step` is the last accepted time step, so a code is never
-- accepted twice (updated with a compare in the WHERE clause, atomic on both databases).
CREATE TABLE officer_totp (
    officer_id TEXT PRIMARY KEY REFERENCES officers (id),
    secret_sealed TEXT NOT NULL,
    activated_at BIGINT,
    last_step BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One-time recovery codes, stored as SHA-256 of a high-entropy code; `used_at` once used.
CREATE TABLE officer_recovery_codes (
    officer_id TEXT NOT NULL REFERENCES officers (id),
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (officer_id, code_hash)
);

-- WebAuthn credentials (passkeys and security keys): the serialized webauthn-rs credential,
-- a name the officer chose, and the credential id (base64url) for lookups.
CREATE TABLE officer_webauthn (
    id TEXT PRIMARY KEY,
    officer_id TEXT NOT NULL REFERENCES officers (id),
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    credential TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX officer_webauthn_by_officer ON officer_webauthn (officer_id);

-- Demo accounts made by development mode: refused by any other mode.
CREATE TABLE officer_demo_accounts (
    officer_id TEXT PRIMARY KEY REFERENCES officers (id)
);
