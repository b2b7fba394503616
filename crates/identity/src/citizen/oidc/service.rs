//! The use cases of a login over OpenID Connect: [`start`] sends the browser to the provider,
//! [`finish`] takes it back. Every refusal and every login is in the audit log.

use kernel::audit::Actor;
use kernel::{AppError, Kernel};
use serde_json::json;

use super::client::{Provider, ProviderError, Providers};
use super::jwt::IdClaims;
use super::model::{self, AuthRequest};
use super::store::{self, PendingLogin};
use crate::citizen::model::{Citizen, ProfileValue, SessionFacts, TrustLevel, subject};
use crate::citizen::service::{self as citizens, NewCitizenSession, VerifiedIdentity};
use crate::citizen::store as citizen_store;
use crate::service::{IdentityConfig, record};

/// How long the citizen has at the provider before the login must start again.
pub const LOGIN_VALID_SECS: i64 = 10 * 60;

/// Why a login over a provider did not complete.
#[derive(Debug)]
pub enum OidcError {
    /// The provider cannot be reached or answers nonsense: offer the other ways to log in.
    Down,
    /// The answer was refused; the code names the rule (`citizen.oidc.token_nonce`, …).
    Refused(&'static str),
    /// Anything else (a database outage, a throttle, an unknown provider).
    App(AppError),
}

impl From<AppError> for OidcError {
    fn from(e: AppError) -> Self {
        OidcError::App(e)
    }
}

impl From<kernel::DbError> for OidcError {
    fn from(e: kernel::DbError) -> Self {
        OidcError::App(e.into())
    }
}

/// Where the browser goes, and the value of the cookie that binds the login to it.
pub struct Started {
    pub redirect_to: String,
    pub browser_token: String,
}

/// What the page asked for.
pub struct StartRequest<'a> {
    pub provider: &'a str,
    /// The level the service needs (step-up): asked for with `acr_values`.
    pub wanted: TrustLevel,
    pub next: &'a str,
    /// The citizen whose session is to be raised, if one is logged in.
    pub citizen: Option<&'a Citizen>,
    pub redirect_uri: &'a str,
    pub client_ip: &'a str,
}

fn provider<'a>(providers: &'a Providers, name: &str) -> Result<&'a Provider, OidcError> {
    providers.get(name).ok_or(OidcError::App(AppError::NotFound))
}

/// Starts a login: throttled per client address, then a pending row (state and browser
/// binding stored as hashes, nonce, PKCE verifier) and the authorization URL.
pub async fn start(
    k: &Kernel,
    cfg: &IdentityConfig,
    providers: &Providers,
    r: StartRequest<'_>,
) -> Result<Started, OidcError> {
    let p = provider(providers, r.provider)?;
    let key = format!("oidc:{}", r.client_ip);
    citizens::throttle(k, cfg, &key, cfg.oidc_start_max_per_ip, "citizen.oidc.too_many_starts").await?;
    let meta = providers.metadata(p).await.map_err(|e| down(p, e))?;
    let (state, nonce, verifier, browser_token) =
        (kernel::random_token(), kernel::random_token(), kernel::random_token(), kernel::random_token());
    let now = k.clock.now();
    let pending = PendingLogin {
        state_hash: kernel::sha256_hex(&state),
        browser_hash: kernel::sha256_hex(&browser_token),
        provider: p.cfg.name.clone(),
        nonce: nonce.clone(),
        code_verifier: verifier.clone(),
        citizen: r.citizen.map(Citizen::id),
        wanted_level: r.wanted,
        next_path: r.next.to_owned(),
        expires_at: now.plus_secs(LOGIN_VALID_SECS),
        used_at: None,
    };
    let mut tx = k.db.begin().await?;
    store::insert_pending(&mut tx, &pending, now).await?;
    tx.commit().await?;
    let acr = p.cfg.acr_values(r.wanted);
    let url = model::authorization_url(
        &meta.authorization_endpoint,
        &AuthRequest {
            client_id: &p.cfg.client_id,
            redirect_uri: r.redirect_uri,
            scopes: &p.cfg.scopes,
            state: &state,
            nonce: &nonce,
            code_verifier: &verifier,
            acr_values: acr.as_deref(),
        },
    );
    Ok(Started { redirect_to: url, browser_token })
}

fn down(p: &Provider, e: ProviderError) -> OidcError {
    tracing::warn!(provider = %p.cfg.name, error = ?e, "identity provider unavailable");
    OidcError::Down
}

/// What came back from the provider, and who the browser is.
pub struct Callback<'a> {
    pub provider: &'a str,
    pub state: &'a str,
    pub code: &'a str,
    /// The provider's `error` parameter (the citizen cancelled, the level was not reached).
    pub error: Option<&'a str>,
    /// The `iss` parameter of the answer (RFC 9207), when the provider sends one.
    pub iss: Option<&'a str>,
    /// The value of the browser's binding cookie.
    pub browser_token: &'a str,
    /// The browser's citizen session, if any: (token, citizen).
    pub session: Option<(&'a str, &'a Citizen)>,
    pub redirect_uri: &'a str,
    pub user_agent: &'a str,
    pub client_ip: &'a str,
}

/// A completed login: the new session, where to go, and whether the level asked for was
/// reached (else the step-up page explains).
pub struct Finished {
    pub session: NewCitizenSession,
    pub next: String,
    pub wanted: TrustLevel,
}

/// Completes a login: the state must be one this browser started and not used; the code is
/// exchanged with the verifier; the ID token's signature and claims are checked; then the
/// account is found by its link, or linked to the logged-in citizen (step-up), or made from
/// the provider's confirmed address. The session gets the level the provider confirmed and
/// the values it confirmed are stored as verified.
pub async fn finish(
    k: &Kernel,
    cfg: &IdentityConfig,
    providers: &Providers,
    cb: Callback<'_>,
) -> Result<Finished, OidcError> {
    let result = finish_inner(k, cfg, providers, &cb).await;
    if let Err(OidcError::Refused(reason)) = &result {
        let now = k.clock.now();
        let tenant = citizens::home_tenant(k).await?;
        let mut tx = k.db.begin().await?;
        let details = json!({ "provider": cb.provider, "reason": reason, "ip": cb.client_ip });
        let about = cb.session.map(|(_, c)| c.subject()).unwrap_or_else(|| format!("oidc:{}", cb.provider));
        record(&mut tx, now, tenant, &Actor::system(), "citizen.oidc_refused", &about, details).await?;
        tx.commit().await?;
    }
    result
}

async fn finish_inner(
    k: &Kernel,
    cfg: &IdentityConfig,
    providers: &Providers,
    cb: &Callback<'_>,
) -> Result<Finished, OidcError> {
    let p = provider(providers, cb.provider)?;
    let now = k.clock.now();
    let state_hash = kernel::sha256_hex(cb.state);
    let pending = store::pending(&k.db, &state_hash).await?.ok_or(OidcError::Refused("citizen.oidc.state_unknown"))?;
    if pending.used_at.is_some() {
        return Err(OidcError::Refused("citizen.oidc.state_used"));
    }
    if pending.expires_at <= now {
        return Err(OidcError::Refused("citizen.oidc.state_expired"));
    }
    // Another browser's attempt does not use the state up: the real login can still complete.
    let same_browser = kernel::sha256_hex(cb.browser_token) == pending.browser_hash;
    if pending.provider != p.cfg.name || !same_browser {
        return Err(OidcError::Refused("citizen.oidc.state_other_browser"));
    }
    // RFC 9207: an answer that names another issuer comes from a mix-up, not from this provider.
    if cb.iss.is_some_and(|iss| iss != p.cfg.issuer) {
        return Err(OidcError::Refused("citizen.oidc.response_issuer"));
    }
    if !store::use_pending(&k.db, &state_hash, now).await? {
        return Err(OidcError::Refused("citizen.oidc.state_used"));
    }
    let current = cb.session.filter(|(_, c)| Some(c.id()) == pending.citizen);
    if pending.citizen.is_some() && current.is_none() {
        return Err(OidcError::Refused("citizen.oidc.state_other_browser"));
    }
    if let Some(error) = cb.error {
        tracing::info!(provider = %p.cfg.name, error, "identity provider returned an error");
        return Err(OidcError::Refused("citizen.oidc.cancelled"));
    }
    let claims = providers
        .exchange(p, cb.code, &pending.code_verifier, cb.redirect_uri, &pending.nonce, now.millis() / 1000)
        .await
        .map_err(|e| match e {
            ProviderError::Down(_) => down(p, e),
            ProviderError::CodeRefused(_) => OidcError::Refused("citizen.oidc.code_refused"),
            ProviderError::Token(t) => OidcError::Refused(t.code()),
        })?;
    let level = p.cfg.level_of(&claims);
    let today = &now.rfc3339()[..10];
    let municipalities = citizens::municipalities(k).await?;
    let values = model::verified_values(&claims, &municipalities, today);
    let provider_name = p.cfg.name.clone();
    let identity = VerifiedIdentity { provider: provider_name.clone(), level, values };
    let wanted = pending.wanted_level;
    let next = pending.next_path;
    let linked = store::linked_citizen(&k.db, &provider_name, &claims.subject).await?;
    let session = match current {
        Some((token, citizen)) => {
            if linked.is_some_and(|id| id != citizen.id()) {
                return Err(OidcError::Refused("citizen.oidc.linked_elsewhere"));
            }
            let mut tx = k.db.begin().await?;
            store::link(&mut tx, &provider_name, &claims.subject, citizen.id(), now).await?;
            tx.commit().await?;
            citizens::raise_level(k, cfg, token, citizen, identity).await?
        }
        None => {
            let id = match linked {
                Some(id) => id,
                None => new_account(k, &provider_name, &claims).await?,
            };
            login(k, cfg, id, &claims.subject, identity, cb).await?
        }
    };
    Ok(Finished { session, next, wanted })
}

/// The first login of a person without an account: one is made with the address the
/// provider confirmed. An address that has an account already is not taken over: the citizen
/// logs in with the password first and then raises the level (which links the provider).
async fn new_account(k: &Kernel, provider: &str, claims: &IdClaims) -> Result<kernel::CitizenId, OidcError> {
    let confirmed = claims.claims.get("email_verified").and_then(serde_json::Value::as_bool) == Some(true);
    let email = claims.text("email").map(|e| e.trim().to_lowercase()).filter(|e| crate::model::looks_like_email(e));
    let Some(email) = email.filter(|_| confirmed) else {
        return Err(OidcError::Refused("citizen.oidc.no_confirmed_email"));
    };
    if citizen_store::by_email(&k.db, &email).await?.is_some() {
        return Err(OidcError::Refused("citizen.oidc.email_has_account"));
    }
    let now = k.clock.now();
    let tenant = citizens::home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    let id = match store::insert_account(&mut tx, &email, now).await {
        Ok(id) => id,
        Err(e) if e.is_unique_violation() => return Err(OidcError::Refused("citizen.oidc.email_has_account")),
        Err(e) => return Err(e.into()),
    };
    store::link(&mut tx, provider, &claims.subject, id, now).await?;
    let details = json!({ "provider": provider });
    record(&mut tx, now, tenant, &Actor::system(), "citizen.registered_via_provider", &subject(id), details).await?;
    tx.commit().await?;
    Ok(id)
}

/// Logs a linked account in at the provider's level, storing the confirmed values.
async fn login(
    k: &Kernel,
    cfg: &IdentityConfig,
    id: kernel::CitizenId,
    sub: &str,
    identity: VerifiedIdentity,
    cb: &Callback<'_>,
) -> Result<NewCitizenSession, OidcError> {
    let row = citizen_store::by_id(&k.db, id).await?.ok_or(OidcError::App(AppError::Unauthenticated))?;
    let now = k.clock.now();
    let tenant = citizens::home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    store::link(&mut tx, &identity.provider, sub, id, now).await?;
    for (field, value) in &identity.values {
        let v = ProfileValue { field: *field, value: value.clone(), verified: true, source: identity.provider.clone() };
        citizen_store::put_profile_value(&mut tx, id, &v, now).await?;
    }
    let facts = SessionFacts { trust_level: identity.level, auth_method: identity.provider.clone(), acting_for: None };
    let session = citizens::start_session(&mut tx, k, cfg, row.account, facts, false, cb.user_agent).await?;
    let fields: Vec<&str> = identity.values.iter().map(|(f, _)| f.as_str()).collect();
    let details = json!({
        "ip": cb.client_ip, "method": identity.provider, "level": identity.level.as_str(), "verified_fields": fields,
    });
    record(&mut tx, now, tenant, &session.citizen.actor(), "citizen.login", &session.citizen.subject(), details)
        .await?;
    tx.commit().await?;
    Ok(session)
}
