//! Identity's routes, the session middleware and the `StaffUser` extractor.

pub mod api;
pub mod citizen;
pub mod pages;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kernel::{AppError, Kernel};
use web::cookies::CookiePolicy;

use crate::model::Staff;
use crate::service::{self, IdentityConfig};

/// What identity's handlers and middleware need.
#[derive(Clone)]
pub struct IdentityCtx {
    pub kernel: Kernel,
    pub cfg: Arc<IdentityConfig>,
    pub cookies: CookiePolicy,
    /// The public URL (`web.public_url`), for links in mails.
    pub public_url: String,
    /// The configured identity providers (OpenID Connect) with their caches.
    pub oidc: Arc<crate::citizen::oidc::Providers>,
}

pub(crate) const SESSION_COOKIE: &str = "kh_session";

/// The logged-in member of staff of this request, put there by [`session`].
#[derive(Clone, Debug)]
pub struct CurrentStaff(pub Arc<Staff>);

/// Looks up the session cookie once per request. A POST whose session has expired is answered
/// with the login form, which carries what the user typed to a "send again" page.
pub async fn session(State(ctx): State<IdentityCtx>, mut req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/assets/") {
        return next.run(req).await;
    }
    let token = ctx.cookies.get(req.headers(), SESSION_COOKIE).map(str::to_owned);
    let staff = match token {
        Some(t) => match service::authenticate(&ctx.kernel, &ctx.cfg, &t).await {
            Ok(s) => s,
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let Some(staff) = staff else {
        if req.method() == Method::POST && needs_staff(req.uri().path()) {
            return pages::login_to_continue(req).await;
        }
        return next.run(req).await;
    };
    let viewer = web::Viewer { name: staff.member.display_name.clone(), admin: staff.is_admin(), citizen: false };
    req.extensions_mut().insert(CurrentStaff(Arc::new(staff)));
    req.extensions_mut().insert(viewer.clone());
    let mut res = next.run(req).await;
    res.extensions_mut().insert(viewer);
    res
}

/// Paths that only staff can use; the rest of the site is public.
fn needs_staff(path: &str) -> bool {
    path.starts_with("/verwaltung") || path.starts_with("/konto")
}

/// A handler argument that requires a logged-in member of staff. Without one, a page request
/// is sent to the login form (and back afterwards); an API request gets 401.
pub struct StaffUser(pub Arc<Staff>);

impl<S: Send + Sync> FromRequestParts<S> for StaffUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        if let Some(CurrentStaff(s)) = parts.extensions.get::<CurrentStaff>() {
            return Ok(StaffUser(s.clone()));
        }
        if parts.method == Method::GET && !web::shell::wants_json(parts.uri.path(), &parts.headers) {
            let back = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            return Err(Redirect::to(&format!("/anmelden?weiter={}", web::url_encode(back))).into_response());
        }
        Err(AppError::Unauthenticated.into_response())
    }
}

/// The client's address, for login throttling and the audit log.
pub(crate) fn client_ip(parts: &Parts) -> String {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

pub(crate) fn user_agent(parts: &Parts) -> String {
    parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// Identity's pages and API.
pub fn routes(ctx: IdentityCtx) -> Router {
    Router::new()
        .route("/anmelden", get(pages::login_form).post(pages::login))
        .route("/abmelden", post(pages::logout))
        .route("/konto", get(pages::account))
        .route("/konto/passwort", post(pages::change_password))
        .route("/konto/ueberall-abmelden", post(pages::logout_everywhere))
        .route("/verwaltung", get(pages::admin_home))
        .route("/verwaltung/mandanten", get(pages::tenants).post(pages::create_tenant))
        .route("/verwaltung/mandanten/{slug}", get(pages::tenant).post(pages::update_tenant))
        .route("/verwaltung/mandanten/{slug}/status", post(pages::set_tenant_active))
        .route("/verwaltung/mandanten/{slug}/organisationseinheiten", post(pages::create_org_unit))
        .route(
            "/verwaltung/mandanten/{slug}/organisationseinheiten/{id}",
            get(pages::org_unit).post(pages::update_org_unit),
        )
        .route("/verwaltung/mandanten/{slug}/organisationseinheiten/{id}/entfernen", post(pages::delete_org_unit))
        .route("/verwaltung/mandanten/{slug}/beschaeftigte", get(pages::staff_list).post(pages::create_staff))
        .route("/verwaltung/mandanten/{slug}/beschaeftigte/{id}", get(pages::staff_detail))
        .route("/verwaltung/mandanten/{slug}/beschaeftigte/{id}/rollen", post(pages::grant_role))
        .route("/verwaltung/mandanten/{slug}/beschaeftigte/{id}/rollen/{grant}/entziehen", post(pages::revoke_role))
        .route("/verwaltung/mandanten/{slug}/beschaeftigte/{id}/status", post(pages::set_active))
        .route("/verwaltung/mandanten/{slug}/beschaeftigte/{id}/passwort", post(pages::reset_password))
        .route("/verwaltung/mandanten/{slug}/protokoll", get(pages::audit_log))
        .route("/api/v1/me", get(api::me))
        .route("/api/v1/tenants", get(api::tenants))
        .route("/api/v1/tenants/{slug}/org-units", get(api::org_units))
        .with_state(ctx)
}
