//! The open data SQL: datasets, distributions, groups and the history of changes.

use kernel::{Db, DbResult, Row, StaffId, TenantId, Timestamp, Tx, query, query_owned};

use crate::model::{Change, Dataset, Distribution, DistributionKind, Group, Metadata, StoredFile};

const DATASET_COLUMNS: &str = "id, tenant_id, uuid, name, metadata, published, privacy_confirmed_at, \
     privacy_confirmed_by, created_at, modified_at, published_at";

fn dataset_from(r: &Row) -> DbResult<Dataset> {
    let metadata: String = r.get("metadata")?;
    let confirmed_at: Option<i64> = r.get("privacy_confirmed_at")?;
    let confirmed_by: Option<i64> = r.get("privacy_confirmed_by")?;
    Ok(Dataset {
        id: r.get("id")?,
        uuid: r.get("uuid")?,
        tenant: TenantId(r.get("tenant_id")?),
        name: r.get("name")?,
        // Only checked metadata is stored; an unreadable document shows as empty.
        meta: serde_json::from_str(&metadata).unwrap_or_default(),
        published: r.get("published")?,
        privacy_confirmed: confirmed_at.zip(confirmed_by).map(|(at, by)| (Timestamp::from_millis(at), StaffId(by))),
        created_at: Timestamp::from_millis(r.get("created_at")?),
        modified_at: Timestamp::from_millis(r.get("modified_at")?),
        published_at: r.get::<Option<i64>>("published_at")?.map(Timestamp::from_millis),
        distributions: Vec::new(),
        groups: Vec::new(),
    })
}

/// JSON of a plain struct or list of strings: serialising these cannot fail.
fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

const DIST_COLUMNS: &str = "id, uuid, dataset_id, position, kind, title, description, format, url, blob_sha256, \
     media_type, byte_size, datastore_resource, created_at, modified_at";

fn distribution_from(r: &Row) -> DbResult<Distribution> {
    let kind: String = r.get("kind")?;
    let sha: Option<String> = r.get("blob_sha256")?;
    Ok(Distribution {
        id: r.get("id")?,
        uuid: r.get("uuid")?,
        dataset_id: r.get("dataset_id")?,
        position: r.get("position")?,
        kind: DistributionKind::parse(&kind).unwrap_or(DistributionKind::Link),
        title: r.get("title")?,
        description: r.get("description")?,
        format: r.get("format")?,
        url: r.get("url")?,
        file: match sha {
            Some(sha256) => Some(StoredFile {
                sha256,
                media_type: r.get::<Option<String>>("media_type")?.unwrap_or_default(),
                size: r.get::<Option<i64>>("byte_size")?.unwrap_or(0),
            }),
            None => None,
        },
        datastore_resource: r.get("datastore_resource")?,
        created_at: Timestamp::from_millis(r.get("created_at")?),
        modified_at: Timestamp::from_millis(r.get("modified_at")?),
    })
}

/// Which datasets to read.
pub enum Filter<'a> {
    /// All datasets of a tenant, drafts included (the editor).
    Tenant(TenantId),
    /// Published datasets of every tenant (the public portal, CKAN, DCAT).
    Published,
    /// A page of them, newest change first: (limit, offset).
    PublishedPage(i64, i64),
    /// The published datasets of one tenant.
    PublishedOf(TenantId),
    /// One dataset by tenant and name, published or not.
    Named(TenantId, &'a str),
    /// One dataset by UUID or by name, published, of any tenant (CKAN `id`).
    PublishedRef(&'a str),
}

/// Datasets with their distributions and groups, newest change first.
pub async fn datasets(db: &Db, filter: Filter<'_>) -> DbResult<Vec<Dataset>> {
    // Public reads show only published datasets of active publishers ($1 is TRUE for both).
    const PUBLIC: &str = "published = $1 AND tenant_id IN (SELECT id FROM tenants WHERE active = $1)";
    let (sql_where, binds): (String, Vec<kernel::Value>) = match filter {
        Filter::Tenant(t) => ("tenant_id = $1".into(), vec![t.into()]),
        Filter::Published => (PUBLIC.into(), vec![true.into()]),
        Filter::PublishedPage(limit, offset) => (
            format!("{PUBLIC} ORDER BY modified_at DESC, id LIMIT $2 OFFSET $3"),
            vec![true.into(), limit.into(), offset.into()],
        ),
        Filter::PublishedOf(t) => (format!("{PUBLIC} AND tenant_id = $2"), vec![true.into(), t.into()]),
        Filter::Named(t, name) => ("tenant_id = $1 AND name = $2".into(), vec![t.into(), name.into()]),
        Filter::PublishedRef(r) => (format!("{PUBLIC} AND (uuid = $2 OR name = $2)"), vec![true.into(), r.into()]),
    };
    // A page's clause already orders; the others are ordered here.
    let order = if sql_where.contains("ORDER BY") { "" } else { " ORDER BY modified_at DESC, id" };
    let sql = format!("SELECT {DATASET_COLUMNS} FROM opendata_datasets WHERE {sql_where}{order}");
    let mut q = query_owned(sql);
    for b in binds.iter().cloned() {
        q = q.bind(b);
    }
    let mut sets: Vec<Dataset> = db.fetch_all(q).await?.iter().map(dataset_from).collect::<DbResult<_>>()?;
    if sets.is_empty() {
        return Ok(sets);
    }
    // The children of these datasets, read in one statement each (same filter, joined).
    let dist_sql = format!(
        "SELECT {} FROM opendata_distributions d WHERE dataset_id IN (SELECT id FROM opendata_datasets WHERE {sql_where}) \
         ORDER BY dataset_id, position",
        DIST_COLUMNS.split(", ").map(|c| format!("d.{c}")).collect::<Vec<_>>().join(", ")
    );
    let mut q = query_owned(dist_sql);
    for b in binds.iter().cloned() {
        q = q.bind(b);
    }
    let at: std::collections::HashMap<i64, usize> = sets.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    for r in db.fetch_all(q).await? {
        let d = distribution_from(&r)?;
        if let Some(&i) = at.get(&d.dataset_id) {
            sets[i].distributions.push(d);
        }
    }
    let group_sql = format!(
        "SELECT dg.dataset_id, g.name FROM opendata_dataset_groups dg JOIN opendata_groups g ON g.id = dg.group_id \
         WHERE dg.dataset_id IN (SELECT id FROM opendata_datasets WHERE {sql_where}) ORDER BY g.name"
    );
    let mut q = query_owned(group_sql);
    for b in binds {
        q = q.bind(b);
    }
    for r in db.fetch_all(q).await? {
        if let Some(&i) = at.get(&r.get::<i64>("dataset_id")?) {
            sets[i].groups.push(r.get("name")?);
        }
    }
    Ok(sets)
}

/// The newest entry of any dataset's history: every change of a dataset writes one, so a
/// different value means the published catalogue may have changed.
pub async fn change_mark(db: &Db) -> DbResult<i64> {
    let r = db.fetch_one(query("SELECT COALESCE(MAX(id), 0) AS n FROM opendata_changes")).await?;
    r.get("n")
}

/// How many datasets are published (by active publishers).
pub async fn published_count(db: &Db) -> DbResult<i64> {
    let r = db
        .fetch_one(
            query(
                "SELECT COUNT(*) AS n FROM opendata_datasets \
                 WHERE published = $1 AND tenant_id IN (SELECT id FROM tenants WHERE active = $1)",
            )
            .bind(true),
        )
        .await?;
    r.get("n")
}

/// The names of the published datasets, sorted.
pub async fn published_names(db: &Db) -> DbResult<Vec<String>> {
    let rows = db
        .fetch_all(
            query(
                "SELECT name FROM opendata_datasets \
                 WHERE published = $1 AND tenant_id IN (SELECT id FROM tenants WHERE active = $1) ORDER BY name",
            )
            .bind(true),
        )
        .await?;
    rows.iter().map(|r| r.get("name")).collect()
}

/// Adds a dataset (unpublished); returns its id.
pub async fn insert_dataset(
    tx: &mut Tx,
    tenant: TenantId,
    uuid: &str,
    name: &str,
    meta: &Metadata,
    now: Timestamp,
) -> DbResult<i64> {
    let json = to_json(meta);
    let r = tx
        .fetch_one(
            query(
                "INSERT INTO opendata_datasets (tenant_id, uuid, name, title, metadata, published, created_at, modified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            )
            .bind(tenant)
            .bind(uuid)
            .bind(name)
            .bind(meta.title.as_str())
            .bind(json)
            .bind(false)
            .bind(now),
        )
        .await?;
    r.get("id")
}

/// Replaces a dataset's metadata.
pub async fn update_metadata(tx: &mut Tx, tenant: TenantId, id: i64, meta: &Metadata, now: Timestamp) -> DbResult<u64> {
    let json = to_json(meta);
    tx.execute(
        query(
            "UPDATE opendata_datasets SET metadata = $3, title = $4, modified_at = $5 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(id)
        .bind(json)
        .bind(meta.title.as_str())
        .bind(now),
    )
    .await
}

/// Sets or clears the confirmation that a dataset holds no personal data. Clearing it also
/// takes the dataset offline: the guard holds in the database, not only in the service.
pub async fn set_privacy(tx: &mut Tx, tenant: TenantId, id: i64, by: Option<StaffId>, now: Timestamp) -> DbResult<u64> {
    tx.execute(
        query(
            "UPDATE opendata_datasets SET privacy_confirmed_at = $3, privacy_confirmed_by = $4, modified_at = $5, \
             published = CASE WHEN $4 IS NULL THEN $6 ELSE published END WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant)
        .bind(id)
        .bind(by.map(|_| now.millis()))
        .bind(by.map(|s| s.0))
        .bind(now)
        .bind(false),
    )
    .await
}

/// Publishes (only when confirmed free of personal data) or withdraws; the number of rows
/// changed (0: not confirmed, or unknown).
pub async fn set_published(tx: &mut Tx, tenant: TenantId, id: i64, published: bool, now: Timestamp) -> DbResult<u64> {
    tx.execute(
        query(
            "UPDATE opendata_datasets SET published = $3, modified_at = $4, \
             published_at = CASE WHEN $3 THEN COALESCE(published_at, $4) ELSE published_at END \
             WHERE tenant_id = $1 AND id = $2 AND (privacy_confirmed_at IS NOT NULL OR NOT $3)",
        )
        .bind(tenant)
        .bind(id)
        .bind(published)
        .bind(now),
    )
    .await
}

/// Adds a distribution at the end of the dataset's list.
pub async fn insert_distribution(tx: &mut Tx, tenant: TenantId, d: &Distribution) -> DbResult<()> {
    let file = d.file.as_ref();
    tx.execute(
        query(
            "INSERT INTO opendata_distributions (dataset_id, tenant_id, uuid, position, kind, title, description, format, \
             url, blob_sha256, media_type, byte_size, datastore_resource, created_at, modified_at) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position) + 1, 0) FROM opendata_distributions WHERE dataset_id = $1), $4, $5, $6, $7, \
             $8, $9, $10, $11, $12, $13, $13)",
        )
        .bind(d.dataset_id)
        .bind(tenant)
        .bind(d.uuid.as_str())
        .bind(d.kind.as_str())
        .bind(d.title.as_str())
        .bind(d.description.as_str())
        .bind(d.format.as_str())
        .bind(d.url.clone())
        .bind(file.map(|f| f.sha256.clone()))
        .bind(file.map(|f| f.media_type.clone()))
        .bind(file.map(|f| f.size))
        .bind(d.datastore_resource.clone())
        .bind(d.created_at),
    )
    .await
    .map(drop)
}

/// Removes a distribution of a dataset.
pub async fn delete_distribution(tx: &mut Tx, tenant: TenantId, dataset: i64, uuid: &str) -> DbResult<u64> {
    tx.execute(
        query("DELETE FROM opendata_distributions WHERE tenant_id = $1 AND dataset_id = $2 AND uuid = $3")
            .bind(tenant)
            .bind(dataset)
            .bind(uuid),
    )
    .await
}

/// Marks the dataset changed.
pub async fn touch(tx: &mut Tx, tenant: TenantId, id: i64, now: Timestamp) -> DbResult<u64> {
    tx.execute(
        query("UPDATE opendata_datasets SET modified_at = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .bind(now),
    )
    .await
}

/// A published distribution by its UUID, with the name of its dataset's publisher.
pub async fn published_distribution(db: &Db, uuid: &str) -> DbResult<Option<(Distribution, String)>> {
    let sql = format!(
        "SELECT {}, ds.uuid AS dataset_uuid FROM opendata_distributions d JOIN opendata_datasets ds ON ds.id = d.dataset_id \
         WHERE d.uuid = $1 AND ds.published = $2",
        DIST_COLUMNS.split(", ").map(|c| format!("d.{c}")).collect::<Vec<_>>().join(", ")
    );
    match db.fetch_optional(query_owned(sql).bind(uuid).bind(true)).await? {
        Some(r) => Ok(Some((distribution_from(&r)?, r.get("dataset_uuid")?))),
        None => Ok(None),
    }
}

const GROUP_COLUMNS: &str = "id, tenant_id, uuid, name, title, description, created_at";

fn group_from(r: &Row) -> DbResult<Group> {
    Ok(Group {
        id: r.get("id")?,
        uuid: r.get("uuid")?,
        tenant: TenantId(r.get("tenant_id")?),
        name: r.get("name")?,
        title: r.get("title")?,
        description: r.get("description")?,
        created_at: Timestamp::from_millis(r.get("created_at")?),
    })
}

/// Every group, by name.
pub async fn groups(db: &Db) -> DbResult<Vec<Group>> {
    let sql = format!("SELECT {GROUP_COLUMNS} FROM opendata_groups ORDER BY name");
    db.fetch_all(query_owned(sql)).await?.iter().map(group_from).collect()
}

/// Adds a group; false when the name is taken.
pub async fn insert_group(tx: &mut Tx, g: &Group) -> DbResult<bool> {
    let r = tx
        .fetch_optional(
            query(
                "INSERT INTO opendata_groups (tenant_id, uuid, name, title, description, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING id",
            )
            .bind(g.tenant)
            .bind(g.uuid.as_str())
            .bind(g.name.as_str())
            .bind(g.title.as_str())
            .bind(g.description.as_str())
            .bind(g.created_at),
        )
        .await?;
    Ok(r.is_some())
}

/// Replaces the groups of a dataset.
pub async fn set_groups(tx: &mut Tx, dataset: i64, groups: &[i64]) -> DbResult<()> {
    tx.execute(query("DELETE FROM opendata_dataset_groups WHERE dataset_id = $1").bind(dataset)).await?;
    for g in groups {
        tx.execute(
            query("INSERT INTO opendata_dataset_groups (dataset_id, group_id) VALUES ($1, $2)").bind(dataset).bind(*g),
        )
        .await?;
    }
    Ok(())
}

/// Appends an entry to a dataset's history.
#[allow(clippy::too_many_arguments)] // one column each; a struct would only rename them
pub async fn insert_change(
    tx: &mut Tx,
    tenant: TenantId,
    dataset: i64,
    staff: Option<StaffId>,
    actor_name: &str,
    action: &str,
    fields: &[&str],
    snapshot: &Metadata,
    now: Timestamp,
) -> DbResult<()> {
    let fields = to_json(fields);
    let snapshot = to_json(snapshot);
    tx.execute(
        query(
            "INSERT INTO opendata_changes (dataset_id, tenant_id, staff_id, actor_name, action, fields, snapshot, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(dataset)
        .bind(tenant)
        .bind(staff.map(|s| s.0))
        .bind(actor_name)
        .bind(action)
        .bind(fields)
        .bind(snapshot)
        .bind(now),
    )
    .await
    .map(drop)
}

/// A dataset's history, newest first.
pub async fn changes(db: &Db, tenant: TenantId, dataset: i64) -> DbResult<Vec<Change>> {
    let rows = db
        .fetch_all(
            query(
                "SELECT actor_name, action, fields, created_at FROM opendata_changes \
                 WHERE tenant_id = $1 AND dataset_id = $2 ORDER BY id DESC",
            )
            .bind(tenant)
            .bind(dataset),
        )
        .await?;
    rows.iter()
        .map(|r| {
            let fields: String = r.get("fields")?;
            Ok(Change {
                at: Timestamp::from_millis(r.get("created_at")?),
                actor_name: r.get("actor_name")?,
                action: r.get("action")?,
                fields: serde_json::from_str(&fields).unwrap_or_default(),
            })
        })
        .collect()
}
