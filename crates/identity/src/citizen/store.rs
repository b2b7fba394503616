//! The SQL of citizen and organisation accounts. Citizens belong to no tenant: one account
//! serves every tenant of the installation.

use kernel::{CitizenId, Db, DbResult, OrganisationId, Row, Timestamp, Tx, query};

use super::model::{
    CitizenAccount, Member, Membership, OrgRole, PrefillConsent, ProfileField, ProfileValue, SessionFacts, TrustLevel,
};

const ACCOUNT_COLUMNS: &str = "c.id, c.email, c.email_verified_at, c.totp_secret, c.created_at";

fn account_from(r: &Row) -> DbResult<CitizenAccount> {
    Ok(CitizenAccount {
        id: CitizenId(r.get("id")?),
        email: r.get("email")?,
        email_verified: r.get::<Option<i64>>("email_verified_at")?.is_some(),
        totp_enabled: r.get::<Option<String>>("totp_secret")?.is_some(),
        created_at: Timestamp::from_millis(r.get("created_at")?),
    })
}

/// What login needs: the account and its secrets.
pub struct LoginRow {
    pub account: CitizenAccount,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_last_step: Option<i64>,
}

fn login_row_from(r: &Row) -> DbResult<LoginRow> {
    Ok(LoginRow {
        account: account_from(r)?,
        password_hash: r.get("password_hash")?,
        totp_secret: r.get("totp_secret")?,
        totp_last_step: r.get("totp_last_step")?,
    })
}

/// A live (not deleted) account by e-mail address, with its secrets.
pub async fn by_email(db: &Db, email: &str) -> DbResult<Option<LoginRow>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS}, c.password_hash, c.totp_last_step FROM citizens c WHERE c.email = $1 AND c.deleted_at IS NULL"
    );
    db.fetch_optional(kernel::query_owned(sql).bind(email)).await?.as_ref().map(login_row_from).transpose()
}

/// A live account by id, with its secrets.
pub async fn by_id(db: &Db, id: CitizenId) -> DbResult<Option<LoginRow>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS}, c.password_hash, c.totp_last_step FROM citizens c WHERE c.id = $1 AND c.deleted_at IS NULL"
    );
    db.fetch_optional(kernel::query_owned(sql).bind(id)).await?.as_ref().map(login_row_from).transpose()
}

pub async fn insert(tx: &mut Tx, email: &str, password_hash: &str, now: Timestamp) -> DbResult<CitizenId> {
    let row = tx
        .fetch_one(
            query(
                "INSERT INTO citizens (email, password_hash, created_at, password_changed_at) VALUES ($1, $2, $3, $3) RETURNING id",
            )
            .bind(email)
            .bind(password_hash)
            .bind(now),
        )
        .await?;
    Ok(CitizenId(row.get("id")?))
}

/// Marks the address verified and sets the password chosen with the link's registration.
pub async fn verify_email(tx: &mut Tx, id: CitizenId, password_hash: &str, now: Timestamp) -> DbResult<()> {
    tx.execute(
        query("UPDATE citizens SET email_verified_at = $2, password_hash = $3, password_changed_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .bind(password_hash),
    )
    .await
    .map(drop)
}

pub async fn set_password(tx: &mut Tx, id: CitizenId, hash: &str, now: Timestamp) -> DbResult<()> {
    tx.execute(
        query("UPDATE citizens SET password_hash = $2, password_changed_at = $3 WHERE id = $1")
            .bind(id)
            .bind(hash)
            .bind(now),
    )
    .await
    .map(drop)
}

pub async fn set_email(tx: &mut Tx, id: CitizenId, email: &str, now: Timestamp) -> DbResult<()> {
    tx.execute(
        query("UPDATE citizens SET email = $2, email_verified_at = $3 WHERE id = $1").bind(id).bind(email).bind(now),
    )
    .await
    .map(drop)
}

pub async fn set_totp(tx: &mut Tx, id: CitizenId, secret: Option<&str>, last_step: Option<i64>) -> DbResult<()> {
    tx.execute(
        query("UPDATE citizens SET totp_secret = $2, totp_last_step = $3 WHERE id = $1")
            .bind(id)
            .bind(secret.map(str::to_owned))
            .bind(last_step),
    )
    .await
    .map(drop)
}

/// Records the step of a used code; false when it was used already (by a concurrent login).
pub async fn use_totp_step(tx: &mut Tx, id: CitizenId, step: i64) -> DbResult<bool> {
    let n = tx
        .execute(
            query("UPDATE citizens SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)")
                .bind(id)
                .bind(step),
        )
        .await?;
    Ok(n == 1)
}

/// Empties a deleted account: its row stays so that its id is never reused.
pub async fn tombstone(tx: &mut Tx, id: CitizenId, now: Timestamp) -> DbResult<()> {
    let placeholder = format!("geloescht-{id}");
    tx.execute(
        query(
            "UPDATE citizens SET email = $2, password_hash = '', totp_secret = NULL, email_verified_at = NULL, deleted_at = $3 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(placeholder)
        .bind(now),
    )
    .await?;
    for sql in [
        "DELETE FROM citizen_sessions WHERE citizen_id = $1",
        "DELETE FROM citizen_tokens WHERE citizen_id = $1",
        "DELETE FROM citizen_recovery_codes WHERE citizen_id = $1",
        "DELETE FROM citizen_profile WHERE citizen_id = $1",
        "DELETE FROM organisation_members WHERE citizen_id = $1",
    ] {
        tx.execute(query(sql).bind(id)).await?;
    }
    super::oidc::store::forget_citizen(tx, id).await
}

// ---- sessions ----

/// A new session row.
pub struct NewSessionRow<'a> {
    pub token_hash: &'a str,
    pub citizen: CitizenId,
    pub facts: &'a SessionFacts,
    pub pending_second_factor: bool,
    pub now: Timestamp,
    pub expires: Timestamp,
    pub user_agent: &'a str,
}

pub async fn insert_session(tx: &mut Tx, s: NewSessionRow<'_>) -> DbResult<()> {
    tx.execute(
        query(
            "INSERT INTO citizen_sessions (token_hash, citizen_id, trust_level, auth_method, pending_second_factor, acting_for, \
             created_at, last_seen_at, expires_at, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)",
        )
        .bind(s.token_hash)
        .bind(s.citizen)
        .bind(s.facts.trust_level.as_str())
        .bind(&s.facts.auth_method)
        .bind(s.pending_second_factor)
        .bind(s.facts.acting_for)
        .bind(s.now)
        .bind(s.expires)
        .bind(s.user_agent),
    )
    .await
    .map(drop)
}

/// A live session and its owner.
pub struct SessionRow {
    pub account: CitizenAccount,
    pub facts: SessionFacts,
    pub pending_second_factor: bool,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub user_agent: String,
}

pub async fn live_session(db: &Db, token_hash: &str, now: Timestamp) -> DbResult<Option<SessionRow>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS}, s.trust_level, s.auth_method, s.pending_second_factor, s.acting_for, \
         s.created_at AS session_created, s.last_seen_at, s.user_agent FROM citizen_sessions s JOIN citizens c ON c.id = s.citizen_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND c.deleted_at IS NULL"
    );
    let row = db.fetch_optional(kernel::query_owned(sql).bind(token_hash).bind(now)).await?;
    row.map(|r| {
        Ok(SessionRow {
            account: account_from(&r)?,
            facts: SessionFacts {
                trust_level: TrustLevel::parse(&r.get::<String>("trust_level")?).unwrap_or(TrustLevel::Basic),
                auth_method: r.get("auth_method")?,
                acting_for: r.get::<Option<i64>>("acting_for")?.map(OrganisationId),
            },
            pending_second_factor: r.get("pending_second_factor")?,
            created_at: Timestamp::from_millis(r.get("session_created")?),
            last_seen_at: Timestamp::from_millis(r.get("last_seen_at")?),
            user_agent: r.get("user_agent")?,
        })
    })
    .transpose()
}

pub async fn touch_session(db: &Db, token_hash: &str, now: Timestamp, expires: Timestamp) -> DbResult<()> {
    db.execute(
        query("UPDATE citizen_sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(now)
            .bind(expires),
    )
    .await
    .map(drop)
}

pub async fn delete_session(tx: &mut Tx, token_hash: &str) -> DbResult<u64> {
    tx.execute(query("DELETE FROM citizen_sessions WHERE token_hash = $1").bind(token_hash)).await
}

pub async fn delete_sessions_of(tx: &mut Tx, id: CitizenId) -> DbResult<u64> {
    tx.execute(query("DELETE FROM citizen_sessions WHERE citizen_id = $1").bind(id)).await
}

/// Ends every session of the citizen but the one whose token hashes to `keep`.
pub async fn delete_other_sessions(tx: &mut Tx, id: CitizenId, keep: &str) -> DbResult<u64> {
    tx.execute(query("DELETE FROM citizen_sessions WHERE citizen_id = $1 AND token_hash <> $2").bind(id).bind(keep))
        .await
}

pub async fn count_sessions_of(db: &Db, id: CitizenId, now: Timestamp) -> DbResult<i64> {
    db.fetch_one(
        query("SELECT COUNT(*) AS n FROM citizen_sessions WHERE citizen_id = $1 AND expires_at > $2 AND pending_second_factor = $3")
            .bind(id)
            .bind(now)
            .bind(false),
    )
    .await?
    .get("n")
}

pub async fn purge_expired(db: &Db, now: Timestamp) -> DbResult<u64> {
    let sessions = db.execute(query("DELETE FROM citizen_sessions WHERE expires_at <= $1").bind(now)).await?;
    let tokens = db.execute(query("DELETE FROM citizen_tokens WHERE expires_at <= $1").bind(now)).await?;
    let logins = super::oidc::store::purge_expired(db, now).await?;
    Ok(sessions + tokens + logins)
}

// ---- links sent by mail ----

/// What a link is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    ChangeEmail,
    JoinOrganisation,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::ChangeEmail => "change_email",
            Purpose::JoinOrganisation => "join_organisation",
        }
    }
}

/// A stored link.
pub struct TokenRow {
    pub citizen: Option<CitizenId>,
    pub payload: String,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

pub async fn insert_token(
    tx: &mut Tx,
    token_hash: &str,
    citizen: Option<CitizenId>,
    purpose: Purpose,
    payload: &str,
    now: Timestamp,
    expires: Timestamp,
) -> DbResult<()> {
    tx.execute(
        query(
            "INSERT INTO citizen_tokens (token_hash, citizen_id, purpose, payload, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(citizen)
        .bind(purpose.as_str())
        .bind(payload)
        .bind(now)
        .bind(expires),
    )
    .await
    .map(drop)
}

pub async fn token(db: &Db, token_hash: &str, purpose: Purpose) -> DbResult<Option<TokenRow>> {
    let row = db
        .fetch_optional(
            query("SELECT citizen_id, payload, expires_at, used_at FROM citizen_tokens WHERE token_hash = $1 AND purpose = $2")
                .bind(token_hash)
                .bind(purpose.as_str()),
        )
        .await?;
    row.map(|r| {
        Ok(TokenRow {
            citizen: r.get::<Option<i64>>("citizen_id")?.map(CitizenId),
            payload: r.get("payload")?,
            expires_at: Timestamp::from_millis(r.get("expires_at")?),
            used_at: r.get::<Option<i64>>("used_at")?.map(Timestamp::from_millis),
        })
    })
    .transpose()
}

/// Marks a link used; false when it was used already (a second click, a concurrent one).
pub async fn use_token(tx: &mut Tx, token_hash: &str, now: Timestamp) -> DbResult<bool> {
    let n = tx
        .execute(
            query("UPDATE citizen_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL")
                .bind(token_hash)
                .bind(now),
        )
        .await?;
    Ok(n == 1)
}

/// Invalidates the unused links of one purpose (a newer one replaces them).
pub async fn expire_tokens(tx: &mut Tx, id: CitizenId, purpose: Purpose, now: Timestamp) -> DbResult<()> {
    tx.execute(
        query("UPDATE citizen_tokens SET expires_at = $3 WHERE citizen_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3")
            .bind(id)
            .bind(purpose.as_str())
            .bind(now),
    )
    .await
    .map(drop)
}

// ---- recovery codes ----

pub async fn replace_recovery_codes(tx: &mut Tx, id: CitizenId, hashes: &[String]) -> DbResult<()> {
    tx.execute(query("DELETE FROM citizen_recovery_codes WHERE citizen_id = $1").bind(id)).await?;
    for h in hashes {
        tx.execute(
            query("INSERT INTO citizen_recovery_codes (citizen_id, code_hash) VALUES ($1, $2)").bind(id).bind(h),
        )
        .await?;
    }
    Ok(())
}

/// Uses a recovery code once; false when it is unknown or used.
pub async fn use_recovery_code(tx: &mut Tx, id: CitizenId, hash: &str, now: Timestamp) -> DbResult<bool> {
    let n = tx
        .execute(
            query("UPDATE citizen_recovery_codes SET used_at = $3 WHERE citizen_id = $1 AND code_hash = $2 AND used_at IS NULL")
                .bind(id)
                .bind(hash)
                .bind(now),
        )
        .await?;
    Ok(n == 1)
}

pub async fn unused_recovery_codes(db: &Db, id: CitizenId) -> DbResult<i64> {
    db.fetch_one(
        query("SELECT COUNT(*) AS n FROM citizen_recovery_codes WHERE citizen_id = $1 AND used_at IS NULL").bind(id),
    )
    .await?
    .get("n")
}

// ---- profile ----

pub async fn profile(db: &Db, id: CitizenId) -> DbResult<Vec<ProfileValue>> {
    let rows = db
        .fetch_all(query("SELECT field, value, verified, source FROM citizen_profile WHERE citizen_id = $1").bind(id))
        .await?;
    let mut values = Vec::new();
    for r in rows {
        let Some(field) = ProfileField::parse(&r.get::<String>("field")?) else { continue };
        values.push(ProfileValue {
            field,
            value: r.get("value")?,
            verified: r.get("verified")?,
            source: r.get("source")?,
        });
    }
    values.sort_by_key(|v| ProfileField::ALL.iter().position(|f| *f == v.field));
    Ok(values)
}

pub async fn put_profile_value(tx: &mut Tx, id: CitizenId, v: &ProfileValue, now: Timestamp) -> DbResult<()> {
    tx.execute(
        query(
            "INSERT INTO citizen_profile (citizen_id, field, value, verified, source, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (citizen_id, field) DO UPDATE SET value = $3, verified = $4, source = $5, updated_at = $6",
        )
        .bind(id)
        .bind(v.field.as_str())
        .bind(&v.value)
        .bind(v.verified)
        .bind(&v.source)
        .bind(now),
    )
    .await
    .map(drop)
}

pub async fn delete_profile_value(tx: &mut Tx, id: CitizenId, field: ProfileField) -> DbResult<()> {
    tx.execute(query("DELETE FROM citizen_profile WHERE citizen_id = $1 AND field = $2").bind(id).bind(field.as_str()))
        .await
        .map(drop)
}

// ---- organisations ----

pub async fn insert_organisation(tx: &mut Tx, name: &str, now: Timestamp) -> DbResult<OrganisationId> {
    let row = tx
        .fetch_one(
            query("INSERT INTO organisations (name, created_at) VALUES ($1, $2) RETURNING id").bind(name).bind(now),
        )
        .await?;
    Ok(OrganisationId(row.get("id")?))
}

/// Adds a member; false when they are one already.
pub async fn insert_member(
    tx: &mut Tx,
    org: OrganisationId,
    citizen: CitizenId,
    role: OrgRole,
    now: Timestamp,
) -> DbResult<bool> {
    let n = tx
        .execute(
            query(
                "INSERT INTO organisation_members (organisation_id, citizen_id, role, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(org)
            .bind(citizen)
            .bind(role.as_str())
            .bind(now),
        )
        .await?;
    Ok(n == 1)
}

pub async fn memberships(db: &Db, citizen: CitizenId) -> DbResult<Vec<Membership>> {
    let rows = db
        .fetch_all(
            query(
                "SELECT o.id, o.name, m.role FROM organisation_members m JOIN organisations o ON o.id = m.organisation_id \
                 WHERE m.citizen_id = $1 ORDER BY o.name",
            )
            .bind(citizen),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Membership {
                organisation: OrganisationId(r.get("id")?),
                name: r.get("name")?,
                role: OrgRole::parse(&r.get::<String>("role")?).unwrap_or(OrgRole::Member),
            })
        })
        .collect()
}

pub async fn members(db: &Db, org: OrganisationId) -> DbResult<Vec<Member>> {
    let rows = db
        .fetch_all(
            query(
                "SELECT c.id, c.email, m.role FROM organisation_members m JOIN citizens c ON c.id = m.citizen_id \
                 WHERE m.organisation_id = $1 ORDER BY m.role DESC, c.email",
            )
            .bind(org),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Member {
                citizen: CitizenId(r.get("id")?),
                email: r.get("email")?,
                role: OrgRole::parse(&r.get::<String>("role")?).unwrap_or(OrgRole::Member),
            })
        })
        .collect()
}

/// Removes organisations that no member is left in (after an account deletion).
pub async fn delete_empty_organisations(tx: &mut Tx) -> DbResult<u64> {
    tx.execute(query(
        "DELETE FROM organisations WHERE id NOT IN (SELECT organisation_id FROM organisation_members) \
         AND id NOT IN (SELECT acting_for FROM citizen_sessions WHERE acting_for IS NOT NULL)",
    ))
    .await
}

// ---- consent to prefill forms ----

/// Records one consent; returns its id.
pub async fn insert_prefill_consent(
    tx: &mut Tx,
    citizen: CitizenId,
    office: kernel::TenantId,
    form: &str,
    fields: &[ProfileField],
    now: Timestamp,
) -> DbResult<i64> {
    let names: Vec<&str> = fields.iter().map(|f| f.as_str()).collect();
    let row = tx
        .fetch_one(
            query(
                "INSERT INTO citizen_prefill_consents (citizen_id, tenant_id, form, fields, given_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(citizen)
            .bind(office)
            .bind(form)
            .bind(names.join(","))
            .bind(now),
        )
        .await?;
    row.get("id")
}

/// The consents a citizen gave, newest first.
pub async fn prefill_consents(db: &Db, citizen: CitizenId) -> DbResult<Vec<PrefillConsent>> {
    let rows = db
        .fetch_all(
            query(
                "SELECT id, tenant_id, form, fields, given_at FROM citizen_prefill_consents \
                 WHERE citizen_id = $1 ORDER BY given_at DESC, id DESC",
            )
            .bind(citizen),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(PrefillConsent {
                id: r.get("id")?,
                office: kernel::TenantId(r.get("tenant_id")?),
                form: r.get("form")?,
                fields: r.get::<String>("fields")?.split(',').filter_map(ProfileField::parse).collect(),
                given_at: Timestamp::from_millis(r.get("given_at")?),
            })
        })
        .collect()
}
