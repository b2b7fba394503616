//! Use cases of citizen and organisation accounts. Every write runs in one transaction with its
//! audit entry (in the chain of the installation's home tenant; staff reads in the reader's
//! tenant) and, where it sends mail, with the mail in the outbox.
//!
//! No answer tells whether an address has an account: registration and password reset answer
//! alike and do the same work for every address; only the mail that goes out differs.

use kernel::audit::{self, Actor, Entry};
use kernel::mail::{self, Mail};
use kernel::{AppError, CitizenId, FieldError, Kernel, OrganisationId, TenantId, Timestamp, Tx};
use serde::Serialize;
use serde_json::json;

use super::model::{
    self, Citizen, CitizenAccount, Member, Membership, OrgRole, Profile, ProfileField, ProfileValue, SessionFacts,
    TrustLevel, subject,
};
use super::store::{self, NewSessionRow, Purpose};
use super::{sealed, totp};
use crate::model::{Authorized, ReadCitizenData, Tenant, looks_like_email};
use crate::service::{IdentityConfig, hash_password, record, truncate, verify_password};

/// Composes the mails of citizen accounts in the language of the request, with links to
/// this installation.
pub struct Letters<'a> {
    pub chrome: &'a web::Chrome,
    /// The public URL without a trailing slash: `https://kreis.example`.
    pub base_url: &'a str,
}

impl Letters<'_> {
    /// The mail `citizen.mail.<kind>.subject` / `.body`, with `{link}` and `{email}` filled in.
    fn mail(&self, to: &str, kind: &str, link: &str) -> Mail {
        let fill = |key: String| {
            self.chrome.t(&key).replace("{link}", &format!("{}{link}", self.base_url)).replace("{email}", to)
        };
        Mail {
            to: to.to_owned(),
            subject: fill(format!("citizen.mail.{kind}.subject")),
            body: fill(format!("citizen.mail.{kind}.body")),
        }
    }
}

/// A new session: the token for the cookie or the `Authorization: Bearer` header (stored only
/// as its hash) and its owner.
pub struct NewCitizenSession {
    pub token: String,
    pub citizen: Citizen,
    pub expires_at: Timestamp,
}

/// What a correct password leads to.
pub enum LoginOutcome {
    /// Logged in.
    Done(NewCitizenSession),
    /// The account has a second factor: the token is good only for entering the code.
    SecondFactor(NewCitizenSession),
}

/// What the login form sent, plus where it came from.
pub struct CitizenLogin<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub client_ip: &'a str,
    pub user_agent: &'a str,
}

/// The e-mail address as stored: trimmed and in lower case.
fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub(crate) async fn home_tenant(k: &Kernel) -> Result<TenantId, AppError> {
    crate::store::home_tenant(&k.db).await?.ok_or_else(|| AppError::internal("no tenant: create the county first"))
}

/// Counts one attempt under `key` and refuses it when `max` attempts were made within the
/// lockout window. The counters are rows (the staff login throttle's), so limits hold across nodes.
pub(crate) async fn throttle(
    k: &Kernel,
    cfg: &IdentityConfig,
    key: &str,
    max: i64,
    code: &'static str,
) -> Result<(), AppError> {
    let now = k.clock.now();
    let window = cfg.login_lockout_minutes * 60;
    if crate::store::count_failures(&k.db, key, now.minus_secs(window)).await? >= max {
        return Err(AppError::TooManyRequests { code, retry_after_secs: window as u64 });
    }
    let mut tx = k.db.begin().await?;
    crate::store::record_failure(&mut tx, key, now).await?;
    tx.commit().await?;
    Ok(())
}

/// A fresh link token: stored as its hash, valid for `cfg.citizen_link_valid_hours`.
async fn new_link(
    tx: &mut Tx,
    k: &Kernel,
    cfg: &IdentityConfig,
    citizen: Option<CitizenId>,
    purpose: Purpose,
    payload: &str,
) -> Result<String, AppError> {
    let token = kernel::random_token();
    let now = k.clock.now();
    let expires = now.plus_secs(cfg.citizen_link_valid_hours * 3600);
    store::insert_token(tx, &kernel::sha256_hex(&token), citizen, purpose, payload, now, expires).await?;
    Ok(token)
}

/// Takes a link from a mail: refused with `citizen.link_invalid` (unknown), `citizen.link_used`
/// or `citizen.link_expired`, each page saying what to do next.
async fn take_link(tx: &mut Tx, k: &Kernel, token: &str, purpose: Purpose) -> Result<store::TokenRow, AppError> {
    let hash = kernel::sha256_hex(token.trim());
    let row = store::token(&k.db, &hash, purpose).await?.ok_or(link_error("citizen.link_invalid"))?;
    if row.used_at.is_some() {
        return Err(link_error("citizen.link_used"));
    }
    if row.expires_at <= k.clock.now() {
        return Err(link_error("citizen.link_expired"));
    }
    if !store::use_token(tx, &hash, k.clock.now()).await? {
        return Err(link_error("citizen.link_used"));
    }
    Ok(row)
}

fn link_error(code: &'static str) -> AppError {
    AppError::Invalid { code, fields: Vec::new() }
}

/// Checks a link without using it (the page before the button).
pub async fn check_link(k: &Kernel, token: &str, purpose: Purpose) -> Result<(), AppError> {
    let row = store::token(&k.db, &kernel::sha256_hex(token.trim()), purpose)
        .await?
        .ok_or(link_error("citizen.link_invalid"))?;
    match (row.used_at, row.expires_at <= k.clock.now()) {
        (Some(_), _) => Err(link_error("citizen.link_used")),
        (None, true) => Err(link_error("citizen.link_expired")),
        (None, false) => Ok(()),
    }
}

fn field_errors(fields: Vec<FieldError>) -> Result<(), AppError> {
    if fields.is_empty() { Ok(()) } else { Err(AppError::Invalid { code: "invalid", fields }) }
}

fn bad(field: &str, code: &'static str) -> FieldError {
    FieldError { field: field.to_owned(), code }
}

// ---- registration ----

/// Registers an account, or answers as if it did. For a new address: an unverified account
/// and a verification link. For an address with an unverified account: a new link that sets
/// the new password. For a verified account: a mail saying there is one (with the way to reset
/// the password). The same password hash is computed in every case, so the time says nothing.
pub async fn register(
    k: &Kernel,
    cfg: &IdentityConfig,
    letters: &Letters<'_>,
    email: &str,
    password: &str,
    client_ip: &str,
) -> Result<(), AppError> {
    let email = normalise_email(email);
    let mut problems = Vec::new();
    if !looks_like_email(&email) {
        problems.push(bad("email", "identity.email_invalid"));
    }
    if let Err(code) = model::check_password(password) {
        problems.push(bad("password", code));
    }
    field_errors(problems)?;
    throttle(
        k,
        cfg,
        &format!("register:{client_ip}"),
        cfg.citizen_register_max_per_ip,
        "citizen.too_many_registrations",
    )
    .await?;
    let hash = hash_password(password.to_owned()).await?;
    let tenant = home_tenant(k).await?;
    let now = k.clock.now();
    let existing = store::by_email(&k.db, &email).await?;
    let mut tx = k.db.begin().await?;
    let (id, letter) = match existing {
        Some(row) if row.account.email_verified => (row.account.id, None),
        Some(row) => {
            store::expire_tokens(&mut tx, row.account.id, Purpose::VerifyEmail, now).await?;
            (row.account.id, Some(row.account.id))
        }
        None => match store::insert(&mut tx, &email, &hash, now).await {
            Ok(id) => (id, Some(id)),
            // Registered a moment ago by a concurrent request: answer alike.
            Err(e) if e.is_unique_violation() => return Ok(()),
            Err(e) => return Err(e.into()),
        },
    };
    let mail = match letter {
        Some(id) => {
            let token = new_link(&mut tx, k, cfg, Some(id), Purpose::VerifyEmail, &hash).await?;
            record(&mut tx, now, tenant, &Actor::system(), "citizen.registered", &subject(id), json!({})).await?;
            letters.mail(&email, "verify", &format!("/buergerkonto/bestaetigen?t={token}"))
        }
        None => {
            let action = "citizen.registration_repeated";
            record(&mut tx, now, tenant, &Actor::system(), action, &subject(id), json!({})).await?;
            letters.mail(&email, "already_registered", "/buergerkonto/passwort-vergessen")
        }
    };
    mail::enqueue(&mut tx, now, None, &mail, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Confirms the address of a new account with the link from the mail; the password chosen at
/// that registration becomes the account's.
pub async fn verify_email(k: &Kernel, token: &str) -> Result<(), AppError> {
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    let link = take_link(&mut tx, k, token, Purpose::VerifyEmail).await?;
    let id = link.citizen.ok_or(link_error("citizen.link_invalid"))?;
    store::verify_email(&mut tx, id, &link.payload, now).await?;
    record(&mut tx, now, tenant, &Actor::system(), "citizen.email_verified", &subject(id), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

// ---- login and sessions ----

fn session_expiry(cfg: &IdentityConfig, now: Timestamp) -> Timestamp {
    now.plus_secs(cfg.session_idle_minutes * 60)
}

/// Starts a session in the transaction (a new token every time: no session id survives a
/// login or a change of privilege).
pub(crate) async fn start_session(
    tx: &mut Tx,
    k: &Kernel,
    cfg: &IdentityConfig,
    account: CitizenAccount,
    facts: SessionFacts,
    pending_second_factor: bool,
    user_agent: &str,
) -> Result<NewCitizenSession, AppError> {
    let token = kernel::random_token();
    let now = k.clock.now();
    let expires_at = if pending_second_factor { now.plus_secs(5 * 60) } else { session_expiry(cfg, now) };
    store::insert_session(
        tx,
        NewSessionRow {
            token_hash: &kernel::sha256_hex(&token),
            citizen: account.id,
            facts: &facts,
            pending_second_factor,
            now,
            expires: expires_at,
            user_agent: &truncate(user_agent, 200),
        },
    )
    .await?;
    Ok(NewCitizenSession { token, citizen: Citizen { account, session: facts }, expires_at })
}

/// Logs a citizen in with e-mail and password. Failures are counted per address and per
/// client (as for staff); over the limit even the right password waits.
pub async fn login(k: &Kernel, cfg: &IdentityConfig, attempt: CitizenLogin<'_>) -> Result<LoginOutcome, AppError> {
    let now = k.clock.now();
    let email = normalise_email(attempt.email);
    let lockout_secs = cfg.login_lockout_minutes * 60;
    let since = now.minus_secs(lockout_secs);
    let account_key = format!("citizen:{email}");
    let ip_key = format!("ip:{}", attempt.client_ip);
    if crate::store::count_failures(&k.db, &account_key, since).await? >= cfg.login_max_failures
        || crate::store::count_failures(&k.db, &ip_key, since).await? >= cfg.login_max_failures_per_ip
    {
        return Err(AppError::TooManyRequests { code: "citizen.login_locked", retry_after_secs: lockout_secs as u64 });
    }
    let found = store::by_email(&k.db, &email).await?;
    let password_ok =
        verify_password(attempt.password.to_owned(), found.as_ref().map(|f| f.password_hash.clone())).await;
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    let row = match found {
        Some(row) if password_ok => row,
        other => {
            crate::store::record_failure(&mut tx, &account_key, now).await?;
            crate::store::record_failure(&mut tx, &ip_key, now).await?;
            if let Some(row) = other {
                let details = json!({ "reason": "wrong_password", "ip": attempt.client_ip });
                let actor = Actor::system();
                record(&mut tx, now, tenant, &actor, "citizen.login_failed", &subject(row.account.id), details).await?;
            }
            tx.commit().await?;
            return Err(AppError::Invalid { code: "citizen.login_failed", fields: Vec::new() });
        }
    };
    if !row.account.email_verified {
        tx.commit().await?;
        return Err(AppError::Invalid { code: "citizen.email_not_verified", fields: Vec::new() });
    }
    let facts = SessionFacts { trust_level: TrustLevel::Basic, auth_method: "password".into(), acting_for: None };
    if row.totp_secret.is_some() {
        let pending = start_session(&mut tx, k, cfg, row.account, facts, true, attempt.user_agent).await?;
        tx.commit().await?;
        return Ok(LoginOutcome::SecondFactor(pending));
    }
    crate::store::clear_failures(&mut tx, &account_key).await?;
    let session = start_session(&mut tx, k, cfg, row.account, facts, false, attempt.user_agent).await?;
    let details = json!({ "ip": attempt.client_ip, "method": "password" });
    record(&mut tx, now, tenant, &session.citizen.actor(), "citizen.login", &session.citizen.subject(), details)
        .await?;
    tx.commit().await?;
    Ok(LoginOutcome::Done(session))
}

/// The second step of a login with TOTP: a code from the app, or one of the recovery codes.
/// The waiting session is replaced by a new one.
pub async fn second_factor(
    k: &Kernel,
    cfg: &IdentityConfig,
    pending_token: &str,
    code: &str,
    client_ip: &str,
) -> Result<NewCitizenSession, AppError> {
    let now = k.clock.now();
    let hash = kernel::sha256_hex(pending_token);
    let session = store::live_session(&k.db, &hash, now)
        .await?
        .filter(|s| s.pending_second_factor)
        .ok_or(AppError::Unauthenticated)?;
    let id = session.account.id;
    let account_key = format!("citizen:{}", session.account.email);
    let since = now.minus_secs(cfg.login_lockout_minutes * 60);
    if crate::store::count_failures(&k.db, &account_key, since).await? >= cfg.login_max_failures {
        return Err(AppError::TooManyRequests {
            code: "citizen.login_locked",
            retry_after_secs: (cfg.login_lockout_minutes * 60) as u64,
        });
    }
    let row = store::by_id(&k.db, id).await?.ok_or(AppError::Unauthenticated)?;
    // A secret that cannot be opened (key missing or changed) lets only recovery codes through.
    let key = secret_key(cfg);
    let secret = row.totp_secret.as_deref().and_then(|s| sealed::open(key.as_ref(), s)).unwrap_or_default();
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    let method = match totp::verify(&secret, code, now.millis() / 1000, row.totp_last_step) {
        Some(step) if store::use_totp_step(&mut tx, id, step).await? => Some("password_totp"),
        Some(_) => None,
        None => {
            store::use_recovery_code(&mut tx, id, &recovery_hash(code), now).await?.then_some("password_recovery_code")
        }
    };
    let Some(method) = method else {
        crate::store::record_failure(&mut tx, &account_key, now).await?;
        let details = json!({ "reason": "wrong_code", "ip": client_ip });
        record(&mut tx, now, tenant, &Actor::system(), "citizen.login_failed", &subject(id), details).await?;
        tx.commit().await?;
        return Err(AppError::invalid("citizen.code_wrong", "code"));
    };
    store::delete_session(&mut tx, &hash).await?;
    crate::store::clear_failures(&mut tx, &account_key).await?;
    let facts = SessionFacts { trust_level: TrustLevel::Basic, auth_method: method.into(), acting_for: None };
    let new = start_session(&mut tx, k, cfg, row.account, facts, false, &session.user_agent).await?;
    let details = json!({ "ip": client_ip, "method": method });
    record(&mut tx, now, tenant, &new.citizen.actor(), "citizen.login", &new.citizen.subject(), details).await?;
    tx.commit().await?;
    Ok(new)
}

/// A session token's citizen, when the session is live and complete (not waiting for the
/// second factor). Each use moves the idle deadline, never past the absolute one.
pub async fn authenticate(k: &Kernel, cfg: &IdentityConfig, token: &str) -> Result<Option<Citizen>, AppError> {
    if token.len() != 64 {
        return Ok(None);
    }
    let now = k.clock.now();
    let hash = kernel::sha256_hex(token);
    let Some(session) = store::live_session(&k.db, &hash, now).await? else { return Ok(None) };
    if session.pending_second_factor {
        return Ok(None);
    }
    let absolute_end = session.created_at.plus_secs(cfg.session_max_hours * 3600);
    if now >= absolute_end {
        let mut tx = k.db.begin().await?;
        store::delete_session(&mut tx, &hash).await?;
        tx.commit().await?;
        return Ok(None);
    }
    if now.millis() - session.last_seen_at.millis() > 60_000 {
        store::touch_session(&k.db, &hash, now, session_expiry(cfg, now).min(absolute_end)).await?;
    }
    Ok(Some(Citizen { account: session.account, session: session.facts }))
}

/// Whether the token is a login waiting for its second factor.
pub async fn is_pending_second_factor(k: &Kernel, token: &str) -> Result<bool, AppError> {
    let session = store::live_session(&k.db, &kernel::sha256_hex(token), k.clock.now()).await?;
    Ok(session.is_some_and(|s| s.pending_second_factor))
}

/// Ends one session.
pub async fn logout(k: &Kernel, token: &str) -> Result<(), AppError> {
    let mut tx = k.db.begin().await?;
    store::delete_session(&mut tx, &kernel::sha256_hex(token)).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of the citizen, on every device. Returns how many ended.
pub async fn logout_everywhere(k: &Kernel, citizen: &Citizen) -> Result<u64, AppError> {
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    let n = store::delete_sessions_of(&mut tx, citizen.id()).await?;
    let details = json!({ "sessions": n });
    record(&mut tx, now, tenant, &citizen.actor(), "citizen.logout_everywhere", &citizen.subject(), details).await?;
    tx.commit().await?;
    Ok(n)
}

pub async fn live_sessions(k: &Kernel, citizen: &Citizen) -> Result<i64, AppError> {
    Ok(store::count_sessions_of(&k.db, citizen.id(), k.clock.now()).await?)
}

/// Replaces the session `old_token` by a new one with other facts: how a higher trust level
/// or acting for an organisation begins (a change of privilege gets a new session id).
async fn rotate(
    k: &Kernel,
    cfg: &IdentityConfig,
    old_token: &str,
    citizen: &Citizen,
    facts: SessionFacts,
    action: &str,
    details: serde_json::Value,
) -> Result<NewCitizenSession, AppError> {
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let old_hash = kernel::sha256_hex(old_token);
    let user_agent =
        store::live_session(&k.db, &old_hash, now).await?.map(|s| s.user_agent).ok_or(AppError::Unauthenticated)?;
    let mut tx = k.db.begin().await?;
    store::delete_session(&mut tx, &old_hash).await?;
    let new = start_session(&mut tx, k, cfg, citizen.account.clone(), facts, false, &user_agent).await?;
    record(&mut tx, now, tenant, &new.citizen.actor(), action, &citizen.subject(), details).await?;
    tx.commit().await?;
    Ok(new)
}

/// What an identity provider confirmed about the person (the seam for OpenID Connect: the
/// callback of a provider maps its `acr` to a level and its claims to profile fields, then
/// calls [`raise_level`]).
pub struct VerifiedIdentity {
    /// The provider's name, recorded as the source of the values: `bundid`, `test-idp`.
    pub provider: String,
    pub level: TrustLevel,
    pub values: Vec<(ProfileField, String)>,
}

/// Raises the session's trust level after a login at an identity provider: a new session id,
/// and the provider's values stored as verified (no longer editable by the citizen).
pub async fn raise_level(
    k: &Kernel,
    cfg: &IdentityConfig,
    old_token: &str,
    citizen: &Citizen,
    identity: VerifiedIdentity,
) -> Result<NewCitizenSession, AppError> {
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    for (field, value) in &identity.values {
        let v = ProfileValue { field: *field, value: value.clone(), verified: true, source: identity.provider.clone() };
        store::put_profile_value(&mut tx, citizen.id(), &v, now).await?;
    }
    tx.commit().await?;
    let level = identity.level.max(citizen.session.trust_level);
    let facts = SessionFacts { trust_level: level, auth_method: identity.provider.clone(), acting_for: None };
    let fields: Vec<&str> = identity.values.iter().map(|(f, _)| f.as_str()).collect();
    let details = json!({ "level": level.as_str(), "provider": identity.provider, "verified_fields": fields });
    rotate(k, cfg, old_token, citizen, facts, "citizen.level_raised", details).await
}

// ---- password reset and e-mail change ----

/// Sends a password-reset link, or (for an address without an account) a mail saying so.
/// The answer is the same either way.
pub async fn request_reset(
    k: &Kernel,
    cfg: &IdentityConfig,
    letters: &Letters<'_>,
    email: &str,
    client_ip: &str,
) -> Result<(), AppError> {
    let email = normalise_email(email);
    if !looks_like_email(&email) {
        return Err(AppError::invalid("identity.email_invalid", "email"));
    }
    let code = "citizen.too_many_resets";
    throttle(k, cfg, &format!("reset:{client_ip}"), cfg.citizen_reset_max_per_ip, code).await?;
    throttle(k, cfg, &format!("reset:{email}"), cfg.citizen_reset_max_per_account, code).await?;
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let found = store::by_email(&k.db, &email).await?;
    let mut tx = k.db.begin().await?;
    let mail = match found {
        Some(row) => {
            store::expire_tokens(&mut tx, row.account.id, Purpose::ResetPassword, now).await?;
            let token = new_link(&mut tx, k, cfg, Some(row.account.id), Purpose::ResetPassword, "").await?;
            let action = "citizen.password_reset_requested";
            record(&mut tx, now, tenant, &Actor::system(), action, &subject(row.account.id), json!({})).await?;
            letters.mail(&email, "reset", &format!("/buergerkonto/passwort-neu?t={token}"))
        }
        None => letters.mail(&email, "reset_unknown", "/buergerkonto/registrieren"),
    };
    mail::enqueue(&mut tx, now, None, &mail, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a new password with the link from the mail. Every session of the account ends; the
/// address counts as confirmed (the link reached it).
pub async fn reset_password(k: &Kernel, token: &str, new_password: &str) -> Result<(), AppError> {
    model::check_password(new_password).map_err(|code| AppError::invalid(code, "password"))?;
    check_link(k, token, Purpose::ResetPassword).await?;
    let hash = hash_password(new_password.to_owned()).await?;
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    let link = take_link(&mut tx, k, token, Purpose::ResetPassword).await?;
    let id = link.citizen.ok_or(link_error("citizen.link_invalid"))?;
    store::verify_email(&mut tx, id, &hash, now).await?;
    let ended = store::delete_sessions_of(&mut tx, id).await?;
    let details = json!({ "sessions_ended": ended });
    record(&mut tx, now, tenant, &Actor::system(), "citizen.password_reset", &subject(id), details).await?;
    tx.commit().await?;
    Ok(())
}

async fn check_current_password(k: &Kernel, citizen: &Citizen, password: &str) -> Result<(), AppError> {
    let row = store::by_id(&k.db, citizen.id()).await?.ok_or(AppError::Unauthenticated)?;
    if verify_password(password.to_owned(), Some(row.password_hash)).await {
        Ok(())
    } else {
        Err(AppError::invalid("identity.current_password_wrong", "current_password"))
    }
}

/// Changes one's own password; every other session ends.
pub async fn change_password(
    k: &Kernel,
    citizen: &Citizen,
    this_session: &str,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    check_current_password(k, citizen, current).await?;
    model::check_password(new).map_err(|code| AppError::invalid(code, "new_password"))?;
    let hash = hash_password(new.to_owned()).await?;
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    store::set_password(&mut tx, citizen.id(), &hash, now).await?;
    let ended = store::delete_other_sessions(&mut tx, citizen.id(), &kernel::sha256_hex(this_session)).await?;
    let details = json!({ "other_sessions_ended": ended });
    record(&mut tx, now, tenant, &citizen.actor(), "citizen.password_changed", &citizen.subject(), details).await?;
    tx.commit().await?;
    Ok(())
}

/// Asks to change the address: a link goes to the new address (or, when it has an account
/// already, a mail saying so), and the old address is told. Nothing changes until the link is used.
pub async fn request_email_change(
    k: &Kernel,
    cfg: &IdentityConfig,
    letters: &Letters<'_>,
    citizen: &Citizen,
    password: &str,
    new_email: &str,
) -> Result<(), AppError> {
    let new_email = normalise_email(new_email);
    if !looks_like_email(&new_email) {
        return Err(AppError::invalid("identity.email_invalid", "new_email"));
    }
    if new_email == citizen.account.email {
        return Err(AppError::invalid("citizen.email_unchanged", "new_email"));
    }
    check_current_password(k, citizen, password).await?;
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let taken = store::by_email(&k.db, &new_email).await?.is_some();
    let mut tx = k.db.begin().await?;
    let to_new = if taken {
        letters.mail(&new_email, "already_registered", "/buergerkonto/passwort-vergessen")
    } else {
        store::expire_tokens(&mut tx, citizen.id(), Purpose::ChangeEmail, now).await?;
        let token = new_link(&mut tx, k, cfg, Some(citizen.id()), Purpose::ChangeEmail, &new_email).await?;
        letters.mail(&new_email, "change_email", &format!("/buergerkonto/neue-adresse?t={token}"))
    };
    mail::enqueue(&mut tx, now, None, &to_new, None).await?;
    let notice = letters.mail(&citizen.account.email, "email_change_notice", "/buergerkonto");
    mail::enqueue(&mut tx, now, None, &notice, None).await?;
    record(&mut tx, now, tenant, &citizen.actor(), "citizen.email_change_requested", &citizen.subject(), json!({}))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Confirms a new address with the link sent to it.
pub async fn confirm_email_change(k: &Kernel, token: &str) -> Result<(), AppError> {
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    let link = take_link(&mut tx, k, token, Purpose::ChangeEmail).await?;
    let id = link.citizen.ok_or(link_error("citizen.link_invalid"))?;
    store::set_email(&mut tx, id, &link.payload, now).await.map_err(|e| {
        if e.is_unique_violation() { AppError::Conflict { code: "citizen.email_taken" } } else { e.into() }
    })?;
    record(&mut tx, now, tenant, &Actor::system(), "citizen.email_changed", &subject(id), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

// ---- second factor ----

const RECOVERY_CODES: usize = 10;

fn recovery_hash(code: &str) -> String {
    let clean: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase();
    kernel::sha256_hex(&clean)
}

/// Ten fresh recovery codes (`ABCD-EFGH-JKLM`, 60 random bits each) and their hashes.
fn recovery_codes() -> Vec<(String, String)> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw = totp::new_secret();
            let code = format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..12]);
            let hash = recovery_hash(&code);
            (code, hash)
        })
        .collect()
}

/// A new TOTP secret for the set-up page; stored only once a code from it was typed.
pub fn new_totp_secret() -> String {
    totp::new_secret()
}

/// The key that seals TOTP secrets, if configured (checked at start by [`sealed::parse_key`]).
fn secret_key(cfg: &IdentityConfig) -> Option<ring::aead::LessSafeKey> {
    sealed::parse_key(cfg.secret_key.expose()).ok().flatten()
}

/// Turns the second factor on once the app shows a matching code; the secret is stored sealed
/// with `identity.secret_key`. Returns the ten recovery codes, shown once and stored only as hashes.
pub async fn enable_totp(
    k: &Kernel,
    cfg: &IdentityConfig,
    citizen: &Citizen,
    secret: &str,
    code: &str,
) -> Result<Vec<String>, AppError> {
    let now = k.clock.now();
    let step =
        totp::verify(secret, code, now.millis() / 1000, None).ok_or(AppError::invalid("citizen.code_wrong", "code"))?;
    let codes = recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|(_, h)| h.clone()).collect();
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    let stored = sealed::seal(secret_key(cfg).as_ref(), secret);
    store::set_totp(&mut tx, citizen.id(), Some(&stored), Some(step)).await?;
    store::replace_recovery_codes(&mut tx, citizen.id(), &hashes).await?;
    record(&mut tx, now, tenant, &citizen.actor(), "citizen.totp_enabled", &citizen.subject(), json!({})).await?;
    tx.commit().await?;
    Ok(codes.into_iter().map(|(c, _)| c).collect())
}

/// Turns the second factor off (with the password).
pub async fn disable_totp(k: &Kernel, citizen: &Citizen, password: &str) -> Result<(), AppError> {
    check_current_password(k, citizen, password).await?;
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    store::set_totp(&mut tx, citizen.id(), None, None).await?;
    store::replace_recovery_codes(&mut tx, citizen.id(), &[]).await?;
    record(&mut tx, now, tenant, &citizen.actor(), "citizen.totp_disabled", &citizen.subject(), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn unused_recovery_codes(k: &Kernel, citizen: &Citizen) -> Result<i64, AppError> {
    Ok(store::unused_recovery_codes(&k.db, citizen.id()).await?)
}

// ---- profile ----

pub async fn profile(k: &Kernel, citizen: &Citizen) -> Result<Profile, AppError> {
    Ok(Profile { values: store::profile(&k.db, citizen.id()).await? })
}

/// The municipalities of the county, for the chooser and for the jurisdiction.
pub async fn municipalities(k: &Kernel) -> Result<Vec<Tenant>, AppError> {
    let mut m: Vec<Tenant> = crate::store::list_tenants(&k.db)
        .await?
        .into_iter()
        .filter(|t| t.active && t.kind == crate::model::TenantKind::Municipality)
        .collect();
    m.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(m)
}

/// The municipality responsible for the citizen (from the profile's municipality, else its
/// postcode): the jurisdiction for municipal services.
pub async fn jurisdiction(k: &Kernel, profile: &Profile) -> Result<Option<Tenant>, AppError> {
    let tenants = municipalities(k).await?;
    let by_name = model::municipality_for(&tenants, profile.value(ProfileField::Municipality));
    Ok(by_name.or_else(|| model::municipality_for(&tenants, profile.value(ProfileField::Postcode))).cloned())
}

/// Saves the self-entered profile values. A verified value cannot be changed (the field is
/// refused); an empty value removes it. The municipality is taken from the postcode when not
/// chosen. The audit entry names the changed fields, never their values.
pub async fn update_profile(k: &Kernel, citizen: &Citizen, input: &[(ProfileField, String)]) -> Result<(), AppError> {
    let current = profile(k, citizen).await?;
    let today = &k.clock.now().rfc3339()[..10];
    let tenants = municipalities(k).await?;
    let mut problems = Vec::new();
    let mut changes: Vec<(ProfileField, String)> = Vec::new();
    for (field, raw) in input {
        let raw = raw.trim();
        let value = match field {
            ProfileField::BirthDate if !raw.is_empty() => match model::normalise_birth_date(raw, today) {
                Some(iso) => iso,
                None => {
                    problems.push(bad(field.as_str(), "citizen.birth_date_invalid"));
                    continue;
                }
            },
            ProfileField::Postcode if !raw.is_empty() && !crate::model::valid_postcode(raw) => {
                problems.push(bad(field.as_str(), "identity.postcode_invalid"));
                continue;
            }
            ProfileField::Phone if !raw.is_empty() && !model::valid_phone(raw) => {
                problems.push(bad(field.as_str(), "citizen.phone_invalid"));
                continue;
            }
            ProfileField::Municipality if !raw.is_empty() => match model::municipality_for(&tenants, raw) {
                Some(t) => t.slug.clone(),
                None => {
                    problems.push(bad(field.as_str(), "citizen.municipality_unknown"));
                    continue;
                }
            },
            _ => truncate(raw, 200),
        };
        if current.value(*field) == value {
            continue;
        }
        if current.is_verified(*field) {
            problems.push(bad(field.as_str(), "citizen.field_verified"));
            continue;
        }
        changes.push((*field, value));
    }
    let chosen = |f: ProfileField| input.iter().find(|(g, _)| *g == f).map(|(_, v)| v.trim());
    if chosen(ProfileField::Municipality).is_some_and(str::is_empty)
        && !current.is_verified(ProfileField::Municipality)
        && let Some(postcode) = chosen(ProfileField::Postcode).filter(|p| !p.is_empty())
        && let Some(t) = model::municipality_for(&tenants, postcode)
    {
        changes.retain(|(f, _)| *f != ProfileField::Municipality);
        if current.value(ProfileField::Municipality) != t.slug {
            changes.push((ProfileField::Municipality, t.slug.clone()));
        }
    }
    field_errors(problems)?;
    if changes.is_empty() {
        return Ok(());
    }
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    for (field, value) in &changes {
        if value.is_empty() {
            store::delete_profile_value(&mut tx, citizen.id(), *field).await?;
        } else {
            let v = ProfileValue { field: *field, value: value.clone(), verified: false, source: "self".into() };
            store::put_profile_value(&mut tx, citizen.id(), &v, now).await?;
        }
    }
    let fields: Vec<&str> = changes.iter().map(|(f, _)| f.as_str()).collect();
    record(
        &mut tx,
        now,
        tenant,
        &citizen.actor(),
        "citizen.profile_updated",
        &citizen.subject(),
        json!({ "fields": fields }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What a form asks to take over from the profile, for one use.
pub struct PrefillRequest<'a> {
    /// The office (tenant) whose form asks.
    pub office: TenantId,
    /// The form, as the forms crate names it (its slug or id).
    pub form: &'a str,
    pub fields: &'a [ProfileField],
}

/// Values handed to a form, and the consent they were handed under.
pub struct Prefill {
    pub consent: i64,
    pub values: Vec<ProfileValue>,
}

/// The citizen agreed, on the form's page and for this one use, that the form takes over the
/// listed profile values. The consent is recorded (a row, and an audit entry in the office's
/// chain that the privacy cockpit shows) before any value is handed over; the next use needs
/// a new consent. Only the listed fields that have a value are returned.
pub async fn prefill_with_consent(k: &Kernel, citizen: &Citizen, req: PrefillRequest<'_>) -> Result<Prefill, AppError> {
    if req.fields.is_empty() || req.form.trim().is_empty() {
        return Err(AppError::invalid("citizen.prefill.nothing", "fields"));
    }
    crate::store::tenant(&k.db, req.office).await?.ok_or(AppError::NotFound)?;
    let form = truncate(req.form.trim(), 200);
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let consent = store::insert_prefill_consent(&mut tx, citizen.id(), req.office, &form, req.fields, now).await?;
    let fields: Vec<&str> = req.fields.iter().map(|f| f.as_str()).collect();
    let details = json!({ "form": form, "fields": fields, "consent": consent });
    record(&mut tx, now, req.office, &citizen.actor(), "citizen.prefill_consented", &citizen.subject(), details)
        .await?;
    tx.commit().await?;
    let mut values = store::profile(&k.db, citizen.id()).await?;
    values.retain(|v| req.fields.contains(&v.field));
    Ok(Prefill { consent, values })
}

/// The consents to prefill forms the citizen gave, newest first.
pub async fn prefill_consents(k: &Kernel, citizen: &Citizen) -> Result<Vec<model::PrefillConsent>, AppError> {
    Ok(store::prefill_consents(&k.db, citizen.id()).await?)
}

/// A member of staff reads a citizen's account and profile for a purpose (a case). The read is
/// recorded in the reader's tenant, with office, role and case, for the privacy cockpit.
pub async fn profile_for_staff(
    k: &Kernel,
    proof: &Authorized<ReadCitizenData>,
    id: CitizenId,
    purpose: &str,
    case: Option<&str>,
) -> Result<(CitizenAccount, Profile), AppError> {
    let row = store::by_id(&k.db, id).await?.ok_or(AppError::NotFound)?;
    let profile = Profile { values: store::profile(&k.db, id).await? };
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let details = json!({
        "role": proof.role().map(|r| r.as_str()),
        "org_unit": proof.org_unit(),
        "purpose": truncate(purpose, 200),
        "case": case,
        "fields": profile.values.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(),
    });
    record(&mut tx, now, proof.tenant(), proof.actor(), "citizen.data_read", &subject(id), details).await?;
    tx.commit().await?;
    Ok((row.account, profile))
}

// ---- privacy cockpit, export, deletion ----

/// One line of the privacy cockpit: who read or changed the citizen's data, when, for what.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DataAccess {
    #[schema(value_type = String)]
    pub at: Timestamp,
    /// The office (tenant) whose log holds the entry.
    pub office: String,
    /// `citizen` (the citizen themselves), `staff` or `system`.
    pub actor_kind: String,
    pub actor_name: String,
    /// The organisation the actor acted for, if any.
    pub on_behalf_of: Option<String>,
    /// A stable action code, e.g. `citizen.profile_updated`, `citizen.data_read`.
    pub action: String,
    /// The staff role that allowed a read.
    pub role: Option<String>,
    pub org_unit: Option<String>,
    pub case: Option<String>,
    pub purpose: Option<String>,
}

/// Everything the audit log holds about the citizen (their own changes, staff reads, the
/// system's actions), newest first.
pub async fn privacy_log(k: &Kernel, citizen: &Citizen) -> Result<Vec<DataAccess>, AppError> {
    let entries = audit::about(&k.db, &citizen.subject(), 500).await?;
    let tenants = crate::store::list_tenants(&k.db).await?;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        out.push(data_access(k, &tenants, e).await?);
    }
    Ok(out)
}

async fn data_access(k: &Kernel, tenants: &[Tenant], e: Entry) -> Result<DataAccess, AppError> {
    let details: serde_json::Value = serde_json::from_str(&e.details).unwrap_or_default();
    let text = |key: &str| details.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let office = tenants.iter().find(|t| t.id == e.tenant).map(|t| t.name.clone()).unwrap_or_default();
    let org_unit = match details.get("org_unit").and_then(serde_json::Value::as_i64) {
        Some(id) => crate::store::org_unit(&k.db, e.tenant, kernel::OrgUnitId(id)).await?.map(|u| u.name),
        None => None,
    };
    let actor_kind = e.actor.split(':').next().unwrap_or("system").to_owned();
    Ok(DataAccess {
        at: e.at,
        office,
        actor_kind,
        actor_name: e.actor_name,
        on_behalf_of: e.on_behalf_of,
        action: e.action,
        role: text("role"),
        org_unit,
        case: text("case"),
        purpose: text("purpose"),
    })
}

/// An identity provider linked to the account (by the provider's subject, which stays ours
/// to know and is not shown).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LinkedProvider {
    pub provider: String,
    #[schema(value_type = String)]
    pub linked_at: Timestamp,
}

pub async fn linked_providers(k: &Kernel, citizen: &Citizen) -> Result<Vec<LinkedProvider>, AppError> {
    let links = super::oidc::store::links_of(&k.db, citizen.id()).await?;
    Ok(links.into_iter().map(|(provider, linked_at)| LinkedProvider { provider, linked_at }).collect())
}

/// All data of a citizen account, for download (GDPR Art. 15 and 20).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Export {
    #[schema(value_type = String)]
    pub exported_at: Timestamp,
    pub account: CitizenAccount,
    pub profile: Profile,
    pub organisations: Vec<Membership>,
    /// The identity providers (OpenID Connect) linked to the account.
    pub linked_providers: Vec<LinkedProvider>,
    /// Every consent to prefill a form from the profile.
    pub prefill_consents: Vec<model::PrefillConsent>,
    pub active_sessions: i64,
    pub data_access: Vec<DataAccess>,
}

pub async fn export(k: &Kernel, citizen: &Citizen) -> Result<Export, AppError> {
    let now = k.clock.now();
    let out = Export {
        exported_at: now,
        account: citizen.account.clone(),
        profile: profile(k, citizen).await?,
        organisations: store::memberships(&k.db, citizen.id()).await?,
        linked_providers: linked_providers(k, citizen).await?,
        prefill_consents: prefill_consents(k, citizen).await?,
        active_sessions: live_sessions(k, citizen).await?,
        data_access: privacy_log(k, citizen).await?,
    };
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    record(&mut tx, now, tenant, &citizen.actor(), "citizen.exported", &citizen.subject(), json!({})).await?;
    tx.commit().await?;
    Ok(out)
}

/// Deletes the account: profile, sessions, links, second factor and memberships go; the row
/// stays empty so its number is never reused. The audit log stays (it is evidence and
/// append-only); organisations left without members go too. An owner with other members must
/// hand the organisation over first.
pub async fn delete_account(k: &Kernel, citizen: &Citizen, password: &str) -> Result<(), AppError> {
    check_current_password(k, citizen, password).await?;
    for m in store::memberships(&k.db, citizen.id()).await? {
        let members = store::members(&k.db, m.organisation).await?;
        let other_owner = members.iter().any(|x| x.citizen != citizen.id() && x.role == OrgRole::Owner);
        if m.role == OrgRole::Owner && members.len() > 1 && !other_owner {
            return Err(AppError::Conflict { code: "citizen.org_needs_owner" });
        }
    }
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    store::tombstone(&mut tx, citizen.id(), now).await?;
    store::delete_empty_organisations(&mut tx).await?;
    let actor = Actor { name: format!("citizen:{}", citizen.id()), ..citizen.actor() };
    record(&mut tx, now, tenant, &actor, "citizen.deleted", &citizen.subject(), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

// ---- organisations ----

fn org_subject(id: OrganisationId) -> String {
    format!("organisation:{id}")
}

pub async fn create_organisation(k: &Kernel, citizen: &Citizen, name: &str) -> Result<OrganisationId, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("identity.name_required", "name"));
    }
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    let id = store::insert_organisation(&mut tx, &truncate(name, 200), now).await?;
    store::insert_member(&mut tx, id, citizen.id(), OrgRole::Owner, now).await?;
    record(
        &mut tx,
        now,
        tenant,
        &citizen.actor(),
        "citizen.organisation_created",
        &org_subject(id),
        json!({ "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn memberships(k: &Kernel, citizen: &Citizen) -> Result<Vec<Membership>, AppError> {
    Ok(store::memberships(&k.db, citizen.id()).await?)
}

/// An organisation the citizen is a member of, with its members; NotFound for others.
pub async fn organisation(
    k: &Kernel,
    citizen: &Citizen,
    org: OrganisationId,
) -> Result<(Membership, Vec<Member>), AppError> {
    let mine = store::memberships(&k.db, citizen.id())
        .await?
        .into_iter()
        .find(|m| m.organisation == org)
        .ok_or(AppError::NotFound)?;
    Ok((mine, store::members(&k.db, org).await?))
}

/// Invites someone by e-mail (owners only). The link works for the account with that address.
pub async fn invite(
    k: &Kernel,
    cfg: &IdentityConfig,
    letters: &Letters<'_>,
    citizen: &Citizen,
    org: OrganisationId,
    email: &str,
    role: OrgRole,
) -> Result<(), AppError> {
    let (mine, _) = organisation(k, citizen, org).await?;
    if mine.role != OrgRole::Owner {
        return Err(AppError::Forbidden);
    }
    let email = normalise_email(email);
    if !looks_like_email(&email) {
        return Err(AppError::invalid("identity.email_invalid", "email"));
    }
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let mut tx = k.db.begin().await?;
    let payload = json!({ "organisation": org, "role": role.as_str(), "email": email }).to_string();
    let token = new_link(&mut tx, k, cfg, None, Purpose::JoinOrganisation, &payload).await?;
    let mail = letters.mail(&email, "invitation", &format!("/buergerkonto/einladung?t={token}"));
    mail::enqueue(&mut tx, now, None, &mail, None).await?;
    let details = json!({ "email": email, "role": role.as_str() });
    record(&mut tx, now, tenant, &citizen.actor(), "citizen.organisation_invited", &org_subject(org), details).await?;
    tx.commit().await?;
    Ok(())
}

/// Joins an organisation with the link from an invitation sent to the citizen's address.
pub async fn accept_invitation(k: &Kernel, citizen: &Citizen, token: &str) -> Result<OrganisationId, AppError> {
    let now = k.clock.now();
    let tenant = home_tenant(k).await?;
    let row = store::token(&k.db, &kernel::sha256_hex(token.trim()), Purpose::JoinOrganisation)
        .await?
        .ok_or(link_error("citizen.link_invalid"))?;
    let payload: serde_json::Value = serde_json::from_str(&row.payload).unwrap_or_default();
    if payload.get("email").and_then(|v| v.as_str()) != Some(citizen.account.email.as_str()) {
        return Err(link_error("citizen.invitation_other_address"));
    }
    let org = OrganisationId(payload.get("organisation").and_then(serde_json::Value::as_i64).unwrap_or_default());
    let role = payload.get("role").and_then(|v| v.as_str()).and_then(OrgRole::parse).unwrap_or(OrgRole::Member);
    let mut tx = k.db.begin().await?;
    take_link(&mut tx, k, token, Purpose::JoinOrganisation).await?;
    store::insert_member(&mut tx, org, citizen.id(), role, now).await?;
    let actor = Actor { on_behalf_of: Some(org_subject(org)), ..citizen.actor() };
    record(
        &mut tx,
        now,
        tenant,
        &actor,
        "citizen.organisation_joined",
        &org_subject(org),
        json!({ "role": role.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(org)
}

/// Starts or stops acting for an organisation: a new session whose audit actor is the citizen
/// on behalf of the organisation, so everything done records both.
pub async fn act_for(
    k: &Kernel,
    cfg: &IdentityConfig,
    token: &str,
    citizen: &Citizen,
    org: Option<OrganisationId>,
) -> Result<NewCitizenSession, AppError> {
    if let Some(org) = org {
        organisation(k, citizen, org).await?;
    }
    let facts = SessionFacts { acting_for: org, ..citizen.session.clone() };
    let details = json!({ "organisation": org });
    rotate(k, cfg, token, citizen, facts, "citizen.acting_for", details).await
}

/// Deletes expired citizen sessions and links (with the staff sessions' periodic purge).
pub async fn purge_expired(k: &Kernel) -> Result<u64, AppError> {
    Ok(store::purge_expired(&k.db, k.clock.now()).await?)
}
