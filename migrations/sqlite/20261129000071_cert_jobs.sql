-- Bulk certificate jobs (src/certs/reissue.rs): the "information changed" re-issue after units
-- were renamed or merged. Each item records its state so an interrupted run continues where it
-- stopped; the CA request id (an idempotency key the CA honours) is fixed before the CA is
-- called, so a crash between the CA's answer and our write never issues twice.
CREATE TABLE cert_jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE cert_job_items (
    job_id TEXT NOT NULL REFERENCES cert_jobs (id),
    cert_id TEXT NOT NULL REFERENCES officer_certificates (id),
    officer_id TEXT NOT NULL,
    request_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    new_cert_id TEXT,
    error TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (job_id, cert_id)
);
CREATE INDEX cert_job_items_state ON cert_job_items (job_id, state);
