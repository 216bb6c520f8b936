-- One-time links an officer opens to set a password: after creation or import (no password is
-- ever chosen for them), and for a reset by an administrator. Stored by hash only.
CREATE TABLE officer_setup_links (
    token_hash TEXT PRIMARY KEY,
    officer_id TEXT NOT NULL REFERENCES officers (id),
    purpose TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX officer_setup_links_by_officer ON officer_setup_links (officer_id);
