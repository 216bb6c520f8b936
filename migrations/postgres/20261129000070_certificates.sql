-- Officers' digital-signature certificates (src/certs): the registry, with history. A renewed
-- or re-issued certificate is retired and points at its successor (replaced_by).
CREATE TABLE officer_certificates (
    id TEXT PRIMARY KEY,
    officer_id TEXT NOT NULL REFERENCES officers (id),
    thumbprint TEXT NOT NULL UNIQUE,
    serial TEXT NOT NULL,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    pem TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    replaced_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX officer_certificates_by_officer ON officer_certificates (officer_id);
CREATE INDEX officer_certificates_expiring ON officer_certificates (status, not_after);
