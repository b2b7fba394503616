//! Identity's SQL: tenants, org units, staff, roles, sessions, failed logins. Every query of a
//! tenant's rows takes the tenant.

use kernel::{Db, DbResult, OrgUnitId, Row, StaffId, TenantId, Timestamp, Tx, query};

use crate::model::{Address, OrgUnit, Role, RoleGrant, StaffMember, Tenant, TenantKind};

// ---- tenants ----

/// The fields of a new or changed tenant.
#[derive(Clone, Debug, Default)]
pub struct TenantFields {
    pub slug: String,
    pub name: String,
    pub kind: Option<TenantKind>,
    pub ags: Option<String>,
    pub address: Address,
    pub phone: String,
    pub email: String,
    pub website: String,
    pub postcodes: Vec<String>,
}

const TENANT_COLUMNS: &str = "id, slug, name, kind, ags, street, postcode, city, phone, email, website, active";

fn tenant_from(r: &Row, postcodes: Vec<String>) -> DbResult<Tenant> {
    Ok(Tenant {
        id: TenantId(r.get("id")?),
        slug: r.get("slug")?,
        name: r.get("name")?,
        kind: TenantKind::parse(&r.get::<String>("kind")?).unwrap_or(TenantKind::Municipality),
        ags: r.get("ags")?,
        address: Address { street: r.get("street")?, postcode: r.get("postcode")?, city: r.get("city")? },
        phone: r.get("phone")?,
        email: r.get("email")?,
        website: r.get("website")?,
        postcodes,
        active: r.get("active")?,
    })
}

pub async fn insert_tenant(tx: &mut Tx, f: &TenantFields, now: Timestamp) -> DbResult<TenantId> {
    let row = tx
        .fetch_one(
            query(
                "INSERT INTO tenants (slug, name, kind, ags, street, postcode, city, phone, email, website, active, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            )
            .bind(&f.slug)
            .bind(&f.name)
            .bind(f.kind.unwrap_or(TenantKind::Municipality).as_str())
            .bind(f.ags.clone())
            .bind(&f.address.street)
            .bind(&f.address.postcode)
            .bind(&f.address.city)
            .bind(&f.phone)
            .bind(&f.email)
            .bind(&f.website)
            .bind(true)
            .bind(now),
        )
        .await?;
    let id = TenantId(row.get("id")?);
    replace_postcodes(tx, id, &f.postcodes).await?;
    Ok(id)
}

pub async fn update_tenant(tx: &mut Tx, id: TenantId, f: &TenantFields) -> DbResult<()> {
    tx.execute(
        query(
            "UPDATE tenants SET name = $2, ags = $3, street = $4, postcode = $5, city = $6, phone = $7, email = $8, website = $9 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(&f.name)
        .bind(f.ags.clone())
        .bind(&f.address.street)
        .bind(&f.address.postcode)
        .bind(&f.address.city)
        .bind(&f.phone)
        .bind(&f.email)
        .bind(&f.website),
    )
    .await?;
    replace_postcodes(tx, id, &f.postcodes).await
}

async fn replace_postcodes(tx: &mut Tx, id: TenantId, postcodes: &[String]) -> DbResult<()> {
    tx.execute(query("DELETE FROM tenant_postcodes WHERE tenant_id = $1").bind(id)).await?;
    for p in postcodes {
        tx.execute(
            query("INSERT INTO tenant_postcodes (tenant_id, postcode) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(p),
        )
        .await?;
    }
    Ok(())
}

async fn postcodes_of(db: &Db, id: TenantId) -> DbResult<Vec<String>> {
    let rows = db
        .fetch_all(query("SELECT postcode FROM tenant_postcodes WHERE tenant_id = $1 ORDER BY postcode").bind(id))
        .await?;
    rows.iter().map(|r| r.get("postcode")).collect()
}

pub async fn list_tenants(db: &Db) -> DbResult<Vec<Tenant>> {
    let rows = db.fetch_all(kernel::query_owned(format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY id"))).await?;
    let codes = db.fetch_all(query("SELECT tenant_id, postcode FROM tenant_postcodes ORDER BY postcode")).await?;
    rows.iter()
        .map(|r| {
            let id: i64 = r.get("id")?;
            let mine = codes
                .iter()
                .filter(|c| c.get::<i64>("tenant_id").is_ok_and(|t| t == id))
                .map(|c| c.get("postcode"))
                .collect::<DbResult<Vec<String>>>()?;
            tenant_from(r, mine)
        })
        .collect()
}

pub async fn tenant_by_slug(db: &Db, slug: &str) -> DbResult<Option<Tenant>> {
    let row = db
        .fetch_optional(kernel::query_owned(format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE slug = $1")).bind(slug))
        .await?;
    match row {
        Some(r) => {
            let id = TenantId(r.get("id")?);
            Ok(Some(tenant_from(&r, postcodes_of(db, id).await?)?))
        }
        None => Ok(None),
    }
}

pub async fn tenant(db: &Db, id: TenantId) -> DbResult<Option<Tenant>> {
    let row = db
        .fetch_optional(kernel::query_owned(format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1")).bind(id))
        .await?;
    match row {
        Some(r) => Ok(Some(tenant_from(&r, postcodes_of(db, id).await?)?)),
        None => Ok(None),
    }
}

/// The tenant that runs the installation (the county; else the first tenant): the audit log
/// of citizen and organisation accounts, which belong to no tenant, is kept in its chain.
pub async fn home_tenant(db: &Db) -> DbResult<Option<TenantId>> {
    let row = db
        .fetch_optional(
            query("SELECT id FROM tenants ORDER BY CASE WHEN kind = $1 THEN 0 ELSE 1 END, id LIMIT 1").bind("county"),
        )
        .await?;
    row.map(|r| r.get("id").map(TenantId)).transpose()
}

// ---- org units ----

/// The fields of a new or changed org unit.
#[derive(Clone, Debug, Default)]
pub struct OrgUnitFields {
    pub parent: Option<OrgUnitId>,
    pub code: String,
    pub name: String,
    pub address: Address,
    pub phone: String,
    pub email: String,
    pub opening_hours: String,
}

const UNIT_COLUMNS: &str = "id, tenant_id, parent_id, code, name, street, postcode, city, phone, email, opening_hours";

fn unit_from(r: &Row) -> DbResult<OrgUnit> {
    Ok(OrgUnit {
        id: OrgUnitId(r.get("id")?),
        tenant: TenantId(r.get("tenant_id")?),
        parent: r.get::<Option<i64>>("parent_id")?.map(OrgUnitId),
        code: r.get("code")?,
        name: r.get("name")?,
        address: Address { street: r.get("street")?, postcode: r.get("postcode")?, city: r.get("city")? },
        phone: r.get("phone")?,
        email: r.get("email")?,
        opening_hours: r.get("opening_hours")?,
    })
}

/// Binds an org unit's fields in column order: parent, code, name, street, postcode, city,
/// phone, e-mail, opening hours.
fn bind_unit_fields(q: kernel::db::Query, f: &OrgUnitFields) -> kernel::db::Query {
    q.bind(f.parent)
        .bind(&f.code)
        .bind(&f.name)
        .bind(&f.address.street)
        .bind(&f.address.postcode)
        .bind(&f.address.city)
        .bind(&f.phone)
        .bind(&f.email)
        .bind(&f.opening_hours)
}

pub async fn insert_org_unit(tx: &mut Tx, tenant: TenantId, f: &OrgUnitFields, now: Timestamp) -> DbResult<OrgUnitId> {
    let q = query(
        "INSERT INTO org_units (tenant_id, parent_id, code, name, street, postcode, city, phone, email, opening_hours, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(tenant);
    let row = tx.fetch_one(bind_unit_fields(q, f).bind(now)).await?;
    Ok(OrgUnitId(row.get("id")?))
}

pub async fn org_units(db: &Db, tenant: TenantId) -> DbResult<Vec<OrgUnit>> {
    let sql = format!("SELECT {UNIT_COLUMNS} FROM org_units WHERE tenant_id = $1 ORDER BY code, name");
    db.fetch_all(kernel::query_owned(sql).bind(tenant)).await?.iter().map(unit_from).collect()
}

pub async fn org_unit(db: &Db, tenant: TenantId, id: OrgUnitId) -> DbResult<Option<OrgUnit>> {
    let sql = format!("SELECT {UNIT_COLUMNS} FROM org_units WHERE tenant_id = $1 AND id = $2");
    db.fetch_optional(kernel::query_owned(sql).bind(tenant).bind(id)).await?.as_ref().map(unit_from).transpose()
}

pub async fn update_org_unit(tx: &mut Tx, tenant: TenantId, id: OrgUnitId, f: &OrgUnitFields) -> DbResult<u64> {
    let q = query(
        "UPDATE org_units SET parent_id = $3, code = $4, name = $5, street = $6, postcode = $7, city = $8, \
         phone = $9, email = $10, opening_hours = $11 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant)
    .bind(id);
    tx.execute(bind_unit_fields(q, f)).await
}

/// How many role grants and sub-units refer to an org unit.
pub async fn org_unit_references(db: &Db, id: OrgUnitId) -> DbResult<i64> {
    let row = db
        .fetch_one(
            query(
                "SELECT (SELECT COUNT(*) FROM role_assignments WHERE org_unit_id = $1) \
                      + (SELECT COUNT(*) FROM org_units WHERE parent_id = $1) AS n",
            )
            .bind(id),
        )
        .await?;
    row.get("n")
}

pub async fn delete_org_unit(tx: &mut Tx, tenant: TenantId, id: OrgUnitId) -> DbResult<u64> {
    tx.execute(query("DELETE FROM org_units WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(id)).await
}

// ---- staff ----

const STAFF_COLUMNS: &str = "id, tenant_id, email, display_name, platform_admin, active";

fn staff_from(r: &Row) -> DbResult<StaffMember> {
    Ok(StaffMember {
        id: StaffId(r.get("id")?),
        tenant: TenantId(r.get("tenant_id")?),
        email: r.get("email")?,
        display_name: r.get("display_name")?,
        platform_admin: r.get("platform_admin")?,
        active: r.get("active")?,
    })
}

pub async fn insert_staff(
    tx: &mut Tx,
    tenant: TenantId,
    email: &str,
    name: &str,
    password_hash: &str,
    platform_admin: bool,
    now: Timestamp,
) -> DbResult<StaffId> {
    let row = tx
        .fetch_one(
            query(
                "INSERT INTO staff (tenant_id, email, display_name, password_hash, platform_admin, active, created_at, password_changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            )
            .bind(tenant)
            .bind(email)
            .bind(name)
            .bind(password_hash)
            .bind(platform_admin)
            .bind(true)
            .bind(now),
        )
        .await?;
    Ok(StaffId(row.get("id")?))
}

/// What login needs to know about an account.
pub struct LoginRow {
    pub member: StaffMember,
    pub password_hash: String,
    /// Whether the account's tenant is in service.
    pub tenant_active: bool,
}

/// A member of staff with the stored password hash, for login.
pub async fn staff_for_login(db: &Db, email: &str) -> DbResult<Option<LoginRow>> {
    let row = db
        .fetch_optional(
            query(
                "SELECT s.id, s.tenant_id, s.email, s.display_name, s.platform_admin, s.active, s.password_hash, \
                 t.active AS tenant_active FROM staff s JOIN tenants t ON t.id = s.tenant_id WHERE s.email = $1",
            )
            .bind(email),
        )
        .await?;
    row.map(|r| {
        Ok(LoginRow {
            member: staff_from(&r)?,
            password_hash: r.get("password_hash")?,
            tenant_active: r.get("tenant_active")?,
        })
    })
    .transpose()
}

pub async fn password_hash(db: &Db, id: StaffId) -> DbResult<Option<String>> {
    let row = db.fetch_optional(query("SELECT password_hash FROM staff WHERE id = $1").bind(id)).await?;
    row.map(|r| r.get("password_hash")).transpose()
}

pub async fn staff_member(db: &Db, tenant: TenantId, id: StaffId) -> DbResult<Option<StaffMember>> {
    let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE tenant_id = $1 AND id = $2");
    db.fetch_optional(kernel::query_owned(sql).bind(tenant).bind(id)).await?.as_ref().map(staff_from).transpose()
}

pub async fn staff_of_tenant(db: &Db, tenant: TenantId) -> DbResult<Vec<StaffMember>> {
    let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE tenant_id = $1 ORDER BY display_name");
    db.fetch_all(kernel::query_owned(sql).bind(tenant)).await?.iter().map(staff_from).collect()
}

pub async fn set_password(tx: &mut Tx, id: StaffId, hash: &str, now: Timestamp) -> DbResult<()> {
    tx.execute(
        query("UPDATE staff SET password_hash = $2, password_changed_at = $3 WHERE id = $1")
            .bind(id)
            .bind(hash)
            .bind(now),
    )
    .await
    .map(drop)
}

pub async fn set_active(tx: &mut Tx, tenant: TenantId, id: StaffId, active: bool) -> DbResult<u64> {
    tx.execute(
        query("UPDATE staff SET active = $3 WHERE tenant_id = $1 AND id = $2").bind(tenant).bind(id).bind(active),
    )
    .await
}

// ---- roles ----

fn grant_from(r: &Row) -> DbResult<Option<RoleGrant>> {
    let Some(role) = Role::parse(&r.get::<String>("role")?) else { return Ok(None) };
    Ok(Some(RoleGrant {
        id: r.get("id")?,
        role,
        tenant: TenantId(r.get("tenant_id")?),
        org_unit: r.get::<Option<i64>>("org_unit_id")?.map(OrgUnitId),
    }))
}

pub async fn roles_of(db: &Db, staff: StaffId) -> DbResult<Vec<RoleGrant>> {
    let rows = db
        .fetch_all(query("SELECT id, tenant_id, org_unit_id, role FROM role_assignments WHERE staff_id = $1 ORDER BY role, org_unit_id").bind(staff))
        .await?;
    Ok(rows.iter().map(grant_from).collect::<DbResult<Vec<_>>>()?.into_iter().flatten().collect())
}

/// Grants a role; returns false when the member already holds it there.
pub async fn insert_role(
    tx: &mut Tx,
    tenant: TenantId,
    staff: StaffId,
    role: Role,
    unit: Option<OrgUnitId>,
    now: Timestamp,
) -> DbResult<bool> {
    let n = tx
        .execute(
            query("INSERT INTO role_assignments (tenant_id, staff_id, org_unit_id, role, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
                .bind(tenant)
                .bind(staff)
                .bind(unit)
                .bind(role.as_str())
                .bind(now),
        )
        .await?;
    Ok(n == 1)
}

/// Removes a role grant; returns the grant that was removed.
pub async fn delete_role(tx: &mut Tx, tenant: TenantId, staff: StaffId, grant: i64) -> DbResult<Option<RoleGrant>> {
    let row = tx
        .fetch_optional(
            query("DELETE FROM role_assignments WHERE tenant_id = $1 AND staff_id = $2 AND id = $3 RETURNING id, tenant_id, org_unit_id, role")
                .bind(tenant)
                .bind(staff)
                .bind(grant),
        )
        .await?;
    Ok(row.as_ref().map(grant_from).transpose()?.flatten())
}

// ---- sessions ----

pub async fn insert_session(
    tx: &mut Tx,
    token_hash: &str,
    staff: StaffId,
    now: Timestamp,
    expires: Timestamp,
    user_agent: &str,
) -> DbResult<()> {
    tx.execute(
        query("INSERT INTO staff_sessions (token_hash, staff_id, created_at, last_seen_at, expires_at, user_agent) VALUES ($1, $2, $3, $3, $4, $5)")
            .bind(token_hash)
            .bind(staff)
            .bind(now)
            .bind(expires)
            .bind(user_agent),
    )
    .await
    .map(drop)
}

/// A live session: its owner and when it was last used.
pub struct SessionRow {
    pub staff: StaffMember,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

pub async fn live_session(db: &Db, token_hash: &str, now: Timestamp) -> DbResult<Option<SessionRow>> {
    let row = db
        .fetch_optional(
            query(
                "SELECT s.id, s.tenant_id, s.email, s.display_name, s.platform_admin, s.active, ss.created_at AS session_created, \
                 ss.last_seen_at FROM staff_sessions ss JOIN staff s ON s.id = ss.staff_id JOIN tenants t ON t.id = s.tenant_id \
                 WHERE ss.token_hash = $1 AND ss.expires_at > $2 AND t.active = $3",
            )
            .bind(token_hash)
            .bind(now)
            .bind(true),
        )
        .await?;
    row.map(|r| {
        Ok(SessionRow {
            staff: staff_from(&r)?,
            created_at: Timestamp::from_millis(r.get("session_created")?),
            last_seen_at: Timestamp::from_millis(r.get("last_seen_at")?),
        })
    })
    .transpose()
}

pub async fn touch_session(db: &Db, token_hash: &str, now: Timestamp, expires: Timestamp) -> DbResult<()> {
    db.execute(
        query("UPDATE staff_sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(now)
            .bind(expires),
    )
    .await
    .map(drop)
}

pub async fn delete_session(db: &Db, token_hash: &str) -> DbResult<()> {
    db.execute(query("DELETE FROM staff_sessions WHERE token_hash = $1").bind(token_hash)).await.map(drop)
}

pub async fn set_tenant_active(tx: &mut Tx, id: TenantId, active: bool) -> DbResult<u64> {
    tx.execute(query("UPDATE tenants SET active = $2 WHERE id = $1").bind(id).bind(active)).await
}

/// Ends the sessions of every member of staff of a tenant.
pub async fn delete_sessions_of_tenant(tx: &mut Tx, tenant: TenantId) -> DbResult<u64> {
    tx.execute(
        query("DELETE FROM staff_sessions WHERE staff_id IN (SELECT id FROM staff WHERE tenant_id = $1)").bind(tenant),
    )
    .await
}

pub async fn delete_sessions_of(tx: &mut Tx, staff: StaffId) -> DbResult<u64> {
    tx.execute(query("DELETE FROM staff_sessions WHERE staff_id = $1").bind(staff)).await
}

/// Ends every session of `staff` but the one whose token hashes to `keep`.
pub async fn delete_other_sessions(tx: &mut Tx, staff: StaffId, keep: &str) -> DbResult<u64> {
    tx.execute(query("DELETE FROM staff_sessions WHERE staff_id = $1 AND token_hash <> $2").bind(staff).bind(keep))
        .await
}

pub async fn count_sessions_of(db: &Db, staff: StaffId, now: Timestamp) -> DbResult<i64> {
    db.fetch_one(
        query("SELECT COUNT(*) AS n FROM staff_sessions WHERE staff_id = $1 AND expires_at > $2").bind(staff).bind(now),
    )
    .await?
    .get("n")
}

pub async fn purge_expired_sessions(db: &Db, now: Timestamp) -> DbResult<u64> {
    db.execute(query("DELETE FROM staff_sessions WHERE expires_at <= $1").bind(now)).await
}

// ---- failed logins ----

pub async fn count_failures(db: &Db, key: &str, since: Timestamp) -> DbResult<i64> {
    db.fetch_one(query("SELECT COUNT(*) AS n FROM login_failures WHERE key = $1 AND at > $2").bind(key).bind(since))
        .await?
        .get("n")
}

pub async fn record_failure(tx: &mut Tx, key: &str, at: Timestamp) -> DbResult<()> {
    tx.execute(query("INSERT INTO login_failures (key, at) VALUES ($1, $2)").bind(key).bind(at)).await.map(drop)
}

pub async fn clear_failures(tx: &mut Tx, key: &str) -> DbResult<()> {
    tx.execute(query("DELETE FROM login_failures WHERE key = $1").bind(key)).await.map(drop)
}

pub async fn purge_old_failures(db: &Db, before: Timestamp) -> DbResult<u64> {
    db.execute(query("DELETE FROM login_failures WHERE at <= $1").bind(before)).await
}
