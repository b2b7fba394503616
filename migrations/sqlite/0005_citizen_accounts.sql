-- Citizen and organisation accounts (Bürgerkonto, Unternehmenskonto): accounts, their
-- sessions with the trust level (Vertrauensniveau), one-time links sent by mail, TOTP recovery
-- codes, the profile (Stammdaten) and organisations with their members.
-- Times are BIGINT milliseconds since the Unix epoch (UTC). Ids are 64-bit integers.

-- A deleted account keeps its row (email and password emptied, deleted_at set), so that its id
-- is never given to anyone else and audit entries about it keep pointing at nobody else.
CREATE TABLE citizens (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    email_verified_at BIGINT,
    totp_secret TEXT,
    totp_last_step BIGINT,
    created_at BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL,
    deleted_at BIGINT
);

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE organisation_members (
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    citizen_id BIGINT NOT NULL REFERENCES citizens (id),
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, citizen_id)
);
CREATE INDEX organisation_members_by_citizen ON organisation_members (citizen_id);

-- Only the SHA-256 of the token is stored. A session waiting for the second factor is
-- good for nothing else; acting_for names the organisation the citizen acts for.
CREATE TABLE citizen_sessions (
    token_hash TEXT PRIMARY KEY,
    citizen_id BIGINT NOT NULL REFERENCES citizens (id),
    trust_level TEXT NOT NULL,
    auth_method TEXT NOT NULL,
    pending_second_factor BOOLEAN NOT NULL DEFAULT 0,
    acting_for BIGINT REFERENCES organisations (id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX citizen_sessions_by_citizen ON citizen_sessions (citizen_id);

-- Links sent by mail: verify the address, reset the password, confirm a new address, join an
-- organisation. Used links stay until they expire, so a second click can be told apart from
-- a wrong one.
CREATE TABLE citizen_tokens (
    token_hash TEXT PRIMARY KEY,
    citizen_id BIGINT REFERENCES citizens (id),
    purpose TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX citizen_tokens_by_citizen ON citizen_tokens (citizen_id, purpose);

CREATE TABLE citizen_recovery_codes (
    citizen_id BIGINT NOT NULL REFERENCES citizens (id),
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (citizen_id, code_hash)
);

-- One row per profile value; verified values came from an identity provider.
CREATE TABLE citizen_profile (
    citizen_id BIGINT NOT NULL REFERENCES citizens (id),
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    verified BOOLEAN NOT NULL,
    source TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (citizen_id, field)
);

-- The privacy cockpit finds every entry about one citizen, in every tenant's chain.
CREATE INDEX audit_log_by_subject ON audit_log (subject, at);
