//! The open data use cases: the Redaktion describes datasets, adds distributions, sorts them
//! into groups, confirms they hold no personal data and publishes them; everyone reads what is
//! published (pages, CKAN API, DCAT catalogue).

use bytes::Bytes;
use identity::{Authorized, Permission, Role};
use kernel::audit::{self, Actor, NewEntry};
use kernel::blobs::BlobHash;
use kernel::{AppError, FieldError, Kernel, StaffId, TenantId, Timestamp};
use serde_json::json;

use crate::model::{
    self, Change, Dataset, Distribution, DistributionInput, DistributionKind, Group, Metadata, StoredFile,
};
use crate::store::{self, Filter};

/// Describe, publish and withdraw a tenant's datasets (Redaktion, Administration).
#[derive(Debug)]
pub struct ManageData;
impl Permission for ManageData {
    const ROLES: &'static [Role] = &[Role::Editor, Role::Administrator];
}

/// The largest file a distribution may hold here; bigger data goes through the data store.
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;

/// Who changes a tenant's data: a member of staff (from a proof) or the system (demo load).
struct Editor {
    tenant: TenantId,
    staff: Option<StaffId>,
    actor: Actor,
}

impl Editor {
    fn of(proof: &Authorized<ManageData>) -> Self {
        Editor { tenant: proof.tenant(), staff: Some(proof.staff()), actor: proof.actor().clone() }
    }

    /// The demo loader: the member of staff it acts for, or the system.
    fn demo(tenant: TenantId, staff: Option<(StaffId, &str)>) -> Self {
        let actor = match staff {
            Some((s, name)) => Actor { id: format!("staff:{}", s.0), name: name.to_owned(), on_behalf_of: None },
            None => Actor::system(),
        };
        Editor { tenant, staff: staff.map(|(s, _)| s), actor }
    }
}

fn invalid(fields: Vec<FieldError>) -> AppError {
    AppError::Invalid { code: "opendata.invalid", fields }
}

/// Writes the history entry and the audit entry of a change, in the change's transaction.
async fn record(
    tx: &mut kernel::Tx,
    ed: &Editor,
    now: Timestamp,
    set: (i64, &str, &Metadata),
    action: &str,
    fields: &[&str],
) -> Result<(), AppError> {
    let (id, name, meta) = set;
    store::insert_change(tx, ed.tenant, id, ed.staff, &ed.actor.name, action, fields, meta, now).await?;
    let details = json!({ "fields": fields });
    let subject = format!("dataset:{name}");
    let entry = NewEntry {
        tenant: ed.tenant,
        actor: &ed.actor,
        action: &format!("opendata.dataset.{action}"),
        subject: &subject,
        details,
    };
    audit::append(tx, now, entry).await?;
    Ok(())
}

/// A tenant's datasets, drafts included.
pub async fn datasets_of(k: &Kernel, proof: &Authorized<ManageData>) -> Result<Vec<Dataset>, AppError> {
    Ok(store::datasets(&k.db, Filter::Tenant(proof.tenant())).await?)
}

async fn named(k: &Kernel, tenant: TenantId, name: &str) -> Result<Dataset, AppError> {
    store::datasets(&k.db, Filter::Named(tenant, name)).await?.into_iter().next().ok_or(AppError::NotFound)
}

/// One of the tenant's datasets, published or not.
pub async fn dataset(k: &Kernel, proof: &Authorized<ManageData>, name: &str) -> Result<Dataset, AppError> {
    named(k, proof.tenant(), name).await
}

/// A dataset's history, newest first.
pub async fn history(k: &Kernel, proof: &Authorized<ManageData>, set: &Dataset) -> Result<Vec<Change>, AppError> {
    if set.tenant != proof.tenant() {
        return Err(AppError::NotFound);
    }
    Ok(store::changes(&k.db, proof.tenant(), set.id).await?)
}

/// Creates a dataset as an unpublished draft. Its name is given or made from the title.
pub async fn create(
    k: &Kernel,
    proof: &Authorized<ManageData>,
    name: &str,
    meta: Metadata,
) -> Result<Dataset, AppError> {
    create_as(k, &Editor::of(proof), name, meta).await
}

async fn create_as(k: &Kernel, ed: &Editor, name: &str, meta: Metadata) -> Result<Dataset, AppError> {
    let name = if name.is_empty() { model::name_from_title(&meta.title) } else { name.to_owned() };
    let mut problems = meta.problems();
    if !model::valid_name(&name) {
        problems.insert(0, FieldError { field: "name".into(), code: "opendata.name_invalid" });
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    if !store::datasets(&k.db, Filter::Named(ed.tenant, &name)).await?.is_empty() {
        return Err(invalid(vec![FieldError { field: "name".into(), code: "opendata.name_taken" }]));
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    let id = store::insert_dataset(&mut tx, ed.tenant, &model::new_uuid(), &name, &meta, now).await?;
    record(&mut tx, ed, now, (id, &name, &meta), "created", &[]).await?;
    tx.commit().await?;
    named(k, ed.tenant, &name).await
}

/// Replaces the metadata of a dataset; the history names the fields that changed.
pub async fn update(k: &Kernel, proof: &Authorized<ManageData>, name: &str, meta: Metadata) -> Result<(), AppError> {
    let problems = meta.problems();
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let set = dataset(k, proof, name).await?;
    let fields = meta.changed_fields(&set.meta);
    if fields.is_empty() {
        return Ok(());
    }
    let ed = Editor::of(proof);
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::update_metadata(&mut tx, ed.tenant, set.id, &meta, now).await?;
    record(&mut tx, &ed, now, (set.id, name, &meta), "updated", &fields).await?;
    tx.commit().await?;
    Ok(())
}

/// Confirms that a dataset holds no personal data (or withdraws the confirmation, which also
/// takes the dataset offline).
pub async fn confirm_privacy(
    k: &Kernel,
    proof: &Authorized<ManageData>,
    name: &str,
    confirmed: bool,
) -> Result<(), AppError> {
    confirm_privacy_as(k, &Editor::of(proof), name, confirmed).await
}

async fn confirm_privacy_as(k: &Kernel, ed: &Editor, name: &str, confirmed: bool) -> Result<(), AppError> {
    let set = named(k, ed.tenant, name).await?;
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    // Only a member of staff can vouch for the data: the row records who did.
    let by = if confirmed { Some(ed.staff.ok_or(AppError::Forbidden)?) } else { None };
    store::set_privacy(&mut tx, ed.tenant, set.id, by, now).await?;
    let action = if confirmed { "privacy_confirmed" } else { "privacy_withdrawn" };
    record(&mut tx, ed, now, (set.id, name, &set.meta), action, &[]).await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes a dataset: only once it is confirmed free of personal data and has at least one
/// distribution.
pub async fn publish(k: &Kernel, proof: &Authorized<ManageData>, name: &str) -> Result<(), AppError> {
    set_published_as(k, &Editor::of(proof), name, true).await
}

/// Takes a dataset offline.
pub async fn withdraw(k: &Kernel, proof: &Authorized<ManageData>, name: &str) -> Result<(), AppError> {
    set_published_as(k, &Editor::of(proof), name, false).await
}

async fn set_published_as(k: &Kernel, ed: &Editor, name: &str, published: bool) -> Result<(), AppError> {
    let set = named(k, ed.tenant, name).await?;
    if published && set.privacy_confirmed.is_none() {
        return Err(AppError::Conflict { code: "opendata.privacy_unconfirmed" });
    }
    if published && set.distributions.is_empty() {
        return Err(AppError::Conflict { code: "opendata.no_distribution" });
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    if store::set_published(&mut tx, ed.tenant, set.id, published, now).await? == 0 {
        return Err(AppError::Conflict { code: "opendata.privacy_unconfirmed" });
    }
    let action = if published { "published" } else { "withdrawn" };
    record(&mut tx, ed, now, (set.id, name, &set.meta), action, &[]).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a distribution; a file distribution brings its bytes, which go to the object store.
pub async fn add_distribution(
    k: &Kernel,
    proof: &Authorized<ManageData>,
    name: &str,
    input: &DistributionInput,
    file: Option<Bytes>,
) -> Result<Distribution, AppError> {
    add_distribution_as(k, &Editor::of(proof), name, input, file).await
}

async fn add_distribution_as(
    k: &Kernel,
    ed: &Editor,
    name: &str,
    input: &DistributionInput,
    file: Option<Bytes>,
) -> Result<Distribution, AppError> {
    let file = file.filter(|f| !f.is_empty() && input.kind == Some(DistributionKind::File));
    let mut problems = input.problems(file.is_some());
    if file.as_ref().is_some_and(|f| f.len() > MAX_FILE_BYTES) {
        problems.push(FieldError { field: "file".into(), code: "opendata.file_too_large" });
    }
    let Some(kind) = input.kind.filter(|_| problems.is_empty()) else { return Err(invalid(problems)) };
    let set = named(k, ed.tenant, name).await?;
    let stored = match file {
        Some(bytes) => {
            let size = i64::try_from(bytes.len()).map_err(AppError::internal)?;
            let hash: BlobHash = k.blobs.put(bytes).await.map_err(AppError::internal)?;
            let media_type = model::media_type_of(&input.format).unwrap_or("application/octet-stream");
            Some(StoredFile { sha256: hash.as_str().to_owned(), media_type: media_type.to_owned(), size })
        }
        None => None,
    };
    let now = k.clock.now();
    let d = Distribution {
        id: 0,
        uuid: model::new_uuid(),
        dataset_id: set.id,
        position: 0,
        kind,
        title: input.title.trim().to_owned(),
        description: input.description.trim().to_owned(),
        format: input.format.clone(),
        url: (kind != DistributionKind::File).then(|| input.url.clone()),
        file: stored,
        datastore_resource: model::parse_uuid(&input.datastore_resource),
        created_at: now,
        modified_at: now,
    };
    let mut tx = k.db.begin().await?;
    store::insert_distribution(&mut tx, ed.tenant, &d).await?;
    store::touch(&mut tx, ed.tenant, set.id, now).await?;
    record(&mut tx, ed, now, (set.id, name, &set.meta), "distribution_added", &[]).await?;
    tx.commit().await?;
    Ok(d)
}

/// Removes a distribution from a dataset (its file stays in the object store: nothing is
/// ever overwritten or lost).
pub async fn remove_distribution(
    k: &Kernel,
    proof: &Authorized<ManageData>,
    name: &str,
    uuid: &str,
) -> Result<(), AppError> {
    let set = dataset(k, proof, name).await?;
    let ed = Editor::of(proof);
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    if store::delete_distribution(&mut tx, ed.tenant, set.id, uuid).await? == 0 {
        return Err(AppError::NotFound);
    }
    store::touch(&mut tx, ed.tenant, set.id, now).await?;
    record(&mut tx, &ed, now, (set.id, name, &set.meta), "distribution_removed", &[]).await?;
    tx.commit().await?;
    Ok(())
}

/// Every group.
pub async fn groups(k: &Kernel) -> Result<Vec<Group>, AppError> {
    Ok(store::groups(&k.db).await?)
}

/// Creates a group shared by all publishers.
pub async fn create_group(
    k: &Kernel,
    proof: &Authorized<ManageData>,
    name: &str,
    title: &str,
    description: &str,
) -> Result<(), AppError> {
    create_group_as(k, &Editor::of(proof), name, title, description).await.map(drop)
}

async fn create_group_as(
    k: &Kernel,
    ed: &Editor,
    name: &str,
    title: &str,
    description: &str,
) -> Result<bool, AppError> {
    let mut problems = Vec::new();
    if !model::valid_name(name) {
        problems.push(FieldError { field: "group_name".into(), code: "opendata.name_invalid" });
    }
    if title.trim().is_empty() {
        problems.push(FieldError { field: "group_title".into(), code: "opendata.title_required" });
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let now = k.clock.now();
    let g = Group {
        id: 0,
        uuid: model::new_uuid(),
        tenant: ed.tenant,
        name: name.to_owned(),
        title: title.trim().to_owned(),
        description: description.trim().to_owned(),
        created_at: now,
    };
    let mut tx = k.db.begin().await?;
    let added = store::insert_group(&mut tx, &g).await?;
    if added {
        let entry = NewEntry {
            tenant: ed.tenant,
            actor: &ed.actor,
            action: "opendata.group.created",
            subject: &format!("group:{name}"),
            details: json!({ "title": g.title }),
        };
        audit::append(&mut tx, now, entry).await?;
    }
    tx.commit().await?;
    Ok(added)
}

/// Puts a dataset into exactly these groups (by name; unknown names are refused).
pub async fn set_groups(
    k: &Kernel,
    proof: &Authorized<ManageData>,
    name: &str,
    names: &[String],
) -> Result<(), AppError> {
    set_groups_as(k, &Editor::of(proof), name, names).await
}

async fn set_groups_as(k: &Kernel, ed: &Editor, name: &str, names: &[String]) -> Result<(), AppError> {
    let set = named(k, ed.tenant, name).await?;
    let all = store::groups(&k.db).await?;
    let mut ids = Vec::new();
    for n in names {
        let g =
            all.iter().find(|g| &g.name == n).ok_or_else(|| AppError::invalid("opendata.group_unknown", "groups"))?;
        ids.push(g.id);
    }
    let now = k.clock.now();
    let mut tx = k.db.begin().await?;
    store::set_groups(&mut tx, set.id, &ids).await?;
    store::touch(&mut tx, ed.tenant, set.id, now).await?;
    record(&mut tx, ed, now, (set.id, name, &set.meta), "groups_changed", &["groups"]).await?;
    tx.commit().await?;
    Ok(())
}

// ---- public reading ----

/// Every published dataset, newest change first.
pub async fn published(k: &Kernel) -> Result<Vec<Dataset>, AppError> {
    Ok(store::datasets(&k.db, Filter::Published).await?)
}

/// The published datasets as last read, with the change mark they were read at. Each node
/// keeps one; a request compares the mark with the database (one indexed `MAX`) and reads the
/// catalogue again only after a change, so search and listings need not read every dataset
/// on every call. Nodes never serve stale data: the mark is checked on every use.
#[derive(Default)]
pub struct PublishedCache {
    inner: std::sync::Mutex<Option<(i64, std::sync::Arc<Vec<Dataset>>)>>,
}

/// Every published dataset, from the cache while nothing changed.
pub async fn published_cached(k: &Kernel, cache: &PublishedCache) -> Result<std::sync::Arc<Vec<Dataset>>, AppError> {
    let mark = store::change_mark(&k.db).await?;
    let held = cache.inner.lock().ok().and_then(|g| g.clone());
    if let Some((m, sets)) = held
        && m == mark
    {
        return Ok(sets);
    }
    let sets = std::sync::Arc::new(store::datasets(&k.db, Filter::Published).await?);
    if let Ok(mut g) = cache.inner.lock() {
        *g = Some((mark, sets.clone()));
    }
    Ok(sets)
}

/// One page of the published datasets (newest change first) and how many there are in all.
pub async fn published_page(k: &Kernel, limit: usize, offset: usize) -> Result<(Vec<Dataset>, usize), AppError> {
    let total = usize::try_from(store::published_count(&k.db).await?).unwrap_or(0);
    let (limit, offset) = (i64::try_from(limit).unwrap_or(i64::MAX), i64::try_from(offset).unwrap_or(i64::MAX));
    Ok((store::datasets(&k.db, Filter::PublishedPage(limit, offset)).await?, total))
}

/// The names of the published datasets, sorted (CKAN's package_list).
pub async fn published_names(k: &Kernel) -> Result<Vec<String>, AppError> {
    Ok(store::published_names(&k.db).await?)
}

/// The published datasets of one publisher.
pub async fn published_of(k: &Kernel, tenant: TenantId) -> Result<Vec<Dataset>, AppError> {
    Ok(store::datasets(&k.db, Filter::PublishedOf(tenant)).await?)
}

/// A published dataset by its publisher and name.
pub async fn published_dataset(k: &Kernel, tenant: TenantId, name: &str) -> Result<Dataset, AppError> {
    named(k, tenant, name).await.and_then(|d| if d.published { Ok(d) } else { Err(AppError::NotFound) })
}

/// A published dataset by its UUID or name (CKAN's `id`).
pub async fn published_by_ref(k: &Kernel, id_or_name: &str) -> Result<Dataset, AppError> {
    store::datasets(&k.db, Filter::PublishedRef(id_or_name)).await?.into_iter().next().ok_or(AppError::NotFound)
}

/// A distribution of a published dataset by its UUID, with its dataset's UUID.
pub async fn published_distribution(k: &Kernel, uuid: &str) -> Result<(Distribution, String), AppError> {
    let uuid = model::parse_uuid(uuid).ok_or(AppError::NotFound)?;
    store::published_distribution(&k.db, &uuid).await?.ok_or(AppError::NotFound)
}

/// The bytes of a published file distribution.
pub async fn published_file(k: &Kernel, uuid: &str) -> Result<(Distribution, Bytes), AppError> {
    let (d, _) = published_distribution(k, uuid).await?;
    let hash = d.file.as_ref().and_then(|f| BlobHash::parse(&f.sha256)).ok_or(AppError::NotFound)?;
    let bytes = k.blobs.get(&hash).await.map_err(AppError::internal)?;
    Ok((d, bytes))
}

// ---- installation (demo) ----

/// A dataset as the demo describes it.
pub struct DemoDataset<'a> {
    pub name: &'a str,
    pub meta: Metadata,
    pub groups: &'a [&'a str],
    pub distributions: Vec<DistributionInput>,
}

/// Loads a demo dataset into a tenant unless it exists (by name), creating its groups as
/// needed. `confirmed_by` is the member of staff recorded as having confirmed that it holds
/// no personal data; with one given, the dataset is published.
pub async fn load_demo_dataset(
    k: &Kernel,
    tenant: TenantId,
    confirmed_by: Option<(StaffId, &str)>,
    set: DemoDataset<'_>,
    group_titles: &[(&str, &str)],
) -> Result<bool, AppError> {
    let ed = Editor::demo(tenant, confirmed_by);
    if !store::datasets(&k.db, Filter::Named(tenant, set.name)).await?.is_empty() {
        return Ok(false);
    }
    for g in set.groups {
        let title = group_titles.iter().find(|(n, _)| n == g).map_or(*g, |(_, t)| *t);
        create_group_as(k, &ed, g, title, "").await?;
    }
    create_as(k, &ed, set.name, set.meta).await?;
    for d in &set.distributions {
        add_distribution_as(k, &ed, set.name, d, None).await?;
    }
    let groups: Vec<String> = set.groups.iter().map(|g| (*g).to_owned()).collect();
    set_groups_as(k, &ed, set.name, &groups).await?;
    if confirmed_by.is_some() {
        confirm_privacy_as(k, &ed, set.name, true).await?;
        if !set.distributions.is_empty() {
            set_published_as(k, &ed, set.name, true).await?;
        }
    }
    Ok(true)
}

/// Whether a distribution of a tenant's dataset names a data store table.
pub async fn links_data_table(k: &Kernel, tenant: TenantId, name: &str) -> Result<bool, AppError> {
    Ok(named(k, tenant, name).await?.distributions.iter().any(|d| d.datastore_resource.is_some()))
}

/// Adds distributions to a demo dataset as its Redaktion and publishes it when the Redaktion
/// has confirmed it free of personal data (see [`load_demo_dataset`]).
pub async fn link_demo_distributions(
    k: &Kernel,
    tenant: TenantId,
    staff: (StaffId, &str),
    name: &str,
    distributions: &[DistributionInput],
) -> Result<(), AppError> {
    let ed = Editor::demo(tenant, Some(staff));
    for d in distributions {
        add_distribution_as(k, &ed, name, d, None).await?;
    }
    if named(k, tenant, name).await?.privacy_confirmed.is_some() {
        set_published_as(k, &ed, name, true).await?;
    }
    Ok(())
}
