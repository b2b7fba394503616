//! The portal's SQL: the service catalogue.

use kernel::{Db, DbResult, Row, StaffId, TenantId, Timestamp, Tx, query};

use crate::catalogue::{Level, Service, list};
use crate::details::{Details, Fee};

fn service_from(r: &Row) -> DbResult<(TenantId, Service)> {
    let level: String = r.get("level")?;
    Ok((
        TenantId(r.get("tenant_id")?),
        Service {
            id: r.get("slug")?,
            name: r.get("name")?,
            summary: r.get("summary")?,
            life_situations: list(&r.get::<String>("life_situations")?),
            business_situations: list(&r.get::<String>("business_situations")?),
            leika: r.get::<Option<String>>("leika")?.unwrap_or_default(),
            level: if level == "county" { Level::County } else { Level::Municipality },
        },
    ))
}

/// Inserts a tenant's service, or updates it when the tenant already has one of that id.
pub async fn upsert_service(tx: &mut Tx, tenant: TenantId, s: &Service, now: Timestamp) -> DbResult<()> {
    tx.execute(
        query(
            "INSERT INTO services (tenant_id, slug, name, summary, life_situations, level, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (tenant_id, slug) DO UPDATE SET name = excluded.name, summary = excluded.summary, \
             life_situations = excluded.life_situations, level = excluded.level, updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(&s.id)
        .bind(&s.name)
        .bind(&s.summary)
        .bind(s.life_situations.join(";"))
        .bind(match s.level {
            Level::County => "county",
            Level::Municipality => "municipality",
        })
        .bind(now),
    )
    .await
    .map(drop)
}

const COLUMNS: &str = "tenant_id, slug, name, summary, life_situations, business_situations, leika, level";

/// Every service of every tenant, by id.
pub async fn all_services(db: &Db) -> DbResult<Vec<(TenantId, Service)>> {
    let sql = format!("SELECT {COLUMNS} FROM services ORDER BY slug, tenant_id");
    db.fetch_all(kernel::query_owned(sql)).await?.iter().map(service_from).collect()
}

/// The tenants that provide one service.
pub async fn providers(db: &Db, slug: &str) -> DbResult<Vec<(TenantId, Service)>> {
    let sql = format!("SELECT {COLUMNS} FROM services WHERE slug = $1 ORDER BY tenant_id");
    db.fetch_all(kernel::query_owned(sql).bind(slug)).await?.iter().map(service_from).collect()
}

/// A fingerprint of the catalogue and its synonym list: changes whenever a service is added or
/// changed, or the list is saved.
pub async fn catalogue_version(db: &Db) -> DbResult<(i64, i64, i64)> {
    let row = db
        .fetch_one(query(
            "SELECT (SELECT COUNT(*) FROM services) AS n, (SELECT COALESCE(MAX(updated_at), 0) FROM services) AS latest, \
             (SELECT COUNT(*) FROM search_synonyms) AS lists",
        ))
        .await?;
    Ok((row.get("n")?, row.get("latest")?, row.get("lists")?))
}

/// The synonym list as the Redaktion last saved it.
pub struct SavedSynonyms {
    pub rules: String,
    pub saved_at: Timestamp,
}

pub async fn latest_synonyms(db: &Db) -> DbResult<Option<SavedSynonyms>> {
    let row = db.fetch_optional(query("SELECT rules, saved_at FROM search_synonyms ORDER BY id DESC LIMIT 1")).await?;
    row.map(|r| Ok(SavedSynonyms { rules: r.get("rules")?, saved_at: Timestamp::from_millis(r.get("saved_at")?) }))
        .transpose()
}

/// Keeps a new version of the synonym list.
pub async fn save_synonyms(tx: &mut Tx, rules: &str, by: StaffId, now: Timestamp) -> DbResult<()> {
    tx.execute(
        query("INSERT INTO search_synonyms (rules, saved_by, saved_at) VALUES ($1, $2, $3)")
            .bind(rules)
            .bind(by)
            .bind(now),
    )
    .await
    .map(drop)
}

fn details_from(r: &Row) -> DbResult<Details> {
    let documents: String = r.get("documents")?;
    let fees: String = r.get("fees")?;
    Ok(Details {
        description: r.get("description")?,
        documents: documents.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect(),
        fees: serde_json::from_str::<Vec<Fee>>(&fees).unwrap_or_default(),
        legal_basis: r.get("legal_basis")?,
        processing_time: r.get("processing_time")?,
        online_url: r.get("online_url")?,
        appointment_url: r.get("appointment_url")?,
        form_url: r.get("form_url")?,
        org_unit: r.get::<Option<i64>>("org_unit_id")?.map(kernel::OrgUnitId),
    })
}

const DETAIL_COLUMNS: &str = "tenant_id, slug, name, summary, life_situations, business_situations, leika, level, \
                              description, documents, fees, legal_basis, processing_time, online_url, \
                              appointment_url, form_url, org_unit_id";

/// One tenant's entry of a service, with its details.
pub async fn service_details(db: &Db, tenant: TenantId, slug: &str) -> DbResult<Option<(Service, Details)>> {
    let sql = format!("SELECT {DETAIL_COLUMNS} FROM services WHERE tenant_id = $1 AND slug = $2");
    let row = db.fetch_optional(kernel::query_owned(sql).bind(tenant).bind(slug)).await?;
    row.map(|r| Ok((service_from(&r)?.1, details_from(&r)?))).transpose()
}

/// A tenant's services with their details, by name.
pub async fn services_of(db: &Db, tenant: TenantId) -> DbResult<Vec<(Service, Details)>> {
    let sql = format!("SELECT {DETAIL_COLUMNS} FROM services WHERE tenant_id = $1 ORDER BY name");
    db.fetch_all(kernel::query_owned(sql).bind(tenant))
        .await?
        .iter()
        .map(|r| Ok((service_from(r)?.1, details_from(r)?)))
        .collect()
}

/// Saves what an editor changed of a tenant's service.
pub async fn update_service(tx: &mut Tx, tenant: TenantId, s: &Service, d: &Details, now: Timestamp) -> DbResult<u64> {
    tx.execute(
        query(
            "UPDATE services SET name = $3, summary = $4, description = $5, documents = $6, fees = $7, legal_basis = $8, \
             processing_time = $9, online_url = $10, org_unit_id = $11, updated_at = $12, leika = $13, \
             life_situations = $14, business_situations = $15, appointment_url = $16, form_url = $17 \
             WHERE tenant_id = $1 AND slug = $2",
        )
        .bind(tenant)
        .bind(&s.id)
        .bind(&s.name)
        .bind(&s.summary)
        .bind(&d.description)
        .bind(d.documents.join("\n"))
        .bind(serde_json::to_string(&d.fees).unwrap_or_else(|_| "[]".into()))
        .bind(&d.legal_basis)
        .bind(&d.processing_time)
        .bind(&d.online_url)
        .bind(d.org_unit)
        .bind(now)
        .bind(Some(s.leika.as_str()).filter(|k| !k.is_empty()))
        .bind(s.life_situations.join(";"))
        .bind(s.business_situations.join(";"))
        .bind(&d.appointment_url)
        .bind(&d.form_url),
    )
    .await
}

/// Writes a tenant's entry of a service with all its details, adding it when it is new.
/// Returns true when it was added.
pub async fn put_service(tx: &mut Tx, tenant: TenantId, s: &Service, d: &Details, now: Timestamp) -> DbResult<bool> {
    let exists = tx
        .fetch_optional(query("SELECT id FROM services WHERE tenant_id = $1 AND slug = $2").bind(tenant).bind(&s.id))
        .await?
        .is_some();
    if !exists {
        upsert_service(tx, tenant, s, now).await?;
    }
    update_service(tx, tenant, s, d, now).await?;
    Ok(!exists)
}

/// Points a service's online application at a form of this platform (`/antrag/…`), or removes
/// that link (`""`); an external online service an editor entered is left alone.
pub async fn set_platform_form(tx: &mut Tx, tenant: TenantId, slug: &str, path: &str) -> DbResult<u64> {
    tx.execute(
        query(
            "UPDATE services SET online_url = $3 WHERE tenant_id = $1 AND slug = $2 \
             AND (online_url = '' OR online_url LIKE '/antrag/%')",
        )
        .bind(tenant)
        .bind(slug)
        .bind(path),
    )
    .await
}
