//! The forms' SQL: form versions, submissions with their files and status history.

use kernel::{CitizenId, Db, DbResult, OrgUnitId, Row, StaffId, TenantId, Timestamp, Tx, query};

use crate::model::{Draft, FormStatus, FormVersion, Status, StoredFile, Submission, SubmissionEvent};

const VERSION_COLUMNS: &str =
    "id, tenant_id, form_id, version, status, definition, service_slug, org_unit_id, created_at, published_at";

fn version_from(r: &Row) -> DbResult<FormVersion> {
    let definition: String = r.get("definition")?;
    let status: String = r.get("status")?;
    Ok(FormVersion {
        id: r.get("id")?,
        tenant: TenantId(r.get("tenant_id")?),
        form_id: r.get("form_id")?,
        version: r.get("version")?,
        status: FormStatus::parse(&status),
        // Only checked definitions are stored; an unreadable one shows as empty.
        definition: serde_json::from_str(&definition).ok(),
        definition_json: definition,
        service_slug: r.get("service_slug")?,
        org_unit: r.get::<Option<i64>>("org_unit_id")?.map(OrgUnitId),
        created_at: Timestamp::from_millis(r.get("created_at")?),
        published_at: r.get::<Option<i64>>("published_at")?.map(Timestamp::from_millis),
    })
}

/// Every version of every form of a tenant, newest version first per form.
pub async fn versions_of_tenant(db: &Db, tenant: TenantId) -> DbResult<Vec<FormVersion>> {
    let sql =
        format!("SELECT {VERSION_COLUMNS} FROM form_versions WHERE tenant_id = $1 ORDER BY form_id, version DESC");
    db.fetch_all(kernel::query_owned(sql).bind(tenant)).await?.iter().map(version_from).collect()
}

/// The versions of one form, newest first.
pub async fn versions(db: &Db, tenant: TenantId, form_id: &str) -> DbResult<Vec<FormVersion>> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM form_versions WHERE tenant_id = $1 AND form_id = $2 ORDER BY version DESC"
    );
    db.fetch_all(kernel::query_owned(sql).bind(tenant).bind(form_id)).await?.iter().map(version_from).collect()
}

/// The versions of one form, newest first, as the transaction sees them.
pub async fn versions_in(tx: &mut Tx, tenant: TenantId, form_id: &str) -> DbResult<Vec<FormVersion>> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM form_versions WHERE tenant_id = $1 AND form_id = $2 ORDER BY version DESC"
    );
    tx.fetch_all(kernel::query_owned(sql).bind(tenant).bind(form_id)).await?.iter().map(version_from).collect()
}

/// One version of a form.
pub async fn version(db: &Db, tenant: TenantId, form_id: &str, version: i64) -> DbResult<Option<FormVersion>> {
    let sql =
        format!("SELECT {VERSION_COLUMNS} FROM form_versions WHERE tenant_id = $1 AND form_id = $2 AND version = $3");
    db.fetch_optional(kernel::query_owned(sql).bind(tenant).bind(form_id).bind(version))
        .await?
        .map(|r| version_from(&r))
        .transpose()
}

/// The published versions across tenants (and the closed ones with `with_closed`), optionally
/// of one form id, newest version first per tenant and form: what the API lists.
pub async fn online_versions(db: &Db, form_id: Option<&str>, with_closed: bool) -> DbResult<Vec<FormVersion>> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM form_versions WHERE ($1 = '' OR form_id = $1) AND (status = $2 OR status = $3) \
         ORDER BY tenant_id, form_id, version DESC"
    );
    let closed = if with_closed { FormStatus::Closed } else { FormStatus::Published };
    let q = kernel::query_owned(sql)
        .bind(form_id.unwrap_or_default())
        .bind(FormStatus::Published.as_str())
        .bind(closed.as_str());
    db.fetch_all(q).await?.iter().map(version_from).collect()
}

/// Adds a new draft version.
pub async fn insert_draft(tx: &mut Tx, v: &FormVersion, now: Timestamp) -> DbResult<()> {
    tx.execute(
        query(
            "INSERT INTO form_versions (tenant_id, form_id, version, status, definition, service_slug, org_unit_id, \
             created_at, updated_at) VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $7)",
        )
        .bind(v.tenant)
        .bind(&v.form_id)
        .bind(v.version)
        .bind(&v.definition_json)
        .bind(v.service_slug.as_deref())
        .bind(v.org_unit)
        .bind(now),
    )
    .await
    .map(drop)
}

/// Replaces the definition of a draft version; 0 when the version is no draft (any more).
pub async fn update_draft(
    tx: &mut Tx,
    tenant: TenantId,
    form_id: &str,
    version: i64,
    json: &str,
    now: Timestamp,
) -> DbResult<u64> {
    tx.execute(
        query(
            "UPDATE form_versions SET definition = $4, updated_at = $5 \
             WHERE tenant_id = $1 AND form_id = $2 AND version = $3 AND status = 'draft'",
        )
        .bind(tenant)
        .bind(form_id)
        .bind(version)
        .bind(json)
        .bind(now),
    )
    .await
}

/// Sets a version's status (publishing stamps the time).
pub async fn set_status(
    tx: &mut Tx,
    tenant: TenantId,
    form_id: &str,
    version: i64,
    status: FormStatus,
    now: Timestamp,
) -> DbResult<u64> {
    tx.execute(
        query(
            "UPDATE form_versions SET status = $4, updated_at = $5, \
             published_at = CASE WHEN $4 = 'published' THEN $5 ELSE published_at END \
             WHERE tenant_id = $1 AND form_id = $2 AND version = $3",
        )
        .bind(tenant)
        .bind(form_id)
        .bind(version)
        .bind(status.as_str())
        .bind(now),
    )
    .await
}

/// Where a form belongs: its service and the org unit whose inbox receives it (all versions).
pub async fn set_placement(
    tx: &mut Tx,
    tenant: TenantId,
    form_id: &str,
    service: Option<&str>,
    unit: Option<OrgUnitId>,
    now: Timestamp,
) -> DbResult<u64> {
    tx.execute(
        query(
            "UPDATE form_versions SET service_slug = $3, org_unit_id = $4, updated_at = $5 \
             WHERE tenant_id = $1 AND form_id = $2",
        )
        .bind(tenant)
        .bind(form_id)
        .bind(service)
        .bind(unit)
        .bind(now),
    )
    .await
}

const SUBMISSION_COLUMNS: &str = "id, tenant_id, form_id, version, tracking_id, data, data_sha256, fee_cents, \
                                  applicant_email, status_secret_sha256, org_unit_id, assigned_to, status, citizen_id, receipt_token, \
                                  certificate_code, created_at, updated_at";

fn submission_from(r: &Row) -> DbResult<Submission> {
    let status: String = r.get("status")?;
    let data: String = r.get("data")?;
    Ok(Submission {
        id: r.get("id")?,
        tenant: TenantId(r.get("tenant_id")?),
        form_id: r.get("form_id")?,
        version: r.get("version")?,
        tracking_id: r.get("tracking_id")?,
        data: serde_json::from_str(&data).unwrap_or_default(),
        data_sha256: r.get("data_sha256")?,
        fee_cents: r.get("fee_cents")?,
        applicant_email: r.get("applicant_email")?,
        status_secret_sha256: r.get("status_secret_sha256")?,
        org_unit: r.get::<Option<i64>>("org_unit_id")?.map(OrgUnitId),
        assigned_to: r.get::<Option<i64>>("assigned_to")?.map(StaffId),
        status: Status::parse(&status),
        citizen: r.get::<Option<i64>>("citizen_id")?.map(CitizenId),
        receipt_token: r.get::<Option<String>>("receipt_token")?.unwrap_or_default(),
        certificate_code: r.get("certificate_code")?,
        created_at: Timestamp::from_millis(r.get("created_at")?),
        updated_at: Timestamp::from_millis(r.get("updated_at")?),
    })
}

/// The submission sent from one form page (its token), if it was stored already.
pub async fn submission_by_token(tx: &mut Tx, token: &str) -> DbResult<Option<Submission>> {
    let sql = format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE submit_token = $1");
    tx.fetch_optional(kernel::query_owned(sql).bind(token)).await?.map(|r| submission_from(&r)).transpose()
}

/// The submission stored with this token, which must exist.
pub async fn stored_by_token(tx: &mut Tx, token: &str) -> DbResult<Submission> {
    let sql = format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE submit_token = $1");
    submission_from(&tx.fetch_one(kernel::query_owned(sql).bind(token)).await?)
}

pub async fn submission_by_tracking_id(db: &Db, tracking_id: &str) -> DbResult<Option<Submission>> {
    let sql = format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE tracking_id = $1");
    db.fetch_optional(kernel::query_owned(sql).bind(tracking_id)).await?.map(|r| submission_from(&r)).transpose()
}

/// Stores a submission; returns its row id, or None when a submission with this submit token
/// is stored already (a repeated send).
pub async fn insert_submission(tx: &mut Tx, s: &Submission, submit_token: &str) -> DbResult<Option<i64>> {
    let data = serde_json::to_string(&s.data).unwrap_or_default();
    let row = tx
        .fetch_optional(
            query(
                "INSERT INTO submissions (tenant_id, form_id, version, tracking_id, submit_token, data, data_sha256, \
                 fee_cents, applicant_email, status_secret_sha256, org_unit_id, status, citizen_id, receipt_token, \
                 certificate_code, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) \
                 ON CONFLICT (submit_token) DO NOTHING RETURNING id",
            )
            .bind(s.tenant)
            .bind(&s.form_id)
            .bind(s.version)
            .bind(&s.tracking_id)
            .bind(submit_token)
            .bind(data)
            .bind(&s.data_sha256)
            .bind(s.fee_cents)
            .bind(s.applicant_email.as_deref())
            .bind(s.status_secret_sha256.as_deref())
            .bind(s.org_unit)
            .bind(s.status.as_str())
            .bind(s.citizen)
            .bind(&s.receipt_token)
            .bind(s.certificate_code.as_deref())
            .bind(s.created_at),
        )
        .await?;
    row.map(|r| r.get("id")).transpose()
}

pub async fn insert_file(tx: &mut Tx, submission: i64, f: &StoredFile) -> DbResult<()> {
    tx.execute(
        query(
            "INSERT INTO submission_files (submission_id, field, blob_sha256, media_type, size, file_name) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(submission)
        .bind(&f.field)
        .bind(&f.blob_sha256)
        .bind(&f.media_type)
        .bind(f.size)
        .bind(&f.file_name),
    )
    .await
    .map(drop)
}

pub async fn files(db: &Db, submission: i64) -> DbResult<Vec<StoredFile>> {
    let rows = db
        .fetch_all(
            query("SELECT field, blob_sha256, media_type, size, file_name FROM submission_files WHERE submission_id = $1 ORDER BY field")
                .bind(submission),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredFile {
                field: r.get("field")?,
                blob_sha256: r.get("blob_sha256")?,
                media_type: r.get("media_type")?,
                size: r.get("size")?,
                file_name: r.get("file_name")?,
            })
        })
        .collect()
}

pub async fn insert_event(
    tx: &mut Tx,
    submission: i64,
    status: Status,
    note: &str,
    staff: Option<StaffId>,
    now: Timestamp,
) -> DbResult<()> {
    tx.execute(
        query("INSERT INTO submission_events (submission_id, status, note, staff_id, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(submission)
            .bind(status.as_str())
            .bind(note)
            .bind(staff)
            .bind(now),
    )
    .await
    .map(drop)
}

pub async fn events(db: &Db, submission: i64) -> DbResult<Vec<SubmissionEvent>> {
    let rows = db
        .fetch_all(
            query("SELECT status, note, created_at FROM submission_events WHERE submission_id = $1 ORDER BY id")
                .bind(submission),
        )
        .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.get("status")?;
            Ok(SubmissionEvent {
                status: Status::parse(&status),
                note: r.get("note")?,
                at: Timestamp::from_millis(r.get("created_at")?),
            })
        })
        .collect()
}

/// A tenant's submissions for an inbox: of some org units (None: all), optionally in one status,
/// newest first.
pub async fn inbox(
    db: &Db,
    tenant: TenantId,
    units: Option<&[OrgUnitId]>,
    status: Option<Status>,
    assigned: Assigned,
    limit: i64,
) -> DbResult<Vec<Submission>> {
    let mut sql =
        format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE tenant_id = $1 AND ($2 = '' OR status = $2)");
    // Staff ids are numbers from the session, not input: safe to inline.
    match assigned {
        Assigned::Any => {}
        Assigned::To(staff) => sql.push_str(&format!(" AND assigned_to = {}", staff.0)),
        Assigned::Nobody => sql.push_str(" AND assigned_to IS NULL"),
    }
    if let Some(units) = units {
        let ids: Vec<String> = units.iter().map(|u| u.0.to_string()).collect();
        // Ids are numbers from the database, not input: safe to inline.
        sql.push_str(&format!(" AND org_unit_id IN ({})", if ids.is_empty() { "NULL".into() } else { ids.join(", ") }));
    }
    sql.push_str(" ORDER BY created_at DESC, id DESC LIMIT $3");
    let q = kernel::query_owned(sql).bind(tenant).bind(status.map_or("", Status::as_str)).bind(limit);
    db.fetch_all(q).await?.iter().map(submission_from).collect()
}

/// The inbox's assignment filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assigned {
    Any,
    To(StaffId),
    Nobody,
}

/// Assigns a submission to a member of staff, or to nobody.
pub async fn assign(tx: &mut Tx, id: i64, to: Option<StaffId>, now: Timestamp) -> DbResult<u64> {
    tx.execute(
        query("UPDATE submissions SET assigned_to = $2, updated_at = $3 WHERE id = $1").bind(id).bind(to).bind(now),
    )
    .await
}

pub async fn set_submission_status(
    tx: &mut Tx,
    id: i64,
    status: Status,
    assigned: Option<StaffId>,
    now: Timestamp,
) -> DbResult<u64> {
    tx.execute(
        query("UPDATE submissions SET status = $2, assigned_to = COALESCE($3, assigned_to), updated_at = $4 WHERE id = $1")
            .bind(id)
            .bind(status.as_str())
            .bind(assigned)
            .bind(now),
    )
    .await
}

/// A citizen's submissions, newest first ("Meine Anträge").
pub async fn submissions_of_citizen(db: &Db, citizen: CitizenId, limit: i64) -> DbResult<Vec<Submission>> {
    let sql = format!(
        "SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE citizen_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    );
    db.fetch_all(kernel::query_owned(sql).bind(citizen).bind(limit)).await?.iter().map(submission_from).collect()
}

const DRAFT_COLUMNS: &str = "tenant_id, form_id, version, state, step, created_at, updated_at";

fn draft_from(r: &Row) -> DbResult<Draft> {
    Ok(Draft {
        tenant: TenantId(r.get("tenant_id")?),
        form_id: r.get("form_id")?,
        version: r.get("version")?,
        state: r.get("state")?,
        step: r.get("step")?,
        created_at: Timestamp::from_millis(r.get("created_at")?),
        updated_at: Timestamp::from_millis(r.get("updated_at")?),
    })
}

/// Saves (or replaces) a citizen's draft of a form.
pub async fn put_draft(tx: &mut Tx, citizen: CitizenId, d: &Draft) -> DbResult<()> {
    tx.execute(
        query(
            "INSERT INTO form_drafts (citizen_id, tenant_id, form_id, version, state, step, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (citizen_id, tenant_id, form_id) \
             DO UPDATE SET version = $4, state = $5, step = $6, updated_at = $8",
        )
        .bind(citizen)
        .bind(d.tenant)
        .bind(&d.form_id)
        .bind(d.version)
        .bind(&d.state)
        .bind(d.step)
        .bind(d.created_at)
        .bind(d.updated_at),
    )
    .await
    .map(drop)
}

pub async fn draft(db: &Db, citizen: CitizenId, tenant: TenantId, form_id: &str) -> DbResult<Option<Draft>> {
    let sql =
        format!("SELECT {DRAFT_COLUMNS} FROM form_drafts WHERE citizen_id = $1 AND tenant_id = $2 AND form_id = $3");
    db.fetch_optional(kernel::query_owned(sql).bind(citizen).bind(tenant).bind(form_id))
        .await?
        .map(|r| draft_from(&r))
        .transpose()
}

pub async fn drafts(db: &Db, citizen: CitizenId) -> DbResult<Vec<Draft>> {
    let sql = format!("SELECT {DRAFT_COLUMNS} FROM form_drafts WHERE citizen_id = $1 ORDER BY updated_at DESC");
    db.fetch_all(kernel::query_owned(sql).bind(citizen)).await?.iter().map(draft_from).collect()
}

pub async fn delete_draft(tx: &mut Tx, citizen: CitizenId, tenant: TenantId, form_id: &str) -> DbResult<u64> {
    tx.execute(
        query("DELETE FROM form_drafts WHERE citizen_id = $1 AND tenant_id = $2 AND form_id = $3")
            .bind(citizen)
            .bind(tenant)
            .bind(form_id),
    )
    .await
}

pub async fn submission_by_certificate(db: &Db, code: &str) -> DbResult<Option<Submission>> {
    let sql = format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE certificate_code = $1");
    db.fetch_optional(kernel::query_owned(sql).bind(code)).await?.map(|r| submission_from(&r)).transpose()
}

// ---- delivery to a back-office system ----

/// Where a form's submissions are delivered: the URL and the signing secret.
pub async fn delivery_target(db: &Db, tenant: TenantId, form_id: &str) -> DbResult<Option<(String, String)>> {
    let row = db
        .fetch_optional(
            query("SELECT url, secret FROM form_deliveries WHERE tenant_id = $1 AND form_id = $2")
                .bind(tenant)
                .bind(form_id),
        )
        .await?;
    row.map(|r| Ok((r.get("url")?, r.get("secret")?))).transpose()
}

/// Whether the form has a delivery target, read in the submission's transaction.
pub async fn has_delivery_target(tx: &mut Tx, tenant: TenantId, form_id: &str) -> DbResult<bool> {
    let row = tx
        .fetch_optional(
            query("SELECT 1 AS one FROM form_deliveries WHERE tenant_id = $1 AND form_id = $2")
                .bind(tenant)
                .bind(form_id),
        )
        .await?;
    Ok(row.is_some())
}

pub async fn put_delivery_target(
    tx: &mut Tx,
    tenant: TenantId,
    form_id: &str,
    url: &str,
    secret: &str,
    now: Timestamp,
) -> DbResult<()> {
    tx.execute(
        query(
            "INSERT INTO form_deliveries (tenant_id, form_id, url, secret, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, form_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(form_id)
        .bind(url)
        .bind(secret)
        .bind(now),
    )
    .await
    .map(drop)
}

pub async fn delete_delivery_target(tx: &mut Tx, tenant: TenantId, form_id: &str) -> DbResult<u64> {
    tx.execute(query("DELETE FROM form_deliveries WHERE tenant_id = $1 AND form_id = $2").bind(tenant).bind(form_id))
        .await
}

/// How many submissions of a form (any tenant) are stored, and how many files they have: the
/// benchmark's check that nothing acknowledged was lost.
pub async fn stored_with_files(db: &Db, form_id: &str) -> DbResult<(i64, i64)> {
    let row = db
        .fetch_one(
            query(
                "SELECT (SELECT COUNT(*) FROM submissions WHERE form_id = $1) AS stored, \
                 (SELECT COUNT(*) FROM submission_files f JOIN submissions s ON s.id = f.submission_id \
                 WHERE s.form_id = $1) AS files",
            )
            .bind(form_id),
        )
        .await?;
    Ok((row.get("stored")?, row.get("files")?))
}
