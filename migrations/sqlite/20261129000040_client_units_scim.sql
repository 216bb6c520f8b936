-- A client (SCIM provisioning or admin automation) restricted to one unit's subtree
-- (src/admin/restriction.rs). No row: the client is not restricted.
CREATE TABLE client_units (
    client_id TEXT PRIMARY KEY,
    unit_id TEXT NOT NULL
);

-- SCIM externalId (src/scim/external_ids.rs): the identifier a provisioning client gives a User
-- or Group in its own system (RFC 7643 §3.1), kept per client.
CREATE TABLE scim_external_ids (
    client_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    external_id TEXT NOT NULL,
    PRIMARY KEY (client_id, resource_type, resource_id)
);
