-- Administrative units: the province, its departments and agencies, its communes, wards and
-- special zones (two levels since July 2025). A unit is never deleted: a merge or dissolution
-- closes its validity, so the history stays. `path` lists the ids from the root, '/a/b/c/', so
-- a subtree is a prefix match.
CREATE TABLE units (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id TEXT REFERENCES units (id),
    path TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT,
    merged_into TEXT REFERENCES units (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX units_by_path ON units (path);
CREATE INDEX units_by_parent ON units (parent_id);

-- The names a unit has had (renames), each with its validity.
CREATE TABLE unit_names (
    unit_id TEXT NOT NULL REFERENCES units (id),
    name TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT NOT NULL
);
CREATE INDEX unit_names_by_unit ON unit_names (unit_id);

-- Officer accounts (cán bộ, công chức). The id is also the provider's account id.
CREATE TABLE officers (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    personal_id TEXT UNIQUE,
    email TEXT,
    phone TEXT,
    unit_id TEXT NOT NULL REFERENCES units (id),
    position TEXT,
    status TEXT NOT NULL,
    password_hash TEXT,
    password_set_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX officers_by_unit ON officers (unit_id);

-- Where an officer served, in which position: one row per posting, closed when they move
-- (including by a unit merge).
CREATE TABLE officer_postings (
    officer_id TEXT NOT NULL REFERENCES officers (id),
    unit_id TEXT NOT NULL REFERENCES units (id),
    position TEXT,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT
);
CREATE INDEX officer_postings_by_officer ON officer_postings (officer_id);

-- Roles per relying party, released under the `officer` scope to that client only.
CREATE TABLE officer_roles (
    officer_id TEXT NOT NULL REFERENCES officers (id),
    client_id TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (officer_id, client_id, role)
);

-- Administrators: an officer administering a unit's subtree (unit_admin), or the whole
-- province (super_admin, granted on the root unit).
CREATE TABLE admin_grants (
    officer_id TEXT NOT NULL REFERENCES officers (id),
    role TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES units (id),
    PRIMARY KEY (officer_id, role, unit_id)
);
