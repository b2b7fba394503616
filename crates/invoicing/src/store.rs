//! The invoices' SQL: Leitweg-IDs, invoices, hand-overs between units, sign-offs, account
//! assignments, reminders, booking exports and payments. Every query names the tenant.

use kernel::{Db, DbResult, OrgUnitId, Row, StaffId, TenantId, Timestamp, Tx, query, query_owned};

use crate::model::{
    Approval, AssignmentLine, Channel, Forward, InboxOrder, InboxQuery, PaperCapture, Payment, Skonto, Status,
    StatusFilter, Step, StoredInvoice, Suggestion, search_text,
};

// ---- Leitweg-IDs ----

/// A Leitweg-ID a tenant owns and the org unit whose inbox receives its invoices.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Route {
    pub id: i64,
    pub leitweg_id: String,
    #[schema(value_type = i64)]
    pub tenant: TenantId,
    #[schema(value_type = i64)]
    pub org_unit: OrgUnitId,
    pub description: String,
}

/// A Leitweg-ID as published for invoice senders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedRoute {
    pub leitweg_id: String,
    pub tenant: String,
    pub unit: String,
    pub description: String,
}

fn route_from(r: &Row) -> DbResult<Route> {
    Ok(Route {
        id: r.get("id")?,
        leitweg_id: r.get("leitweg_id")?,
        tenant: TenantId(r.get("tenant_id")?),
        org_unit: OrgUnitId(r.get("org_unit_id")?),
        description: r.get("description")?,
    })
}

/// The route of a Leitweg-ID, whoever owns it (intake does not know the tenant yet).
pub async fn route(db: &Db, leitweg_id: &str) -> DbResult<Option<Route>> {
    let q = query("SELECT id, leitweg_id, tenant_id, org_unit_id, description FROM leitweg_ids WHERE leitweg_id = $1")
        .bind(leitweg_id);
    db.fetch_optional(q).await?.as_ref().map(route_from).transpose()
}

pub async fn routes_of(db: &Db, tenant: TenantId) -> DbResult<Vec<Route>> {
    let q = query(
        "SELECT id, leitweg_id, tenant_id, org_unit_id, description FROM leitweg_ids WHERE tenant_id = $1 ORDER BY leitweg_id",
    )
    .bind(tenant);
    db.fetch_all(q).await?.iter().map(route_from).collect()
}

/// Every Leitweg-ID of every tenant, with the names of tenant and unit: public by design
/// (they are printed on letterheads so that suppliers address their invoices right).
pub async fn published_routes(db: &Db) -> DbResult<Vec<PublishedRoute>> {
    let q = query(
        "SELECT l.leitweg_id, t.name AS tenant_name, u.name AS unit_name, l.description FROM leitweg_ids l \
         JOIN tenants t ON t.id = l.tenant_id JOIN org_units u ON u.id = l.org_unit_id ORDER BY t.name, l.leitweg_id",
    );
    db.fetch_all(q)
        .await?
        .iter()
        .map(|r| {
            Ok(PublishedRoute {
                leitweg_id: r.get("leitweg_id")?,
                tenant: r.get("tenant_name")?,
                unit: r.get("unit_name")?,
                description: r.get("description")?,
            })
        })
        .collect()
}

pub async fn insert_route(
    tx: &mut Tx,
    tenant: TenantId,
    leitweg_id: &str,
    unit: OrgUnitId,
    description: &str,
    now: Timestamp,
) -> DbResult<i64> {
    let row = tx
        .fetch_one(
            query(
                "INSERT INTO leitweg_ids (leitweg_id, tenant_id, org_unit_id, description, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(leitweg_id)
            .bind(tenant)
            .bind(unit)
            .bind(description)
            .bind(now),
        )
        .await?;
    row.get("id")
}

/// Locks the route's row until the transaction ends, so that two intakes to the same
/// Leitweg-ID check for duplicates one after the other (a row lock on PostgreSQL; SQLite's
/// writers are serialised anyway).
pub async fn lock_route(tx: &mut Tx, id: i64) -> DbResult<()> {
    tx.execute(query("UPDATE leitweg_ids SET description = description WHERE id = $1").bind(id)).await.map(drop)
}

/// Removes a route of the tenant; the invoices it routed keep their Leitweg-ID as text.
pub async fn delete_route(tx: &mut Tx, tenant: TenantId, id: i64) -> DbResult<Option<String>> {
    let row = tx
        .fetch_optional(
            query("DELETE FROM leitweg_ids WHERE id = $1 AND tenant_id = $2 RETURNING leitweg_id")
                .bind(id)
                .bind(tenant),
        )
        .await?;
    row.map(|r| r.get("leitweg_id")).transpose()
}

// ---- invoices ----

const INVOICE_COLUMNS: &str = "id, tenant_id, org_unit_id, leitweg_id, channel, sender, blob_sha256, rendering_sha256, size, syntax, \
    scenario, verdict, findings, invoice_number, issue_date, seller_name, seller_key, currency, total_cents, \
    due_cents, due_date, skonto, skonto_until, duplicate_of, status, status_note, export_id, paid_on, paid_cents, \
    created_at";

fn invoice_from(r: &Row) -> DbResult<StoredInvoice> {
    let findings: String = r.get("findings")?;
    let skonto: Option<String> = r.get("skonto")?;
    let status: String = r.get("status")?;
    Ok(StoredInvoice {
        id: r.get("id")?,
        tenant: TenantId(r.get("tenant_id")?),
        org_unit: OrgUnitId(r.get("org_unit_id")?),
        leitweg_id: r.get("leitweg_id")?,
        channel: Channel::parse(&r.get::<String>("channel")?),
        sender: r.get("sender")?,
        blob_sha256: r.get("blob_sha256")?,
        rendering_sha256: r.get("rendering_sha256")?,
        size: r.get("size")?,
        syntax: r.get("syntax")?,
        scenario: r.get("scenario")?,
        verdict: r.get("verdict")?,
        // Written by this crate as JSON; an unreadable value shows as no findings.
        findings: serde_json::from_str(&findings).unwrap_or_default(),
        invoice_number: r.get("invoice_number")?,
        issue_date: r.get("issue_date")?,
        seller_name: r.get("seller_name")?,
        seller_key: r.get("seller_key")?,
        currency: r.get("currency")?,
        total_cents: r.get("total_cents")?,
        due_cents: r.get("due_cents")?,
        due_date: r.get("due_date")?,
        skonto: skonto.and_then(|s| serde_json::from_str(&s).ok()),
        skonto_until: r.get("skonto_until")?,
        duplicate_of: r.get("duplicate_of")?,
        status: Status::parse(&status).unwrap_or(Status::Received),
        status_note: r.get("status_note")?,
        export_id: r.get("export_id")?,
        paid_on: r.get("paid_on")?,
        paid_cents: r.get("paid_cents")?,
        created_at: Timestamp::from_millis(r.get("created_at")?),
    })
}

fn skonto_json(s: &Skonto) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Stores a new invoice and returns its id.
pub async fn insert_invoice(tx: &mut Tx, i: &StoredInvoice, now: Timestamp) -> DbResult<i64> {
    let findings = serde_json::to_string(&i.findings).unwrap_or_else(|_| "[]".into());
    let row = tx
        .fetch_one(
            query(
                "INSERT INTO invoices (tenant_id, org_unit_id, leitweg_id, channel, sender, blob_sha256, size, syntax, \
                 scenario, verdict, findings, invoice_number, issue_date, seller_name, seller_key, currency, total_cents, \
                 due_cents, due_date, skonto, skonto_until, duplicate_of, status, status_note, created_at, updated_at, \
                 rendering_sha256, search_text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
                 $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $25, $26, $27) RETURNING id",
            )
            .bind(i.tenant)
            .bind(i.org_unit)
            .bind(&i.leitweg_id)
            .bind(i.channel.as_str())
            .bind(&i.sender)
            .bind(&i.blob_sha256)
            .bind(i.size)
            .bind(&i.syntax)
            .bind(&i.scenario)
            .bind(&i.verdict)
            .bind(findings)
            .bind(&i.invoice_number)
            .bind(&i.issue_date)
            .bind(&i.seller_name)
            .bind(&i.seller_key)
            .bind(&i.currency)
            .bind(i.total_cents)
            .bind(i.due_cents)
            .bind(i.due_date.clone())
            .bind(i.skonto.as_ref().map(skonto_json))
            .bind(i.skonto_until.clone())
            .bind(i.duplicate_of)
            .bind(i.status.as_str())
            .bind(&i.status_note)
            .bind(now)
            .bind(i.rendering_sha256.clone())
            .bind(search_text(&i.seller_name, &i.invoice_number, &i.leitweg_id)),
        )
        .await?;
    row.get("id")
}

pub async fn invoice(db: &Db, tenant: TenantId, id: i64) -> DbResult<Option<StoredInvoice>> {
    let sql = format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE tenant_id = $1 AND id = $2");
    db.fetch_optional(query_owned(sql).bind(tenant).bind(id)).await?.as_ref().map(invoice_from).transpose()
}

/// The invoices of the tenant among `ids` (in any order; unknown ids are left out), read 500 at
/// a time.
pub async fn invoices(db: &Db, tenant: TenantId, ids: &[i64]) -> DbResult<Vec<StoredInvoice>> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let params: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
        let sql =
            format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE tenant_id = $1 AND id IN ({})", params.join(", "));
        let q = chunk.iter().fold(query_owned(sql).bind(tenant), |q, id| q.bind(*id));
        for row in db.fetch_all(q).await? {
            found.push(invoice_from(&row)?);
        }
    }
    Ok(found)
}

/// The invoice with these bytes in the tenant, if it came before.
pub async fn by_hash(db: &Db, tenant: TenantId, sha256: &str) -> DbResult<Option<StoredInvoice>> {
    let sql = format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE tenant_id = $1 AND blob_sha256 = $2");
    db.fetch_optional(query_owned(sql).bind(tenant).bind(sha256)).await?.as_ref().map(invoice_from).transpose()
}

/// Whether any tenant holds these bytes (the drop folder's idempotency check).
pub async fn hash_known(db: &Db, sha256: &str) -> DbResult<bool> {
    Ok(db.fetch_optional(query("SELECT id FROM invoices WHERE blob_sha256 = $1").bind(sha256)).await?.is_some())
}

/// An earlier valid invoice of the same seller with the same number, total and date that was
/// not set aside: the one a new invoice duplicates.
pub async fn find_duplicate(
    tx: &mut Tx,
    tenant: TenantId,
    seller_key: &str,
    number: &str,
    total_cents: i64,
    issue_date: &str,
) -> DbResult<Option<i64>> {
    let row = tx
        .fetch_optional(
            query(
                "SELECT id FROM invoices WHERE tenant_id = $1 AND seller_key = $2 AND invoice_number = $3 \
                 AND total_cents = $4 AND issue_date = $5 AND status NOT IN ('rejected', 'dismissed') ORDER BY id LIMIT 1",
            )
            .bind(tenant)
            .bind(seller_key)
            .bind(number)
            .bind(total_cents)
            .bind(issue_date),
        )
        .await?;
    row.map(|r| r.get("id")).transpose()
}

/// The invoices of a tenant (of one unit when `unit` is given), newest first, at most `limit`.
pub async fn list(
    db: &Db,
    tenant: TenantId,
    unit: Option<OrgUnitId>,
    status: Option<Status>,
    limit: i64,
) -> DbResult<Vec<StoredInvoice>> {
    let status = status.map_or(StatusFilter::All, StatusFilter::Only);
    let q = InboxQuery { status, limit, ..InboxQuery::default() };
    Ok(search(db, tenant, unit, &q).await?.0)
}

/// One page of the inbox as `q` asks, and how many invoices match in all.
pub async fn search(
    db: &Db,
    tenant: TenantId,
    unit: Option<OrgUnitId>,
    q: &InboxQuery,
) -> DbResult<(Vec<StoredInvoice>, i64)> {
    let mut conditions = String::from("tenant_id = $1 AND ($2 IS NULL OR org_unit_id = $2)");
    let mut binds: Vec<kernel::db::Value> = vec![tenant.into(), unit.into()];
    match q.status {
        StatusFilter::All => {}
        StatusFilter::Open => {
            let open: Vec<String> =
                Status::ALL.iter().filter(|s| s.is_open()).map(|s| format!("'{}'", s.as_str())).collect();
            conditions.push_str(&format!(" AND status IN ({})", open.join(", ")));
        }
        StatusFilter::Only(status) => {
            binds.push(status.as_str().into());
            conditions.push_str(&format!(" AND status = ${}", binds.len()));
        }
    }
    let text = q.text.trim().to_lowercase();
    if !text.is_empty() {
        binds.push(kernel::db::contains_pattern(&text).into());
        let p = binds.len();
        conditions.push_str(&format!(" AND search_text LIKE ${p} ESCAPE '\\'"));
    }
    let order = match q.order {
        InboxOrder::Newest => "id DESC",
        InboxOrder::Deadline => "COALESCE(skonto_until, due_date) IS NULL, COALESCE(skonto_until, due_date), id DESC",
    };
    let with = |sql: String| binds.iter().cloned().fold(query_owned(sql), kernel::db::Query::bind);
    let count = db.fetch_one(with(format!("SELECT COUNT(*) AS n FROM invoices WHERE {conditions}"))).await?;
    let page = format!(
        "SELECT {INVOICE_COLUMNS} FROM invoices WHERE {conditions} ORDER BY {order} LIMIT {} OFFSET {}",
        q.limit.max(0),
        q.offset.max(0)
    );
    let rows = db.fetch_all(with(page)).await?;
    Ok((rows.iter().map(invoice_from).collect::<DbResult<_>>()?, count.get("n")?))
}

/// Invoices a sender sent to any tenant, newest first.
pub async fn sent_by(db: &Db, sender: &str, limit: i64) -> DbResult<Vec<StoredInvoice>> {
    let sql = format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE sender = $1 ORDER BY id DESC LIMIT $2");
    db.fetch_all(query_owned(sql).bind(sender).bind(limit)).await?.iter().map(invoice_from).collect()
}

/// One invoice of a sender.
pub async fn sent_one(db: &Db, sender: &str, id: i64) -> DbResult<Option<StoredInvoice>> {
    let sql = format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE sender = $1 AND id = $2");
    db.fetch_optional(query_owned(sql).bind(sender).bind(id)).await?.as_ref().map(invoice_from).transpose()
}

/// Moves an invoice, as read, from status `from` to `to`; false when it is no longer in `from`
/// or no longer in the unit it was read in (handed on meanwhile).
pub async fn set_status(
    tx: &mut Tx,
    invoice: &StoredInvoice,
    from: Status,
    to: Status,
    note: &str,
    now: Timestamp,
) -> DbResult<bool> {
    let n = tx
        .execute(
            query(
                "UPDATE invoices SET status = $4, status_note = $5, updated_at = $6 \
                 WHERE tenant_id = $1 AND id = $2 AND status = $3 AND org_unit_id = $7",
            )
            .bind(invoice.tenant)
            .bind(invoice.id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(note)
            .bind(now)
            .bind(invoice.org_unit),
        )
        .await?;
    Ok(n == 1)
}

/// Marks an exported invoice paid; false when it is not (or no longer) exported.
pub async fn mark_paid(tx: &mut Tx, tenant: TenantId, payment: &Payment, now: Timestamp) -> DbResult<bool> {
    let n = tx
        .execute(
            query(
                "UPDATE invoices SET status = $3, paid_on = $4, paid_cents = $5, updated_at = $6 \
                 WHERE tenant_id = $1 AND id = $2 AND status = $7",
            )
            .bind(tenant)
            .bind(payment.invoice)
            .bind(Status::Paid.as_str())
            .bind(&payment.paid_on)
            .bind(payment.cents)
            .bind(now)
            .bind(Status::Exported.as_str()),
        )
        .await?;
    Ok(n == 1)
}

// ---- sign-offs ----

pub async fn approvals(db: &Db, id: i64) -> DbResult<Vec<Approval>> {
    let rows = db
        .fetch_all(
            query(
                "SELECT step, staff_id, staff_name, note, created_at FROM invoice_approvals WHERE invoice_id = $1 ORDER BY created_at",
            )
            .bind(id),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Approval {
                step: Step::parse(&r.get::<String>("step")?).unwrap_or(Step::Factual),
                staff: StaffId(r.get("staff_id")?),
                staff_name: r.get("staff_name")?,
                note: r.get("note")?,
                at: Timestamp::from_millis(r.get("created_at")?),
            })
        })
        .collect()
}

pub async fn insert_approval(tx: &mut Tx, id: i64, a: &Approval) -> DbResult<()> {
    tx.execute(
        query(
            "INSERT INTO invoice_approvals (invoice_id, step, staff_id, staff_name, note, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(a.step.as_str())
        .bind(a.staff)
        .bind(&a.staff_name)
        .bind(&a.note)
        .bind(a.at),
    )
    .await
    .map(drop)
}

// ---- hand-overs between org units ----

/// Moves an invoice, as read, to another org unit of its tenant; false when it is no longer in
/// its unit and status (a sign-off or another hand-over came first).
pub async fn move_to_unit(tx: &mut Tx, invoice: &StoredInvoice, to: OrgUnitId, now: Timestamp) -> DbResult<bool> {
    let n = tx
        .execute(
            query(
                "UPDATE invoices SET org_unit_id = $5, updated_at = $6 \
                 WHERE tenant_id = $1 AND id = $2 AND org_unit_id = $3 AND status = $4",
            )
            .bind(invoice.tenant)
            .bind(invoice.id)
            .bind(invoice.org_unit)
            .bind(invoice.status.as_str())
            .bind(to)
            .bind(now),
        )
        .await?;
    Ok(n == 1)
}

/// Records a hand-over (`staff`, `staff_name`: who handed it on).
pub async fn insert_forward(
    tx: &mut Tx,
    id: i64,
    (from, to): (OrgUnitId, OrgUnitId),
    (staff, staff_name): (StaffId, &str),
    note: &str,
    now: Timestamp,
) -> DbResult<()> {
    tx.execute(
        query(
            "INSERT INTO invoice_forwards (invoice_id, from_unit_id, to_unit_id, staff_id, staff_name, note, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(staff)
        .bind(staff_name)
        .bind(note)
        .bind(now),
    )
    .await
    .map(drop)
}

/// The hand-overs of an invoice, oldest first, with the units' names.
pub async fn forwards(db: &Db, id: i64) -> DbResult<Vec<Forward>> {
    let rows = db
        .fetch_all(
            query(
                "SELECT f.from_unit_id, a.name AS from_name, f.to_unit_id, b.name AS to_name, f.staff_name, f.note, \
                 f.created_at FROM invoice_forwards f JOIN org_units a ON a.id = f.from_unit_id \
                 JOIN org_units b ON b.id = f.to_unit_id WHERE f.invoice_id = $1 ORDER BY f.created_at",
            )
            .bind(id),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Forward {
                from_unit: OrgUnitId(r.get("from_unit_id")?),
                from_name: r.get("from_name")?,
                to_unit: OrgUnitId(r.get("to_unit_id")?),
                to_name: r.get("to_name")?,
                staff_name: r.get("staff_name")?,
                note: r.get("note")?,
                at: Timestamp::from_millis(r.get("created_at")?),
            })
        })
        .collect()
}

// ---- paper invoices ----

pub async fn insert_capture(tx: &mut Tx, id: i64, c: &PaperCapture) -> DbResult<()> {
    tx.execute(
        query(
            "INSERT INTO invoice_captures (invoice_id, seller_vat_id, seller_iban, staff_id, staff_name) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(&c.seller_vat_id)
        .bind(&c.seller_iban)
        .bind(c.staff)
        .bind(&c.staff_name),
    )
    .await
    .map(drop)
}

/// How a paper invoice was typed in; None for an e-invoice.
pub async fn capture(db: &Db, id: i64) -> DbResult<Option<PaperCapture>> {
    let sql = "SELECT seller_vat_id, seller_iban, staff_id, staff_name FROM invoice_captures WHERE invoice_id = $1";
    let row = db.fetch_optional(query(sql).bind(id)).await?;
    row.map(|r| {
        Ok(PaperCapture {
            seller_vat_id: r.get("seller_vat_id")?,
            seller_iban: r.get("seller_iban")?,
            staff: StaffId(r.get("staff_id")?),
            staff_name: r.get("staff_name")?,
        })
    })
    .transpose()
}

// ---- account assignment ----

const ASSIGNMENT_SQL: &str = "SELECT account, cost_centre, product, amount_cents FROM invoice_assignments WHERE invoice_id = $1 ORDER BY position";

fn lines_from(rows: Vec<Row>) -> DbResult<Vec<AssignmentLine>> {
    rows.iter()
        .map(|r| {
            Ok(AssignmentLine {
                account: r.get("account")?,
                cost_centre: r.get("cost_centre")?,
                product: r.get("product")?,
                amount_cents: r.get("amount_cents")?,
            })
        })
        .collect()
}

pub async fn assignment(db: &Db, id: i64) -> DbResult<Vec<AssignmentLine>> {
    lines_from(db.fetch_all(query(ASSIGNMENT_SQL).bind(id)).await?)
}

/// The assignment of the seller's latest other invoice in the org unit that has one, as
/// assigned there, and that invoice's total.
pub async fn latest_assigned_of_seller(db: &Db, invoice: &StoredInvoice) -> DbResult<Option<(Suggestion, i64)>> {
    let row = db
        .fetch_optional(
            query(
                "SELECT id, invoice_number, issue_date, total_cents FROM invoices i WHERE tenant_id = $1 \
                 AND org_unit_id = $2 AND seller_key = $3 AND id <> $4 \
                 AND EXISTS (SELECT 1 FROM invoice_assignments a WHERE a.invoice_id = i.id) ORDER BY id DESC LIMIT 1",
            )
            .bind(invoice.tenant)
            .bind(invoice.org_unit)
            .bind(&invoice.seller_key)
            .bind(invoice.id),
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let lines = assignment(db, row.get("id")?).await?;
    let suggestion =
        Suggestion { invoice_number: row.get("invoice_number")?, issue_date: row.get("issue_date")?, lines };
    Ok(Some((suggestion, row.get("total_cents")?)))
}

/// Locks the invoice's row for an assignment if its status still allows one (before the
/// payment order) and it is still in the unit it was read in; false if not.
pub async fn lock_if_assignable(tx: &mut Tx, invoice: &StoredInvoice) -> DbResult<bool> {
    let states: Vec<String> = Status::ASSIGNABLE.iter().map(|s| format!("'{}'", s.as_str())).collect();
    let sql = format!(
        "UPDATE invoices SET updated_at = updated_at WHERE tenant_id = $1 AND id = $2 AND org_unit_id = $3 \
         AND status IN ({})",
        states.join(", ")
    );
    let locked = tx.execute(query_owned(sql).bind(invoice.tenant).bind(invoice.id).bind(invoice.org_unit)).await?;
    Ok(locked == 1)
}

/// Replaces the assignment of an invoice.
pub async fn replace_assignment(tx: &mut Tx, id: i64, lines: &[AssignmentLine]) -> DbResult<()> {
    tx.execute(query("DELETE FROM invoice_assignments WHERE invoice_id = $1").bind(id)).await?;
    for (i, l) in lines.iter().enumerate() {
        tx.execute(
            query(
                "INSERT INTO invoice_assignments (invoice_id, position, account, cost_centre, product, amount_cents) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(i as i64 + 1)
            .bind(&l.account)
            .bind(&l.cost_centre)
            .bind(&l.product)
            .bind(l.amount_cents),
        )
        .await?;
    }
    Ok(())
}

// ---- reminders ----

/// Open invoices (of every tenant) whose Skonto deadline or due date falls on or before
/// `until` (ISO date) and that had no reminder of that kind yet.
pub async fn due_for_reminder(db: &Db, kind: &str, until: &str) -> DbResult<Vec<StoredInvoice>> {
    let date_column = if kind == "skonto" { "skonto_until" } else { "due_date" };
    let sql = format!(
        "SELECT {INVOICE_COLUMNS} FROM invoices i WHERE status IN ('received', 'duplicate', 'factually_correct', \
         'arithmetically_correct') AND {date_column} IS NOT NULL AND {date_column} <= $1 AND NOT EXISTS \
         (SELECT 1 FROM invoice_reminders r WHERE r.invoice_id = i.id AND r.kind = $2) ORDER BY id LIMIT 500"
    );
    db.fetch_all(query_owned(sql).bind(until).bind(kind)).await?.iter().map(invoice_from).collect()
}

/// Records a reminder; false when one of this kind was recorded already (another node).
pub async fn insert_reminder(tx: &mut Tx, id: i64, kind: &str, now: Timestamp) -> DbResult<bool> {
    let n = tx
        .execute(
            query("INSERT INTO invoice_reminders (invoice_id, kind, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(kind)
                .bind(now),
        )
        .await?;
    Ok(n == 1)
}

// ---- booking export ----

/// Ordered invoices of the tenant not yet exported, oldest first.
pub async fn ready_for_export(db: &Db, tenant: TenantId) -> DbResult<Vec<StoredInvoice>> {
    let sql = format!(
        "SELECT {INVOICE_COLUMNS} FROM invoices WHERE tenant_id = $1 AND status = 'ordered' AND export_id IS NULL ORDER BY id"
    );
    db.fetch_all(query_owned(sql).bind(tenant)).await?.iter().map(invoice_from).collect()
}

/// Records an export of these invoices and marks each exported, if each is still ordered and
/// not exported; `None` (and the caller drops the transaction) when one is not any more.
pub async fn insert_export(
    tx: &mut Tx,
    tenant: TenantId,
    staff: StaffId,
    ids: &[i64],
    blob_sha256: &str,
    now: Timestamp,
) -> DbResult<Option<i64>> {
    let row = tx
        .fetch_one(
            query(
                "INSERT INTO invoice_exports (tenant_id, staff_id, invoices, blob_sha256, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(tenant)
            .bind(staff)
            .bind(ids.len() as i64)
            .bind(blob_sha256)
            .bind(now),
        )
        .await?;
    let export: i64 = row.get("id")?;
    for id in ids {
        let marked = tx
            .execute(
                query(
                    "UPDATE invoices SET status = 'exported', export_id = $3, updated_at = $4 \
                     WHERE tenant_id = $1 AND id = $2 AND status = 'ordered' AND export_id IS NULL",
                )
                .bind(tenant)
                .bind(*id)
                .bind(export)
                .bind(now),
            )
            .await?;
        if marked != 1 {
            return Ok(None);
        }
    }
    Ok(Some(export))
}

/// A booking export of the tenant: its file's hash.
pub async fn export_blob(db: &Db, tenant: TenantId, id: i64) -> DbResult<Option<String>> {
    let row = db
        .fetch_optional(
            query("SELECT blob_sha256 FROM invoice_exports WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(id),
        )
        .await?;
    row.map(|r| r.get("blob_sha256")).transpose()
}

/// The tenant's booking exports, newest first: (id, invoices, created_at).
pub async fn exports(db: &Db, tenant: TenantId) -> DbResult<Vec<(i64, i64, Timestamp)>> {
    let rows = db
        .fetch_all(
            query(
                "SELECT id, invoices, created_at FROM invoice_exports WHERE tenant_id = $1 ORDER BY id DESC LIMIT 50",
            )
            .bind(tenant),
        )
        .await?;
    rows.iter().map(|r| Ok((r.get("id")?, r.get("invoices")?, Timestamp::from_millis(r.get("created_at")?)))).collect()
}
