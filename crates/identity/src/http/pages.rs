//! Identity's HTML pages: login, the staff account, and the administration of tenants, org
//! units, staff and roles. Handlers extract, authorize, call one service function and render.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kernel::audit::Entry;
use kernel::{AppError, OrgUnitId, StaffId};
use serde::Deserialize;
use web::form::{FormFields, field};
use web::shell::KeptField;
use web::{Chrome, FlashKind, FormErrors, html, page, redirect_with_flash};

use super::{IdentityCtx, SESSION_COOKIE, StaffUser, client_ip, user_agent};
use crate::model::{Authorized, ManageStaff, OrgUnit, ReadAudit, Role, Staff, Tenant, TenantKind};
use crate::service::{self, LoginAttempt, StaffWithRoles};
use crate::store::{OrgUnitFields, TenantFields};

/// A local path to return to after login; anything else (another host, `//evil`) is dropped.
fn safe_next(next: &str) -> Option<String> {
    (next.starts_with('/') && !next.starts_with("//") && !next.contains('\\')).then(|| next.to_owned())
}

const KEEP_PREFIX: &str = "behalten.";

// ---- login ----

#[derive(Template)]
#[template(path = "identity/login.html")]
struct LoginPage {
    chrome: Chrome,
    errors: FormErrors,
    email: String,
    next: String,
    kept: Vec<KeptField>,
    session_expired: bool,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    weiter: Option<String>,
}

pub async fn login_form(chrome: Chrome, axum::extract::Query(q): axum::extract::Query<LoginQuery>) -> Response {
    let next = q.weiter.as_deref().and_then(safe_next).unwrap_or_default();
    page(&LoginPage {
        chrome,
        errors: FormErrors::none(),
        email: String::new(),
        next,
        kept: Vec::new(),
        session_expired: false,
    })
}

/// Answers a POST whose session expired: the login form, carrying the typed fields along.
pub async fn login_to_continue(req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let chrome = Chrome::from_parts(&parts);
    let bytes = axum::body::to_bytes(body, 1024 * 1024).await.unwrap_or_default();
    let kept = web::shell::kept_fields(&bytes);
    let next = parts.uri.path().to_owned();
    html(
        StatusCode::UNAUTHORIZED,
        &LoginPage { chrome, errors: FormErrors::none(), email: String::new(), next, kept, session_expired: true },
    )
}

#[derive(Template)]
#[template(path = "identity/resume.html")]
struct ResumePage {
    chrome: Chrome,
    action: String,
    fields: Vec<KeptField>,
}

pub async fn login(State(ctx): State<IdentityCtx>, chrome: Chrome, req: Request) -> Result<Response, AppError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1024 * 1024).await.map_err(|_| AppError::PayloadTooLarge)?;
    let f: FormFields = serde_urlencoded::from_bytes(&bytes).map_err(|_| AppError::invalid("invalid", "email"))?;
    let next = safe_next(field(&f, "weiter"));
    let kept: Vec<KeptField> = f
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(KEEP_PREFIX).map(|name| KeptField { name: name.to_owned(), value: v.clone() })
        })
        .collect();
    let (ip, ua) = (client_ip(&parts), user_agent(&parts));
    let attempt =
        LoginAttempt { email: field(&f, "email"), password: field(&f, "password"), client_ip: &ip, user_agent: &ua };
    let session = match service::login(&ctx.kernel, &ctx.cfg, attempt).await {
        Ok(s) => s,
        Err(e @ (AppError::Invalid { .. } | AppError::TooManyRequests { .. })) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let errors = FormErrors::general(&chrome, e.code());
            let page = LoginPage {
                chrome,
                errors,
                email: field(&f, "email").to_owned(),
                next: next.unwrap_or_default(),
                kept,
                session_expired: false,
            };
            return Ok(html(status, &page));
        }
        Err(e) => return Err(e),
    };
    let cookie = ctx.cookies.set(SESSION_COOKIE, &session.token, Some(ctx.cfg.session_max_hours * 3600));
    let mut res = match (next, kept.is_empty()) {
        (Some(action), false) => html(StatusCode::OK, &ResumePage { chrome, action, fields: kept }),
        (Some(to), true) => Redirect::to(&to).into_response(),
        (None, _) if session.staff.is_admin() => Redirect::to("/verwaltung").into_response(),
        (None, _) => Redirect::to("/konto").into_response(),
    };
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

pub async fn logout(State(ctx): State<IdentityCtx>, req: Request) -> Result<Response, AppError> {
    if let Some(token) = ctx.cookies.get(req.headers(), SESSION_COOKIE) {
        service::logout(&ctx.kernel, token).await?;
    }
    let mut res = redirect_with_flash("/", FlashKind::Success, "identity.logged_out", None);
    res.headers_mut().append(header::SET_COOKIE, ctx.cookies.set(SESSION_COOKIE, "", Some(0)));
    Ok(res)
}

// ---- account ----

#[derive(Template)]
#[template(path = "identity/account.html")]
struct AccountPage {
    chrome: Chrome,
    staff: std::sync::Arc<Staff>,
    tenant: Tenant,
    units: Vec<OrgUnit>,
    sessions: i64,
    errors: FormErrors,
}

impl AccountPage {
    fn unit_name(&self, id: &Option<OrgUnitId>) -> String {
        unit_label(&self.units, id, &self.chrome)
    }
}

fn unit_label(units: &[OrgUnit], id: &Option<OrgUnitId>, chrome: &Chrome) -> String {
    match id {
        None => chrome.t("identity.whole_tenant").to_owned(),
        Some(id) => units.iter().find(|u| u.id == *id).map(|u| u.name.clone()).unwrap_or_else(|| id.to_string()),
    }
}

async fn account_page(
    ctx: &IdentityCtx,
    chrome: Chrome,
    staff: std::sync::Arc<Staff>,
    errors: FormErrors,
) -> Result<AccountPage, AppError> {
    let tenant = crate::store::tenant(&ctx.kernel.db, staff.tenant()).await?.ok_or(AppError::NotFound)?;
    let units = service::org_units(&ctx.kernel, staff.tenant()).await?;
    let sessions = service::live_sessions(&ctx.kernel, &staff).await?;
    Ok(AccountPage { chrome, staff, tenant, units, sessions, errors })
}

pub async fn account(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
) -> Result<Response, AppError> {
    Ok(page(&account_page(&ctx, chrome, staff, FormErrors::none()).await?))
}

pub async fn change_password(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    headers: axum::http::HeaderMap,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let this_session = ctx.cookies.get(&headers, SESSION_COOKIE).unwrap_or_default();
    if field(&f, "new_password") != field(&f, "repeat_password") {
        let errors = FormErrors::new(
            &chrome,
            &[kernel::FieldError { field: "repeat_password".into(), code: "identity.passwords_differ" }],
        );
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &account_page(&ctx, chrome, staff, errors).await?));
    }
    let (current, new) = (field(&f, "current_password"), field(&f, "new_password"));
    match service::change_password(&ctx.kernel, &staff, this_session, current, new).await {
        Ok(()) => Ok(redirect_with_flash("/konto", FlashKind::Success, "identity.password_changed", None)),
        Err(AppError::Invalid { fields, .. }) => {
            let errors = FormErrors::new(&chrome, &fields);
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &account_page(&ctx, chrome, staff, errors).await?))
        }
        Err(e) => Err(e),
    }
}

pub async fn logout_everywhere(
    State(ctx): State<IdentityCtx>,
    StaffUser(staff): StaffUser,
) -> Result<Response, AppError> {
    service::logout_everywhere(&ctx.kernel, &staff).await?;
    let mut res = redirect_with_flash("/anmelden", FlashKind::Success, "identity.logged_out_everywhere", None);
    res.headers_mut().append(header::SET_COOKIE, ctx.cookies.set(SESSION_COOKIE, "", Some(0)));
    Ok(res)
}

// ---- administration ----

#[derive(Template)]
#[template(path = "identity/admin_home.html")]
struct AdminHomePage {
    chrome: Chrome,
    staff: std::sync::Arc<Staff>,
    tenants: Vec<Tenant>,
    /// Tenants whose audit log the user may read without administering them.
    audit_only: Vec<Tenant>,
}

pub async fn admin_home(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
) -> Result<Response, AppError> {
    if !staff.is_admin() {
        return Err(AppError::Forbidden);
    }
    let tenants = service::administered_tenants(&ctx.kernel, &staff).await?;
    let audit_only = service::public_tenants(&ctx.kernel)
        .await?
        .into_iter()
        .filter(|t| !tenants.iter().any(|a| a.id == t.id) && staff.authorize::<ReadAudit>(t.id).is_ok())
        .collect();
    Ok(page(&AdminHomePage { chrome, staff, tenants, audit_only }))
}

/// The tenant named in the path and the proof that the user may administer it.
async fn administered(
    ctx: &IdentityCtx,
    staff: &Staff,
    slug: &str,
) -> Result<(Tenant, Authorized<ManageStaff>), AppError> {
    let tenant = service::tenant_by_slug(&ctx.kernel, slug).await?;
    let proof = staff.authorize::<ManageStaff>(tenant.id)?;
    Ok((tenant, proof))
}

#[derive(Template)]
#[template(path = "identity/tenants.html")]
struct TenantsPage {
    chrome: Chrome,
    tenants: Vec<Tenant>,
    kinds: [TenantKind; 4],
    form: FormFields,
    errors: FormErrors,
}

impl TenantsPage {
    fn value(&self, name: &str) -> &str {
        field(&self.form, name)
    }
}

pub async fn tenants(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
) -> Result<Response, AppError> {
    staff.authorize_platform()?;
    let tenants = service::administered_tenants(&ctx.kernel, &staff).await?;
    Ok(page(&TenantsPage { chrome, tenants, kinds: TenantKind::ALL, form: Vec::new(), errors: FormErrors::none() }))
}

fn tenant_fields(f: &FormFields) -> TenantFields {
    let opt = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    TenantFields {
        slug: field(f, "slug").to_owned(),
        name: field(f, "name").to_owned(),
        kind: TenantKind::parse(field(f, "kind")),
        ags: opt(field(f, "ags")),
        address: crate::model::Address {
            street: field(f, "street").into(),
            postcode: field(f, "postcode").into(),
            city: field(f, "city").into(),
        },
        phone: field(f, "phone").into(),
        email: field(f, "email").into(),
        website: field(f, "website").into(),
        postcodes: field(f, "postcodes").split([',', ' ']).filter(|p| !p.is_empty()).map(str::to_owned).collect(),
    }
}

pub async fn create_tenant(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let proof = staff.authorize_platform()?;
    match service::create_tenant(&ctx.kernel, &proof, &tenant_fields(&f)).await {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/verwaltung/mandanten/{}", field(&f, "slug")),
            FlashKind::Success,
            "identity.tenant_created",
            None,
        )),
        Err(AppError::Invalid { fields, .. }) => {
            let tenants = service::administered_tenants(&ctx.kernel, &staff).await?;
            let errors = FormErrors::new(&chrome, &fields);
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &TenantsPage { chrome, tenants, kinds: TenantKind::ALL, form: f, errors },
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "identity/tenant.html")]
struct TenantPage {
    chrome: Chrome,
    tenant: Tenant,
    units: Vec<OrgUnit>,
    /// The viewer is a platform administrator (may take the tenant out of service).
    platform: bool,
    errors: FormErrors,
    unit_errors: FormErrors,
    unit_form: FormFields,
}

/// The tenant page; `errors` for the contact form, `unit_errors` and `unit_form` for the new unit.
async fn tenant_page(
    ctx: &IdentityCtx,
    chrome: Chrome,
    staff: &Staff,
    tenant: Tenant,
    errors: FormErrors,
    (unit_errors, unit_form): (FormErrors, FormFields),
) -> Result<TenantPage, AppError> {
    let units = service::org_units(&ctx.kernel, tenant.id).await?;
    let platform = staff.member.platform_admin;
    Ok(TenantPage { chrome, tenant, units, platform, errors, unit_errors, unit_form })
}

impl TenantPage {
    fn unit_value(&self, name: &str) -> &str {
        field(&self.unit_form, name)
    }

    fn postcodes(&self) -> String {
        self.tenant.postcodes.join(", ")
    }
}

pub async fn tenant(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let (tenant, _) = administered(&ctx, &staff, &slug).await?;
    let no_unit_form = (FormErrors::none(), Vec::new());
    Ok(page(&tenant_page(&ctx, chrome, &staff, tenant, FormErrors::none(), no_unit_form).await?))
}

/// Takes a tenant out of service or back (platform administration).
pub async fn set_tenant_active(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let proof = staff.authorize_platform()?;
    let tenant = service::tenant_by_slug(&ctx.kernel, &slug).await?;
    let active = field(&f, "active") == "true";
    match service::set_tenant_active(&ctx.kernel, &proof, tenant.id, active).await {
        Ok(()) => {
            let key = if active { "identity.tenant_activated" } else { "identity.tenant_deactivated" };
            Ok(redirect_with_flash(&format!("/verwaltung/mandanten/{slug}"), FlashKind::Success, key, None))
        }
        Err(e @ AppError::Conflict { .. }) => {
            let errors = FormErrors::general(&chrome, e.code());
            let page = tenant_page(&ctx, chrome, &staff, tenant, errors, (FormErrors::none(), Vec::new())).await?;
            Ok(html(StatusCode::CONFLICT, &page))
        }
        Err(e) => Err(e),
    }
}

pub async fn update_tenant(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    Form(mut f): Form<FormFields>,
) -> Result<Response, AppError> {
    let (mut tenant, proof) = administered(&ctx, &staff, &slug).await?;
    // The slug and kind of a tenant are fixed once created: addresses and keys depend on them.
    f.retain(|(k, _)| k != "slug" && k != "kind");
    f.push(("slug".into(), tenant.slug.clone()));
    f.push(("kind".into(), tenant.kind.as_str().into()));
    let fields = tenant_fields(&f);
    match service::update_tenant(&ctx.kernel, &proof, &fields).await {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/verwaltung/mandanten/{slug}"),
            FlashKind::Success,
            "identity.tenant_updated",
            None,
        )),
        Err(AppError::Invalid { fields: problems, .. }) => {
            tenant.name = fields.name;
            tenant.ags = fields.ags;
            tenant.address = fields.address;
            tenant.phone = fields.phone;
            tenant.email = fields.email;
            tenant.website = fields.website;
            tenant.postcodes = fields.postcodes;
            let errors = FormErrors::new(&chrome, &problems);
            let page = tenant_page(&ctx, chrome, &staff, tenant, errors, (FormErrors::none(), Vec::new())).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e),
    }
}

fn unit_fields(f: &FormFields) -> OrgUnitFields {
    OrgUnitFields {
        parent: field(f, "parent").parse().ok().map(OrgUnitId),
        code: field(f, "code").into(),
        name: field(f, "name").into(),
        address: crate::model::Address {
            street: field(f, "street").into(),
            postcode: field(f, "postcode").into(),
            city: field(f, "city").into(),
        },
        phone: field(f, "phone").into(),
        email: field(f, "email").into(),
        opening_hours: field(f, "opening_hours").into(),
    }
}

#[derive(Template)]
#[template(path = "identity/org_unit.html")]
struct OrgUnitPage {
    chrome: Chrome,
    tenant: Tenant,
    unit: OrgUnit,
    /// The units that may become its parent (all but itself).
    others: Vec<OrgUnit>,
    errors: FormErrors,
}

impl OrgUnitPage {
    fn is_parent(&self, id: &OrgUnitId) -> bool {
        self.unit.parent == Some(*id)
    }
}

async fn org_unit_page(
    ctx: &IdentityCtx,
    chrome: Chrome,
    tenant: Tenant,
    unit: OrgUnit,
    errors: FormErrors,
) -> Result<OrgUnitPage, AppError> {
    let others = service::org_units(&ctx.kernel, tenant.id).await?.into_iter().filter(|u| u.id != unit.id).collect();
    Ok(OrgUnitPage { chrome, tenant, unit, others, errors })
}

pub async fn org_unit(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let (tenant, proof) = administered(&ctx, &staff, &slug).await?;
    let unit = service::org_unit(&ctx.kernel, &proof, OrgUnitId(id)).await?;
    Ok(page(&org_unit_page(&ctx, chrome, tenant, unit, FormErrors::none()).await?))
}

pub async fn update_org_unit(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, id)): Path<(String, i64)>,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let (tenant, proof) = administered(&ctx, &staff, &slug).await?;
    let fields = unit_fields(&f);
    match service::update_org_unit(&ctx.kernel, &proof, OrgUnitId(id), &fields).await {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/verwaltung/mandanten/{slug}"),
            FlashKind::Success,
            "identity.unit_updated",
            Some(fields.name),
        )),
        Err(AppError::Invalid { fields: problems, .. }) => {
            let stored = service::org_unit(&ctx.kernel, &proof, OrgUnitId(id)).await?;
            let typed = OrgUnit {
                id: stored.id,
                tenant: stored.tenant,
                parent: fields.parent,
                code: fields.code,
                name: fields.name,
                address: fields.address,
                phone: fields.phone,
                email: fields.email,
                opening_hours: fields.opening_hours,
            };
            let errors = FormErrors::new(&chrome, &problems);
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &org_unit_page(&ctx, chrome, tenant, typed, errors).await?))
        }
        Err(e) => Err(e),
    }
}

pub async fn delete_org_unit(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let (tenant, proof) = administered(&ctx, &staff, &slug).await?;
    match service::delete_org_unit(&ctx.kernel, &proof, OrgUnitId(id)).await {
        Ok(name) => Ok(redirect_with_flash(
            &format!("/verwaltung/mandanten/{slug}"),
            FlashKind::Success,
            "identity.unit_deleted",
            Some(name),
        )),
        Err(e @ AppError::Conflict { .. }) => {
            let unit = service::org_unit(&ctx.kernel, &proof, OrgUnitId(id)).await?;
            let errors = FormErrors::general(&chrome, e.code());
            Ok(html(StatusCode::CONFLICT, &org_unit_page(&ctx, chrome, tenant, unit, errors).await?))
        }
        Err(e) => Err(e),
    }
}

pub async fn create_org_unit(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(staff): StaffUser,
    Path(slug): Path<String>,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let (tenant, proof) = administered(&ctx, &staff, &slug).await?;
    let unit = unit_fields(&f);
    match service::create_org_unit(&ctx.kernel, &proof, &unit).await {
        Ok(_) => Ok(redirect_with_flash(
            &format!("/verwaltung/mandanten/{slug}"),
            FlashKind::Success,
            "identity.unit_created",
            Some(unit.name),
        )),
        Err(AppError::Invalid { fields, .. }) => {
            let unit_errors = FormErrors::new(&chrome, &fields);
            let page = tenant_page(&ctx, chrome, &staff, tenant, FormErrors::none(), (unit_errors, f)).await?;
            Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "identity/staff_list.html")]
struct StaffListPage {
    chrome: Chrome,
    tenant: Tenant,
    staff: Vec<StaffWithRoles>,
    form: FormFields,
    errors: FormErrors,
    created: Option<(String, String)>,
}

impl StaffListPage {
    fn value(&self, name: &str) -> &str {
        field(&self.form, name)
    }
}

pub async fn staff_list(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(user): StaffUser,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let (tenant, proof) = administered(&ctx, &user, &slug).await?;
    let staff = service::staff_list(&ctx.kernel, &proof).await?;
    Ok(page(&StaffListPage { chrome, tenant, staff, form: Vec::new(), errors: FormErrors::none(), created: None }))
}

/// Creates an account and shows its one-time password on this response only (no redirect:
/// the password must not travel in a cookie or URL).
pub async fn create_staff(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(user): StaffUser,
    Path(slug): Path<String>,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let (tenant, proof) = administered(&ctx, &user, &slug).await?;
    let result = service::create_staff(&ctx.kernel, &proof, field(&f, "email"), field(&f, "display_name")).await;
    let staff = service::staff_list(&ctx.kernel, &proof).await?;
    match result {
        Ok((_, password)) => {
            let created = Some((field(&f, "email").to_lowercase(), password));
            Ok(page(&StaffListPage { chrome, tenant, staff, form: Vec::new(), errors: FormErrors::none(), created }))
        }
        Err(AppError::Invalid { fields, .. }) => {
            let errors = FormErrors::new(&chrome, &fields);
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &StaffListPage { chrome, tenant, staff, form: f, errors, created: None },
            ))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "identity/staff_detail.html")]
struct StaffDetailPage {
    chrome: Chrome,
    tenant: Tenant,
    person: StaffWithRoles,
    units: Vec<OrgUnit>,
    roles: [Role; 6],
    errors: FormErrors,
    /// A one-time password just set, shown on this response only.
    new_password: Option<String>,
}

impl StaffDetailPage {
    fn unit_name(&self, id: &Option<OrgUnitId>) -> String {
        unit_label(&self.units, id, &self.chrome)
    }
}

async fn staff_detail_page(
    ctx: &IdentityCtx,
    chrome: Chrome,
    tenant: Tenant,
    proof: &Authorized<ManageStaff>,
    id: StaffId,
    errors: FormErrors,
) -> Result<StaffDetailPage, AppError> {
    let person = service::staff_detail(&ctx.kernel, proof, id).await?;
    let units = service::org_units(&ctx.kernel, proof.tenant()).await?;
    Ok(StaffDetailPage { chrome, tenant, person, units, roles: Role::ALL, errors, new_password: None })
}

pub async fn staff_detail(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(user): StaffUser,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let (tenant, proof) = administered(&ctx, &user, &slug).await?;
    Ok(page(&staff_detail_page(&ctx, chrome, tenant, &proof, StaffId(id), FormErrors::none()).await?))
}

pub async fn grant_role(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(user): StaffUser,
    Path((slug, id)): Path<(String, i64)>,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let (tenant, proof) = administered(&ctx, &user, &slug).await?;
    let back = format!("/verwaltung/mandanten/{slug}/beschaeftigte/{id}");
    let Some(role) = Role::parse(field(&f, "role")) else {
        let errors =
            FormErrors::new(&chrome, &[kernel::FieldError { field: "role".into(), code: "identity.role_required" }]);
        return Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &staff_detail_page(&ctx, chrome, tenant, &proof, StaffId(id), errors).await?,
        ));
    };
    let unit = field(&f, "org_unit").parse().ok().map(OrgUnitId);
    match service::grant_role(&ctx.kernel, &proof, StaffId(id), role, unit).await {
        Ok(()) => Ok(redirect_with_flash(&back, FlashKind::Success, "identity.role_granted", None)),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            let errors = match e {
                AppError::Invalid { fields, .. } => FormErrors::new(&chrome, &fields),
                other => FormErrors::general(&chrome, other.code()),
            };
            Ok(html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &staff_detail_page(&ctx, chrome, tenant, &proof, StaffId(id), errors).await?,
            ))
        }
        Err(e) => Err(e),
    }
}

/// Sets a new one-time password and shows it on this response only (no redirect, so that the
/// password travels in no cookie and no URL).
pub async fn reset_password(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(user): StaffUser,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let (tenant, proof) = administered(&ctx, &user, &slug).await?;
    let password = service::reset_password(&ctx.kernel, &proof, StaffId(id)).await?;
    let mut page = staff_detail_page(&ctx, chrome, tenant, &proof, StaffId(id), FormErrors::none()).await?;
    page.new_password = Some(password);
    Ok(html(StatusCode::OK, &page))
}

pub async fn revoke_role(
    State(ctx): State<IdentityCtx>,
    StaffUser(user): StaffUser,
    Path((slug, id, grant)): Path<(String, i64, i64)>,
) -> Result<Response, AppError> {
    let (_, proof) = administered(&ctx, &user, &slug).await?;
    service::revoke_role(&ctx.kernel, &proof, StaffId(id), grant).await?;
    Ok(redirect_with_flash(
        &format!("/verwaltung/mandanten/{slug}/beschaeftigte/{id}"),
        FlashKind::Success,
        "identity.role_revoked",
        None,
    ))
}

pub async fn set_active(
    State(ctx): State<IdentityCtx>,
    StaffUser(user): StaffUser,
    Path((slug, id)): Path<(String, i64)>,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let (_, proof) = administered(&ctx, &user, &slug).await?;
    let active = field(&f, "active") == "true";
    service::set_staff_active(&ctx.kernel, &proof, StaffId(id), active).await?;
    let key = if active { "identity.staff_activated" } else { "identity.staff_deactivated" };
    Ok(redirect_with_flash(&format!("/verwaltung/mandanten/{slug}/beschaeftigte/{id}"), FlashKind::Success, key, None))
}

#[derive(Template)]
#[template(path = "identity/audit.html")]
struct AuditPage {
    chrome: Chrome,
    tenant: Tenant,
    entries: Vec<Entry>,
    /// The cursor of the next older page, when there is one.
    older: Option<i64>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    vor: Option<i64>,
}

const AUDIT_PAGE_SIZE: i64 = 100;

pub async fn audit_log(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    StaffUser(user): StaffUser,
    Path(slug): Path<String>,
    axum::extract::Query(q): axum::extract::Query<AuditQuery>,
) -> Result<Response, AppError> {
    let tenant = service::tenant_by_slug(&ctx.kernel, &slug).await?;
    let proof = user.authorize::<ReadAudit>(tenant.id)?;
    let entries = service::audit_log(&ctx.kernel, &proof, q.vor, AUDIT_PAGE_SIZE).await?;
    let older = entries.last().map(|e| e.seq).filter(|seq| *seq > 1 && entries.len() as i64 == AUDIT_PAGE_SIZE);
    let mut res = page(&AuditPage { chrome, tenant, entries, older });
    res.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    Ok(res)
}
