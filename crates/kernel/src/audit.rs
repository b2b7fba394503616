//! The audit log: append-only and hash-chained per tenant.
//!
//! Every entry records who did what, when, on whose behalf, and carries the SHA-256 of its own
//! content and of its predecessor. Entries are written in the same transaction as the change
//! they record. Database triggers refuse UPDATE and DELETE; [`verify`] finds the first entry
//! that was changed, inserted or deleted all the same (by someone with direct database access).

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{Db, DbResult, Tx, query};
use crate::ids::TenantId;
use crate::time::Timestamp;

/// The hash a chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acts: a member of staff, a citizen, or the system itself (jobs, start-up).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// `staff:17`, `citizen:4`, `system`.
    pub id: String,
    /// A readable name for the log page.
    pub name: String,
    /// Whom the actor acts for, when not for themselves (a clerk acting for a citizen, a
    /// substitute for a colleague).
    pub on_behalf_of: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Actor { id: "system".into(), name: "System".into(), on_behalf_of: None }
    }
}

/// One entry to append.
pub struct NewEntry<'a> {
    pub tenant: TenantId,
    pub actor: &'a Actor,
    /// A stable dotted name: `identity.staff.created`.
    pub action: &'a str,
    /// What the action was done to: `staff:17`, `tenant:3`.
    pub subject: &'a str,
    /// Further facts as JSON; never secrets, and personal data only where needed.
    pub details: serde_json::Value,
}

/// One stored entry.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub tenant: TenantId,
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub actor_name: String,
    pub on_behalf_of: Option<String>,
    pub action: String,
    pub subject: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The hash of this entry's content and its predecessor's hash. Every field is length-
    /// prefixed so that no two different entries serialise alike.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let on_behalf = self.on_behalf_of.clone().unwrap_or_default();
        let fields: [&str; 9] = [
            &self.tenant.0.to_string(),
            &self.seq.to_string(),
            &self.at.millis().to_string(),
            &self.actor,
            &self.actor_name,
            &on_behalf,
            &self.action,
            &self.subject,
            &self.details,
        ];
        for f in fields.iter().chain(std::iter::once(&self.prev_hash.as_str())) {
            h.update((f.len() as u64).to_be_bytes());
            h.update(f.as_bytes());
        }
        crate::hex(&h.finalize())
    }
}

/// Appends an entry inside the caller's transaction and returns its sequence number.
///
/// The head row of the tenant's chain is locked by the first UPDATE (a row lock on PostgreSQL,
/// the write lock on SQLite), so concurrent appends to one tenant queue instead of forking.
pub async fn append(tx: &mut Tx, now: Timestamp, e: NewEntry<'_>) -> DbResult<i64> {
    let seqs = append_many(tx, &[(now, e)]).await?;
    Ok(seqs[0])
}

/// Appends several entries inside the caller's transaction, in the order given, and returns
/// their sequence numbers. Each tenant's head is read and moved once for all its entries (three
/// statements per tenant plus one per entry, instead of four per entry): for batches such as
/// the group commit of submissions.
pub async fn append_many(tx: &mut Tx, entries: &[(Timestamp, NewEntry<'_>)]) -> DbResult<Vec<i64>> {
    let mut seqs = vec![0; entries.len()];
    // Heads in tenant order, so two batches never wait for each other's heads crosswise.
    let mut tenants: Vec<TenantId> = entries.iter().map(|(_, e)| e.tenant).collect();
    tenants.sort_by_key(|t| t.0);
    tenants.dedup();
    for tenant in tenants {
        let mine: Vec<usize> = (0..entries.len()).filter(|&i| entries[i].1.tenant == tenant).collect();
        tx.execute(
            query(
                "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (tenant_id) DO NOTHING",
            )
            .bind(tenant)
            .bind(GENESIS),
        )
        .await?;
        let head = tx
            .fetch_one(
                query("UPDATE audit_heads SET seq = seq + $2 WHERE tenant_id = $1 RETURNING seq, hash")
                    .bind(tenant)
                    .bind(mine.len() as i64),
            )
            .await?;
        let last: i64 = head.get("seq")?;
        let mut prev_hash: String = head.get("hash")?;
        for (n, &i) in mine.iter().enumerate() {
            let (at, e) = &entries[i];
            let mut entry = Entry {
                tenant,
                seq: last - mine.len() as i64 + 1 + n as i64,
                at: *at,
                actor: e.actor.id.clone(),
                actor_name: e.actor.name.clone(),
                on_behalf_of: e.actor.on_behalf_of.clone(),
                action: e.action.to_owned(),
                subject: e.subject.to_owned(),
                details: e.details.to_string(),
                prev_hash,
                hash: String::new(),
            };
            entry.hash = entry.compute_hash();
            insert_entry(tx, &entry).await?;
            seqs[i] = entry.seq;
            prev_hash = entry.hash;
        }
        tx.execute(query("UPDATE audit_heads SET hash = $2 WHERE tenant_id = $1").bind(tenant).bind(&prev_hash))
            .await?;
    }
    Ok(seqs)
}

async fn insert_entry(tx: &mut Tx, entry: &Entry) -> DbResult<()> {
    tx.execute(
        query(
            "INSERT INTO audit_log (tenant_id, seq, at, actor, actor_name, on_behalf_of, action, subject, details, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(entry.tenant)
        .bind(entry.seq)
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.actor_name)
        .bind(entry.on_behalf_of.clone())
        .bind(&entry.action)
        .bind(&entry.subject)
        .bind(&entry.details)
        .bind(&entry.prev_hash)
        .bind(&entry.hash),
    )
    .await
    .map(drop)
}

const ENTRY_COLUMNS: &str =
    "tenant_id, seq, at, actor, actor_name, on_behalf_of, action, subject, details, prev_hash, hash";

fn entry_from(r: &crate::db::Row) -> DbResult<Entry> {
    Ok(Entry {
        tenant: TenantId(r.get("tenant_id")?),
        seq: r.get("seq")?,
        at: Timestamp::from_millis(r.get("at")?),
        actor: r.get("actor")?,
        actor_name: r.get("actor_name")?,
        on_behalf_of: r.get("on_behalf_of")?,
        action: r.get("action")?,
        subject: r.get("subject")?,
        details: r.get("details")?,
        prev_hash: r.get("prev_hash")?,
        hash: r.get("hash")?,
    })
}

/// The newest entries of one tenant, newest first.
pub async fn recent(db: &Db, tenant: TenantId, limit: i64) -> DbResult<Vec<Entry>> {
    page(db, tenant, None, limit).await
}

/// A page of one tenant's entries, newest first, older than `before_seq` when given.
pub async fn page(db: &Db, tenant: TenantId, before_seq: Option<i64>, limit: i64) -> DbResult<Vec<Entry>> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE tenant_id = $1 AND ($2 IS NULL OR seq < $2) ORDER BY seq DESC LIMIT $3"
    );
    let rows = db.fetch_all(crate::db::query_owned(sql).bind(tenant).bind(before_seq).bind(limit)).await?;
    rows.iter().map(entry_from).collect()
}

/// The newest entries about one subject (`citizen:17`) in every tenant's chain, newest first:
/// what the privacy cockpit shows a citizen.
pub async fn about(db: &Db, subject: &str, limit: i64) -> DbResult<Vec<Entry>> {
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE subject = $1 ORDER BY at DESC, seq DESC LIMIT $2");
    let rows = db.fetch_all(crate::db::query_owned(sql).bind(subject).bind(limit)).await?;
    rows.iter().map(entry_from).collect()
}

/// What is wrong with a chain, at the first entry where it goes wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Break {
    /// The entry's content no longer matches its hash.
    Changed { seq: i64 },
    /// Entries before this one are missing (a gap in the sequence).
    Deleted { seq: i64 },
    /// The entry does not link to its predecessor: it was inserted or the chain re-linked.
    Inserted { seq: i64 },
    /// The newest entries are gone: the chain ends before its recorded head.
    Truncated { last_seq: i64, head_seq: i64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Changed { seq } => write!(f, "entry {seq} was changed"),
            Break::Deleted { seq } => write!(f, "entries before entry {seq} were deleted"),
            Break::Inserted { seq } => {
                write!(f, "entry {seq} does not link to its predecessor: an entry was inserted or changed before it")
            }
            Break::Truncated { last_seq, head_seq } => {
                write!(f, "entries {}..={head_seq} were deleted from the end", last_seq + 1)
            }
        }
    }
}

/// The verdict on one tenant's chain.
#[derive(Clone, Debug, Serialize)]
pub struct ChainReport {
    pub tenant: TenantId,
    pub entries: i64,
    pub first_break: Option<Break>,
}

/// Checks every tenant's chain from its first entry and reports the first break in each.
pub async fn verify(db: &Db) -> DbResult<Vec<ChainReport>> {
    let heads = db.fetch_all(query("SELECT tenant_id, seq FROM audit_heads ORDER BY tenant_id")).await?;
    let mut reports = Vec::new();
    for head in heads {
        let tenant = TenantId(head.get("tenant_id")?);
        reports.push(verify_tenant(db, tenant, head.get("seq")?).await?);
    }
    Ok(reports)
}

/// Checks one tenant's chain page by page, so a long log never sits in memory whole.
pub async fn verify_tenant(db: &Db, tenant: TenantId, head_seq: i64) -> DbResult<ChainReport> {
    let sql =
        format!("SELECT {ENTRY_COLUMNS} FROM audit_log WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT 1000");
    let (mut expected_seq, mut prev_hash, mut count) = (1_i64, GENESIS.to_owned(), 0_i64);
    loop {
        let page = db.fetch_all(crate::db::query_owned(sql.clone()).bind(tenant).bind(expected_seq - 1)).await?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            let e = entry_from(row)?;
            count += 1;
            let found = if e.seq != expected_seq {
                Some(Break::Deleted { seq: e.seq })
            } else if e.compute_hash() != e.hash {
                Some(Break::Changed { seq: e.seq })
            } else if e.prev_hash != prev_hash {
                Some(Break::Inserted { seq: e.seq })
            } else {
                None
            };
            if found.is_some() {
                return Ok(ChainReport { tenant, entries: count, first_break: found });
            }
            prev_hash = e.hash;
            expected_seq += 1;
        }
    }
    let last_seq = expected_seq - 1;
    let first_break = (last_seq < head_seq).then_some(Break::Truncated { last_seq, head_seq });
    Ok(ChainReport { tenant, entries: count, first_break })
}
