-- Relying parties, one JSON document each (see src/oidc/clients.rs).
CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    doc TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- People who log in. external_key is unique per identity source, e.g. 'vneid:<SoDinhDanh>'.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    external_key TEXT NOT NULL UNIQUE,
    profile TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Consent records (Decree 13/2023): who, which service, which scopes, when; withdrawals kept.
CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    claims TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX consents_by_account ON consents (account_id, client_id);

-- A grant is what one authorization (code) or client-credentials call produced; refresh tokens
-- form a family under it. Revoking the grant revokes everything it issued.
CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    account_id TEXT,
    sid TEXT,
    scopes TEXT NOT NULL,
    claims TEXT NOT NULL,
    auth_time BIGINT,
    acr TEXT,
    amr TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX grants_by_account ON grants (account_id);
CREATE INDEX grants_by_sid ON grants (sid);

-- Refresh tokens, stored as SHA-256 hashes. used_at flips once: the atomic UPDATE that flips it
-- is what makes rotation race-safe; a second use of the same token is reuse.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX refresh_by_grant ON refresh_tokens (grant_id);

-- Back-channel logout deliveries and their outcome.
CREATE TABLE logout_deliveries (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    sid TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    status TEXT NOT NULL,
    last_error TEXT,
    updated_at BIGINT NOT NULL
);
