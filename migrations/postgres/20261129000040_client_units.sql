-- A client (SCIM provisioning or admin automation) restricted to one unit's subtree
-- (src/admin/restriction.rs). No row: the client is not restricted.
CREATE TABLE client_units (
    client_id TEXT PRIMARY KEY,
    unit_id TEXT NOT NULL
);
