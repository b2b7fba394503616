//! Identity's use cases. Every write runs in one transaction together with its audit entry;
//! every function that needs a permission takes the proof ([`Authorized`]).

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use kernel::audit::{self, Actor, NewEntry};
use kernel::{AppError, Kernel, OrgUnitId, StaffId, TenantId, Timestamp, Tx};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::model::{
    self, Authorized, ManagePlatform, ManageStaff, OrgUnit, Role, RoleGrant, Staff, StaffMember, Tenant,
};
use crate::store::{self, OrgUnitFields, TenantFields};

/// `[identity]` in the config file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// A session ends after this many minutes without a request.
    pub session_idle_minutes: i64,
    /// A session ends this many hours after login, however active.
    pub session_max_hours: i64,
    /// Failed logins for one account before it is locked for `login_lockout_minutes`.
    pub login_max_failures: i64,
    /// Failed logins from one address (any account) before it is locked.
    pub login_max_failures_per_ip: i64,
    pub login_lockout_minutes: i64,
    /// Citizen registrations from one client address within `login_lockout_minutes`.
    pub citizen_register_max_per_ip: i64,
    /// Password-reset requests from one client address within `login_lockout_minutes` ...
    pub citizen_reset_max_per_ip: i64,
    /// ... and for one e-mail address.
    pub citizen_reset_max_per_account: i64,
    /// How long a link sent by mail (verification, reset, new address, invitation) works.
    pub citizen_link_valid_hours: i64,
    /// Logins over an identity provider started from one client address within
    /// `login_lockout_minutes`.
    pub oidc_start_max_per_ip: i64,
    /// 64 hex digits (32 random bytes): seals TOTP secrets at rest (AES-256-GCM). Empty: they
    /// are stored in clear, and the start warns.
    pub secret_key: kernel::Secret,
    /// External identity providers (OpenID Connect): `[[identity.oidc_providers]]`.
    pub oidc_providers: Vec<crate::citizen::oidc::OidcProviderConfig>,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            session_idle_minutes: 60,
            session_max_hours: 12,
            login_max_failures: 5,
            login_max_failures_per_ip: 50,
            login_lockout_minutes: 15,
            citizen_register_max_per_ip: 10,
            citizen_reset_max_per_ip: 10,
            citizen_reset_max_per_account: 3,
            citizen_link_valid_hours: 24,
            oidc_start_max_per_ip: 30,
            secret_key: kernel::Secret::default(),
            oidc_providers: Vec::new(),
        }
    }
}

/// Appends the audit entry of an identity action to the transaction that makes the change.
pub(crate) async fn record(
    tx: &mut Tx,
    now: Timestamp,
    tenant: TenantId,
    actor: &Actor,
    action: &str,
    subject: &str,
    details: serde_json::Value,
) -> Result<(), AppError> {
    audit::append(tx, now, NewEntry { tenant, actor, action, subject, details }).await?;
    Ok(())
}

// ---- passwords ----

/// Hashes a password with Argon2id (default parameters: 19 MiB, 2 passes), off the async
/// threads because it is deliberately slow.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// Verifies a password against a stored hash, or against a hash of no real password when the
/// account does not exist: a wrong e-mail address then takes as long as a wrong password and
/// reveals nothing.
pub(crate) async fn verify_password(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
        Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok()
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default().hash_password(kernel::random_token().as_bytes()).map(|h| h.to_string()).unwrap_or_default()
    })
}

fn check_new_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < model::MIN_PASSWORD_LEN {
        return Err(AppError::invalid("identity.password_too_short", "new_password"));
    }
    Ok(())
}

/// A random password for a new account or the demo: 20 characters from an alphabet without
/// look-alikes (no 0/O, 1/l/I).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let token = kernel::random_token();
    token
        .as_bytes()
        .chunks(2)
        .take(20)
        .map(|pair| ALPHABET[(usize::from(pair[0]) * 7 + usize::from(pair[1])) % ALPHABET.len()] as char)
        .collect()
}

// ---- sessions ----

/// A new session: the token for the cookie (stored only as its hash) and its owner.
pub struct NewSession {
    pub token: String,
    pub staff: Staff,
}

/// What the login form sent, plus where it came from.
pub struct LoginAttempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub client_ip: &'a str,
    pub user_agent: &'a str,
}

/// Logs a member of staff in. Failed attempts are counted per account and per address in the
/// database (so the limit holds across nodes); over the limit, even the right password waits.
pub async fn login(k: &Kernel, cfg: &IdentityConfig, attempt: LoginAttempt<'_>) -> Result<NewSession, AppError> {
    let now = k.clock.now();
    let email = attempt.email.trim().to_lowercase();
    let lockout_secs = cfg.login_lockout_minutes * 60;
    let since = now.minus_secs(lockout_secs);
    let account_key = format!("account:{email}");
    let ip_key = format!("ip:{}", attempt.client_ip);
    if store::count_failures(&k.db, &account_key, since).await? >= cfg.login_max_failures
        || store::count_failures(&k.db, &ip_key, since).await? >= cfg.login_max_failures_per_ip
    {
        return Err(AppError::TooManyRequests { code: "identity.login_locked", retry_after_secs: lockout_secs as u64 });
    }
    let found = store::staff_for_login(&k.db, &email).await?;
    let password_ok =
        verify_password(attempt.password.to_owned(), found.as_ref().map(|f| f.password_hash.clone())).await;
    let mut tx = k.db.begin().await?;
    let member = match found {
        Some(f) if password_ok && f.member.active && f.tenant_active => f.member,
        other => {
            store::record_failure(&mut tx, &account_key, now).await?;
            store::record_failure(&mut tx, &ip_key, now).await?;
            if let Some(store::LoginRow { member, tenant_active, .. }) = other {
                let actor =
                    Actor { id: format!("staff:{}", member.id), name: member.display_name.clone(), on_behalf_of: None };
                let reason = match (password_ok, member.active, tenant_active) {
                    (false, _, _) => "wrong_password",
                    (true, false, _) => "account_locked",
                    (true, true, _) => "tenant_inactive",
                };
                record(
                    &mut tx,
                    now,
                    member.tenant,
                    &actor,
                    "identity.login_failed",
                    &format!("staff:{}", member.id),
                    json!({ "reason": reason, "ip": attempt.client_ip }),
                )
                .await?;
            }
            tx.commit().await?;
            return Err(AppError::Invalid { code: "identity.login_failed", fields: Vec::new() });
        }
    };
    store::clear_failures(&mut tx, &account_key).await?;
    let token = kernel::random_token();
    let expires = now.plus_secs(cfg.session_idle_minutes * 60);
    store::insert_session(
        &mut tx,
        &kernel::sha256_hex(&token),
        member.id,
        now,
        expires,
        &truncate(attempt.user_agent, 200),
    )
    .await?;
    let roles = store::roles_of(&k.db, member.id).await?;
    let staff = Staff { member, roles };
    record(
        &mut tx,
        now,
        staff.tenant(),
        &staff.actor(),
        "identity.login",
        &format!("staff:{}", staff.id()),
        json!({ "ip": attempt.client_ip }),
    )
    .await?;
    tx.commit().await?;
    Ok(NewSession { token, staff })
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The member of staff a session token belongs to, when the session is live. Each use moves
/// the idle deadline, never past the absolute one. Sessions are rows, valid on every node.
pub async fn authenticate(k: &Kernel, cfg: &IdentityConfig, token: &str) -> Result<Option<Staff>, AppError> {
    if token.len() != 64 {
        return Ok(None);
    }
    let now = k.clock.now();
    let hash = kernel::sha256_hex(token);
    let Some(session) = store::live_session(&k.db, &hash, now).await? else { return Ok(None) };
    let absolute_end = session.created_at.plus_secs(cfg.session_max_hours * 3600);
    if !session.staff.active || now >= absolute_end {
        store::delete_session(&k.db, &hash).await?;
        return Ok(None);
    }
    // Write the new deadline at most once a minute: most requests then only read.
    if now.millis() - session.last_seen_at.millis() > 60_000 {
        let expires = now.plus_secs(cfg.session_idle_minutes * 60).min(absolute_end);
        store::touch_session(&k.db, &hash, now, expires).await?;
    }
    let roles = store::roles_of(&k.db, session.staff.id).await?;
    Ok(Some(Staff { member: session.staff, roles }))
}

/// Ends one session.
pub async fn logout(k: &Kernel, token: &str) -> Result<(), AppError> {
    Ok(store::delete_session(&k.db, &kernel::sha256_hex(token)).await?)
}

/// Ends every session of this member of staff, on every device. Returns how many ended.
pub async fn logout_everywhere(k: &Kernel, staff: &Staff) -> Result<u64, AppError> {
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let n = store::delete_sessions_of(&mut tx, staff.id()).await?;
    record(
        &mut tx,
        now,
        staff.tenant(),
        &staff.actor(),
        "identity.logout_everywhere",
        &format!("staff:{}", staff.id()),
        json!({ "sessions": n }),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

pub async fn live_sessions(k: &Kernel, staff: &Staff) -> Result<i64, AppError> {
    Ok(store::count_sessions_of(&k.db, staff.id(), k.clock.now()).await?)
}

/// Changes one's own password. Every other session of the account ends (whoever else was
/// logged in with the old password is out); the session `this_session` (a token) stays.
pub async fn change_password(
    k: &Kernel,
    staff: &Staff,
    this_session: &str,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    let stored = store::password_hash(&k.db, staff.id()).await?.ok_or(AppError::NotFound)?;
    if !verify_password(current.to_owned(), Some(stored)).await {
        return Err(AppError::invalid("identity.current_password_wrong", "current_password"));
    }
    check_new_password(new)?;
    let hash = hash_password(new.to_owned()).await?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::set_password(&mut tx, staff.id(), &hash, now).await?;
    let ended = store::delete_other_sessions(&mut tx, staff.id(), &kernel::sha256_hex(this_session)).await?;
    record(
        &mut tx,
        now,
        staff.tenant(),
        &staff.actor(),
        "identity.password_changed",
        &format!("staff:{}", staff.id()),
        json!({ "other_sessions_ended": ended }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes expired sessions and old failed-login records (a periodic job).
pub async fn purge_expired(k: &Kernel, cfg: &IdentityConfig) -> Result<u64, AppError> {
    let now = k.clock.now();
    let sessions = store::purge_expired_sessions(&k.db, now).await?;
    let failures = store::purge_old_failures(&k.db, now.minus_secs(cfg.login_lockout_minutes * 60)).await?;
    Ok(sessions + failures)
}

// ---- tenants ----

/// The tenants a member of staff may administer: all for platform administrators.
pub async fn administered_tenants(k: &Kernel, staff: &Staff) -> Result<Vec<Tenant>, AppError> {
    let all = store::list_tenants(&k.db).await?;
    if staff.member.platform_admin {
        return Ok(all);
    }
    let mine = staff.administered_tenants();
    Ok(all.into_iter().filter(|t| mine.contains(&t.id)).collect())
}

/// All active tenants: public facts (name, kind, AGS, postcodes, contact).
pub async fn public_tenants(k: &Kernel) -> Result<Vec<Tenant>, AppError> {
    Ok(store::list_tenants(&k.db).await?.into_iter().filter(|t| t.active).collect())
}

pub async fn tenant_by_slug(k: &Kernel, slug: &str) -> Result<Tenant, AppError> {
    store::tenant_by_slug(&k.db, slug).await?.ok_or(AppError::NotFound)
}

pub async fn tenant(k: &Kernel, id: TenantId) -> Result<Tenant, AppError> {
    store::tenant(&k.db, id).await?.ok_or(AppError::NotFound)
}

fn check_tenant_fields(f: &TenantFields) -> Result<(), AppError> {
    let mut fields = Vec::new();
    let mut bad = |ok: bool, field: &str, code: &'static str| {
        if !ok {
            fields.push(kernel::FieldError { field: field.to_owned(), code });
        }
    };
    bad(model::valid_slug(&f.slug), "slug", "identity.slug_invalid");
    bad(!f.name.trim().is_empty(), "name", "identity.name_required");
    bad(f.kind.is_some(), "kind", "identity.kind_required");
    bad(f.ags.as_deref().is_none_or(model::valid_ags), "ags", "identity.ags_invalid");
    bad(f.postcodes.iter().all(|p| model::valid_postcode(p)), "postcodes", "identity.postcode_invalid");
    bad(f.email.is_empty() || model::looks_like_email(&f.email), "email", "identity.email_invalid");
    if fields.is_empty() { Ok(()) } else { Err(AppError::Invalid { code: "invalid", fields }) }
}

/// Creates a tenant (platform administration only).
pub async fn create_tenant(
    k: &Kernel,
    proof: &Authorized<ManagePlatform>,
    f: &TenantFields,
) -> Result<TenantId, AppError> {
    check_tenant_fields(f)?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let id = store::insert_tenant(&mut tx, f, now).await.map_err(|e| {
        if e.is_unique_violation() { AppError::invalid("identity.slug_taken", "slug") } else { e.into() }
    })?;
    record(
        &mut tx,
        now,
        id,
        proof.actor(),
        "identity.tenant.created",
        &format!("tenant:{id}"),
        json!({ "slug": f.slug, "name": f.name }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a tenant's name, AGS, address, contact and postcodes (its administrators).
pub async fn update_tenant(k: &Kernel, proof: &Authorized<ManageStaff>, f: &TenantFields) -> Result<(), AppError> {
    check_tenant_fields(f)?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::update_tenant(&mut tx, proof.tenant(), f).await?;
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "identity.tenant.updated",
        &format!("tenant:{}", proof.tenant()),
        json!({ "name": f.name }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes a tenant out of service or back (platform administration): an inactive tenant is
/// hidden from the public directory and its staff cannot log in; their sessions end at once.
/// Nobody deactivates their own tenant, so the platform cannot lock itself out.
pub async fn set_tenant_active(
    k: &Kernel,
    proof: &Authorized<ManagePlatform>,
    tenant: TenantId,
    active: bool,
) -> Result<(), AppError> {
    if tenant == proof.tenant() && !active {
        return Err(AppError::Conflict { code: "identity.cannot_deactivate_own_tenant" });
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    if store::set_tenant_active(&mut tx, tenant, active).await? == 0 {
        return Err(AppError::NotFound);
    }
    let ended = if active { 0 } else { store::delete_sessions_of_tenant(&mut tx, tenant).await? };
    let action = if active { "identity.tenant.activated" } else { "identity.tenant.deactivated" };
    record(
        &mut tx,
        now,
        tenant,
        proof.actor(),
        action,
        &format!("tenant:{tenant}"),
        json!({ "sessions_ended": ended }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---- org units ----

/// A tenant's org units: public facts (addresses, opening hours).
pub async fn org_units(k: &Kernel, tenant: TenantId) -> Result<Vec<OrgUnit>, AppError> {
    Ok(store::org_units(&k.db, tenant).await?)
}

pub async fn create_org_unit(
    k: &Kernel,
    proof: &Authorized<ManageStaff>,
    f: &OrgUnitFields,
) -> Result<OrgUnitId, AppError> {
    if f.name.trim().is_empty() {
        return Err(AppError::invalid("identity.name_required", "name"));
    }
    let f = &OrgUnitFields { opening_hours: model::opening_hours_from_german(&f.opening_hours), ..f.clone() };
    if let Some(parent) = f.parent {
        store::org_unit(&k.db, proof.tenant(), parent)
            .await?
            .ok_or_else(|| AppError::invalid("identity.unit_unknown", "parent"))?;
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let id = store::insert_org_unit(&mut tx, proof.tenant(), f, now).await.map_err(|e| {
        if e.is_unique_violation() { AppError::invalid("identity.unit_name_taken", "name") } else { e.into() }
    })?;
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "identity.org_unit.created",
        &format!("org_unit:{id}"),
        json!({ "name": f.name, "code": f.code }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// One of the tenant's org units.
pub async fn org_unit(k: &Kernel, proof: &Authorized<ManageStaff>, id: OrgUnitId) -> Result<OrgUnit, AppError> {
    store::org_unit(&k.db, proof.tenant(), id).await?.ok_or(AppError::NotFound)
}

/// Changes an org unit. Its new parent must be in the same tenant and not below the unit itself.
pub async fn update_org_unit(
    k: &Kernel,
    proof: &Authorized<ManageStaff>,
    id: OrgUnitId,
    f: &OrgUnitFields,
) -> Result<(), AppError> {
    store::org_unit(&k.db, proof.tenant(), id).await?.ok_or(AppError::NotFound)?;
    if f.name.trim().is_empty() {
        return Err(AppError::invalid("identity.name_required", "name"));
    }
    let f = &OrgUnitFields { opening_hours: model::opening_hours_from_german(&f.opening_hours), ..f.clone() };
    let units = store::org_units(&k.db, proof.tenant()).await?;
    let mut ancestor = f.parent;
    while let Some(a) = ancestor {
        if a == id {
            return Err(AppError::invalid("identity.unit_cycle", "parent"));
        }
        ancestor = units
            .iter()
            .find(|u| u.id == a)
            .ok_or_else(|| AppError::invalid("identity.unit_unknown", "parent"))?
            .parent;
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::update_org_unit(&mut tx, proof.tenant(), id, f).await.map_err(|e| {
        if e.is_unique_violation() { AppError::invalid("identity.unit_name_taken", "name") } else { e.into() }
    })?;
    let details = json!({ "name": f.name, "code": f.code });
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "identity.org_unit.updated",
        &format!("org_unit:{id}"),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes an org unit that no role and no sub-unit refers to.
pub async fn delete_org_unit(k: &Kernel, proof: &Authorized<ManageStaff>, id: OrgUnitId) -> Result<String, AppError> {
    let unit = store::org_unit(&k.db, proof.tenant(), id).await?.ok_or(AppError::NotFound)?;
    if store::org_unit_references(&k.db, id).await? > 0 {
        return Err(AppError::Conflict { code: "identity.unit_in_use" });
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    // Other capabilities refer to units too (Leitweg-IDs, invoices, forms): the database knows.
    store::delete_org_unit(&mut tx, proof.tenant(), id).await.map_err(|e| {
        if e.is_foreign_key_violation() { AppError::Conflict { code: "identity.unit_in_use" } } else { e.into() }
    })?;
    let details = json!({ "name": unit.name });
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "identity.org_unit.deleted",
        &format!("org_unit:{id}"),
        details,
    )
    .await?;
    tx.commit().await?;
    Ok(unit.name)
}

// ---- staff and roles ----

/// A member of staff with their roles.
#[derive(Clone, Debug, Serialize)]
pub struct StaffWithRoles {
    pub member: StaffMember,
    pub roles: Vec<RoleGrant>,
}

pub async fn staff_list(k: &Kernel, proof: &Authorized<ManageStaff>) -> Result<Vec<StaffWithRoles>, AppError> {
    let mut out = Vec::new();
    for member in store::staff_of_tenant(&k.db, proof.tenant()).await? {
        let roles = store::roles_of(&k.db, member.id).await?;
        out.push(StaffWithRoles { member, roles });
    }
    Ok(out)
}

pub async fn staff_detail(
    k: &Kernel,
    proof: &Authorized<ManageStaff>,
    id: StaffId,
) -> Result<StaffWithRoles, AppError> {
    let member = store::staff_member(&k.db, proof.tenant(), id).await?.ok_or(AppError::NotFound)?;
    let roles = store::roles_of(&k.db, id).await?;
    Ok(StaffWithRoles { member, roles })
}

/// Creates an account and returns it with a one-time password to hand over in person; it is
/// shown once and stored only as a hash.
pub async fn create_staff(
    k: &Kernel,
    proof: &Authorized<ManageStaff>,
    email: &str,
    name: &str,
) -> Result<(StaffId, String), AppError> {
    let email = email.trim().to_lowercase();
    let mut fields = Vec::new();
    if !model::looks_like_email(&email) {
        fields.push(kernel::FieldError { field: "email".into(), code: "identity.email_invalid" });
    }
    if name.trim().is_empty() {
        fields.push(kernel::FieldError { field: "display_name".into(), code: "identity.name_required" });
    }
    if !fields.is_empty() {
        return Err(AppError::Invalid { code: "invalid", fields });
    }
    let password = generate_password();
    let hash = hash_password(password.clone()).await?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let id =
        store::insert_staff(&mut tx, proof.tenant(), &email, name.trim(), &hash, false, now).await.map_err(|e| {
            if e.is_unique_violation() { AppError::invalid("identity.email_taken", "email") } else { e.into() }
        })?;
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "identity.staff.created",
        &format!("staff:{id}"),
        json!({ "email": email }),
    )
    .await?;
    tx.commit().await?;
    Ok((id, password))
}

pub async fn grant_role(
    k: &Kernel,
    proof: &Authorized<ManageStaff>,
    staff: StaffId,
    role: Role,
    unit: Option<OrgUnitId>,
) -> Result<(), AppError> {
    store::staff_member(&k.db, proof.tenant(), staff).await?.ok_or(AppError::NotFound)?;
    if let Some(unit) = unit {
        store::org_unit(&k.db, proof.tenant(), unit)
            .await?
            .ok_or_else(|| AppError::invalid("identity.unit_unknown", "org_unit"))?;
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    if !store::insert_role(&mut tx, proof.tenant(), staff, role, unit, now).await? {
        return Err(AppError::Conflict { code: "identity.role_held" });
    }
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "identity.role.granted",
        &format!("staff:{staff}"),
        json!({ "role": role.as_str(), "org_unit": unit }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn revoke_role(
    k: &Kernel,
    proof: &Authorized<ManageStaff>,
    staff: StaffId,
    grant: i64,
) -> Result<(), AppError> {
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let removed = store::delete_role(&mut tx, proof.tenant(), staff, grant).await?.ok_or(AppError::NotFound)?;
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "identity.role.revoked",
        &format!("staff:{staff}"),
        json!({ "role": removed.role.as_str(), "org_unit": removed.org_unit }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives an account a new one-time password (for someone who forgot theirs) and ends its
/// sessions. Returns the password, to be shown once.
pub async fn reset_password(k: &Kernel, proof: &Authorized<ManageStaff>, staff: StaffId) -> Result<String, AppError> {
    store::staff_member(&k.db, proof.tenant(), staff).await?.ok_or(AppError::NotFound)?;
    let password = generate_password();
    let hash = hash_password(password.clone()).await?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::set_password(&mut tx, staff, &hash, now).await?;
    store::delete_sessions_of(&mut tx, staff).await?;
    record(
        &mut tx,
        now,
        proof.tenant(),
        proof.actor(),
        "identity.password_reset",
        &format!("staff:{staff}"),
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(password)
}

/// Deactivates or reactivates an account. Deactivation ends its sessions at once.
pub async fn set_staff_active(
    k: &Kernel,
    proof: &Authorized<ManageStaff>,
    staff: StaffId,
    active: bool,
) -> Result<(), AppError> {
    if staff == proof.staff() && !active {
        return Err(AppError::Conflict { code: "identity.cannot_deactivate_self" });
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    if store::set_active(&mut tx, proof.tenant(), staff, active).await? == 0 {
        return Err(AppError::NotFound);
    }
    if !active {
        store::delete_sessions_of(&mut tx, staff).await?;
    }
    let action = if active { "identity.staff.activated" } else { "identity.staff.deactivated" };
    record(&mut tx, now, proof.tenant(), proof.actor(), action, &format!("staff:{staff}"), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// A tenant's audit log, newest first.
pub async fn audit_log(
    k: &Kernel,
    proof: &Authorized<model::ReadAudit>,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<audit::Entry>, AppError> {
    Ok(audit::page(&k.db, proof.tenant(), before_seq, limit).await?)
}

// ---- set-up without a logged-in user: demo data and the first administrator ----

/// Writes that the installation itself makes (the demo county, `kreishaus admin create`).
/// Each is idempotent: running it twice changes nothing the second time. Only the server's
/// command line uses this; nothing reachable over HTTP does.
pub struct Setup<'a> {
    pub kernel: &'a Kernel,
}

impl Setup<'_> {
    fn now(&self) -> Timestamp {
        self.kernel.clock.now()
    }

    /// The tenant with this slug, created when missing.
    pub async fn tenant(&self, f: &TenantFields) -> Result<TenantId, AppError> {
        if let Some(t) = store::tenant_by_slug(&self.kernel.db, &f.slug).await? {
            return Ok(t.id);
        }
        check_tenant_fields(f)?;
        let mut tx = self.kernel.db.begin().await?;
        let id = store::insert_tenant(&mut tx, f, self.now()).await?;
        record(
            &mut tx,
            self.now(),
            id,
            &Actor::system(),
            "identity.tenant.created",
            &format!("tenant:{id}"),
            json!({ "slug": f.slug }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The org unit of this name, created when missing.
    pub async fn org_unit(&self, tenant: TenantId, f: &OrgUnitFields) -> Result<OrgUnitId, AppError> {
        if let Some(u) = store::org_units(&self.kernel.db, tenant).await?.into_iter().find(|u| u.name == f.name) {
            return Ok(u.id);
        }
        let mut tx = self.kernel.db.begin().await?;
        let id = store::insert_org_unit(&mut tx, tenant, f, self.now()).await?;
        record(
            &mut tx,
            self.now(),
            tenant,
            &Actor::system(),
            "identity.org_unit.created",
            &format!("org_unit:{id}"),
            json!({ "name": f.name }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The account with this e-mail, created when missing; its password hash is set either way
    /// (so a demo start hands out fresh passwords).
    pub async fn staff(
        &self,
        tenant: TenantId,
        email: &str,
        name: &str,
        password_hash: &str,
        platform_admin: bool,
    ) -> Result<StaffId, AppError> {
        let mut tx = self.kernel.db.begin().await?;
        let id = match store::staff_for_login(&self.kernel.db, email).await? {
            Some(found) => {
                store::set_password(&mut tx, found.member.id, password_hash, self.now()).await?;
                found.member.id
            }
            None => {
                let id = store::insert_staff(&mut tx, tenant, email, name, password_hash, platform_admin, self.now())
                    .await?;
                record(
                    &mut tx,
                    self.now(),
                    tenant,
                    &Actor::system(),
                    "identity.staff.created",
                    &format!("staff:{id}"),
                    json!({ "email": email, "platform_admin": platform_admin }),
                )
                .await?;
                id
            }
        };
        tx.commit().await?;
        Ok(id)
    }

    /// Grants a role unless held.
    pub async fn role(
        &self,
        tenant: TenantId,
        staff: StaffId,
        role: Role,
        unit: Option<OrgUnitId>,
    ) -> Result<(), AppError> {
        let mut tx = self.kernel.db.begin().await?;
        if store::insert_role(&mut tx, tenant, staff, role, unit, self.now()).await? {
            record(
                &mut tx,
                self.now(),
                tenant,
                &Actor::system(),
                "identity.role.granted",
                &format!("staff:{staff}"),
                json!({ "role": role.as_str(), "org_unit": unit }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
