//! The SQL of logins over OpenID Connect: logins under way and linked provider identities.

use kernel::{CitizenId, Db, DbResult, Row, Timestamp, Tx, query};

use crate::citizen::model::TrustLevel;

/// A login under way at a provider, as stored at the redirect.
pub struct PendingLogin {
    pub state_hash: String,
    pub browser_hash: String,
    pub provider: String,
    pub nonce: String,
    pub code_verifier: String,
    /// The logged-in citizen raising the level (step-up), if any.
    pub citizen: Option<CitizenId>,
    pub wanted_level: TrustLevel,
    pub next_path: String,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

pub async fn insert_pending(tx: &mut Tx, p: &PendingLogin, now: Timestamp) -> DbResult<()> {
    tx.execute(
        query(
            "INSERT INTO citizen_oidc_logins (state_hash, browser_hash, provider, nonce, code_verifier, citizen_id, \
             wanted_level, next_path, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(p.state_hash.as_str())
        .bind(p.browser_hash.as_str())
        .bind(p.provider.as_str())
        .bind(p.nonce.as_str())
        .bind(p.code_verifier.as_str())
        .bind(p.citizen)
        .bind(p.wanted_level.as_str())
        .bind(p.next_path.as_str())
        .bind(now)
        .bind(p.expires_at),
    )
    .await
    .map(drop)
}

fn pending_from(r: &Row) -> DbResult<PendingLogin> {
    Ok(PendingLogin {
        state_hash: r.get("state_hash")?,
        browser_hash: r.get("browser_hash")?,
        provider: r.get("provider")?,
        nonce: r.get("nonce")?,
        code_verifier: r.get("code_verifier")?,
        citizen: r.get::<Option<i64>>("citizen_id")?.map(CitizenId),
        wanted_level: TrustLevel::parse(&r.get::<String>("wanted_level")?).unwrap_or(TrustLevel::Basic),
        next_path: r.get("next_path")?,
        expires_at: Timestamp::from_millis(r.get("expires_at")?),
        used_at: r.get::<Option<i64>>("used_at")?.map(Timestamp::from_millis),
    })
}

pub async fn pending(db: &Db, state_hash: &str) -> DbResult<Option<PendingLogin>> {
    db.fetch_optional(query("SELECT * FROM citizen_oidc_logins WHERE state_hash = $1").bind(state_hash))
        .await?
        .as_ref()
        .map(pending_from)
        .transpose()
}

/// Marks the login used; false when a concurrent callback used it first.
pub async fn use_pending(db: &Db, state_hash: &str, now: Timestamp) -> DbResult<bool> {
    let n = db
        .execute(
            query("UPDATE citizen_oidc_logins SET used_at = $2 WHERE state_hash = $1 AND used_at IS NULL")
                .bind(state_hash)
                .bind(now),
        )
        .await?;
    Ok(n == 1)
}

/// The account a provider's subject is linked to.
pub async fn linked_citizen(db: &Db, provider: &str, subject: &str) -> DbResult<Option<CitizenId>> {
    let row = db
        .fetch_optional(
            query(
                "SELECT i.citizen_id FROM citizen_identities i JOIN citizens c ON c.id = i.citizen_id \
                 WHERE i.provider = $1 AND i.subject = $2 AND c.deleted_at IS NULL",
            )
            .bind(provider)
            .bind(subject),
        )
        .await?;
    row.map(|r| r.get("citizen_id").map(CitizenId)).transpose()
}

/// Links the subject to the account, or notes the login of a linked one.
pub async fn link(tx: &mut Tx, provider: &str, subject: &str, citizen: CitizenId, now: Timestamp) -> DbResult<()> {
    let n = tx
        .execute(
            query(
                "UPDATE citizen_identities SET last_login_at = $4 WHERE provider = $1 AND subject = $2 AND citizen_id = $3",
            )
            .bind(provider)
            .bind(subject)
            .bind(citizen)
            .bind(now),
        )
        .await?;
    if n == 0 {
        tx.execute(
            query(
                "INSERT INTO citizen_identities (provider, subject, citizen_id, linked_at, last_login_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(provider)
            .bind(subject)
            .bind(citizen)
            .bind(now),
        )
        .await?;
    }
    Ok(())
}

/// The providers an account is linked to (for the account page and the export).
pub async fn links_of(db: &Db, citizen: CitizenId) -> DbResult<Vec<(String, Timestamp)>> {
    let rows = db
        .fetch_all(
            query("SELECT provider, linked_at FROM citizen_identities WHERE citizen_id = $1 ORDER BY provider")
                .bind(citizen),
        )
        .await?;
    rows.iter().map(|r| Ok((r.get("provider")?, Timestamp::from_millis(r.get("linked_at")?)))).collect()
}

/// Removes the links and the logins under way of a deleted account.
pub async fn forget_citizen(tx: &mut Tx, citizen: CitizenId) -> DbResult<()> {
    tx.execute(query("DELETE FROM citizen_identities WHERE citizen_id = $1").bind(citizen)).await?;
    tx.execute(query("DELETE FROM citizen_oidc_logins WHERE citizen_id = $1").bind(citizen)).await?;
    Ok(())
}

/// Deletes logins under way whose time is up.
pub async fn purge_expired(db: &Db, now: Timestamp) -> DbResult<u64> {
    db.execute(query("DELETE FROM citizen_oidc_logins WHERE expires_at <= $1").bind(now)).await
}

/// A new account made at a first login over a provider: no password (the empty hash never
/// verifies; "forgot password" sets one), the address confirmed by the provider.
pub async fn insert_account(tx: &mut Tx, email: &str, now: Timestamp) -> DbResult<CitizenId> {
    let row = tx
        .fetch_one(
            query(
                "INSERT INTO citizens (email, password_hash, email_verified_at, created_at, password_changed_at) \
                 VALUES ($1, '', $2, $2, $2) RETURNING id",
            )
            .bind(email)
            .bind(now),
        )
        .await?;
    Ok(CitizenId(row.get("id")?))
}
