-- The audit log (src/audit): append-only, each entry chained to the one before by
-- hash = SHA-256(prev_hash || canonical encoding of the entry). seq is dense from 1; a gap is a
-- removed entry. detail is JSON text, hashed exactly as stored.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT,
    object_id TEXT,
    unit_id TEXT,
    ip TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_by_actor ON audit_log (actor, seq);
CREATE INDEX audit_by_unit ON audit_log (unit_id, seq);
CREATE INDEX audit_by_object ON audit_log (object_type, object_id, seq);
CREATE INDEX audit_by_time ON audit_log (at);

-- The chain's head: one row, locked by every append so that writers on any number of instances
-- take seq and prev_hash one at a time and the chain cannot fork. Verification also checks the
-- log's last entry against it, so removing entries from the end is detected too.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
