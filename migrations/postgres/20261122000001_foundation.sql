-- Signing keys: private halves encrypted under the master key; public JWK kept in clear so JWKS
-- can be served without decrypting anything.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retire_at BIGINT,
    expires_at BIGINT,
    private_key_enc BYTEA NOT NULL,
    public_jwk TEXT NOT NULL
);

-- Instance-wide facts that must survive restarts (e.g. schema generation, install id).
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
