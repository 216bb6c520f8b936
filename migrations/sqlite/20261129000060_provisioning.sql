-- Outbound provisioning (src/provisioning): downstream systems told when officers or units
-- change, through an outbox that survives restarts. token_sealed is the receiver's bearer
-- credential encrypted under the master key.
CREATE TABLE provisioning_receivers (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    audience TEXT NOT NULL,
    token_sealed TEXT,
    created_at BIGINT NOT NULL
);
CREATE TABLE provisioning_outbox (
    id TEXT PRIMARY KEY,
    receiver_id TEXT NOT NULL,
    change TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX provisioning_outbox_pending ON provisioning_outbox (status, created_at);
