-- Login over OpenID Connect (docs/adr/0011-openid-connect-login.md): logins under way at an
-- identity provider, and the provider identities linked to citizen accounts.
-- Times are BIGINT milliseconds since the Unix epoch (UTC).

-- One row per redirect to a provider. Only the SHA-256 of the state and of the browser's
-- binding cookie are stored: the callback must come back with both (state bound to the
-- browser that started it). nonce and PKCE verifier are needed in clear for the check and
-- the code exchange; a row is good for one callback and a few minutes. citizen_id is set when
-- a logged-in citizen raises the trust level (step-up): the callback must come from that
-- citizen's session.
CREATE TABLE citizen_oidc_logins (
    state_hash TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    provider TEXT NOT NULL,
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    citizen_id BIGINT REFERENCES citizens (id),
    wanted_level TEXT NOT NULL,
    next_path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX citizen_oidc_logins_by_expiry ON citizen_oidc_logins (expires_at);

-- Account linking: the provider's stable subject (`sub`) per provider, one account each.
CREATE TABLE citizen_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    citizen_id BIGINT NOT NULL REFERENCES citizens (id),
    linked_at BIGINT NOT NULL,
    last_login_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX citizen_identities_by_citizen ON citizen_identities (citizen_id);

-- Consent to prefill a form from the profile, one row per use (never reused): which form,
-- for which office, which fields. The forms crate asks; identity records (with an audit entry
-- that the privacy cockpit shows).
CREATE TABLE citizen_prefill_consents (
    id INTEGER PRIMARY KEY,
    citizen_id BIGINT NOT NULL REFERENCES citizens (id),
    tenant_id BIGINT NOT NULL REFERENCES tenants (id),
    form TEXT NOT NULL,
    fields TEXT NOT NULL,
    given_at BIGINT NOT NULL
);
CREATE INDEX citizen_prefill_consents_by_citizen ON citizen_prefill_consents (citizen_id, given_at);
