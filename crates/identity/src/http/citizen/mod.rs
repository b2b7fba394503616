//! The citizen account's routes (`/buergerkonto/…` pages, `/api/v1/account…` JSON), its
//! session middleware and the extractors [`CitizenUser`] and [`RequireLevel`].

pub mod api;
pub mod oidc;
pub mod pages;

use std::marker::PhantomData;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kernel::AppError;

use super::IdentityCtx;
use crate::citizen::model::{Citizen, MinLevel, TrustLevel};
use crate::citizen::service;

/// The citizen's session cookie: separate from the staff cookie (ADR 0008).
pub(crate) const CITIZEN_COOKIE: &str = "kh_buerger";

/// The logged-in citizen of this request, put there by [`session`].
#[derive(Clone, Debug)]
pub struct CurrentCitizen(pub Arc<Citizen>);

/// The session token of a request: the citizen cookie, or on `/api/` an `Authorization:
/// Bearer` header (the mobile app).
pub(crate) fn session_token(ctx: &IdentityCtx, path: &str, headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|_| path.starts_with("/api/"));
    bearer.or_else(|| ctx.cookies.get(headers, CITIZEN_COOKIE)).map(|t| t.trim().to_owned())
}

/// Looks up the citizen session once per request. A member of staff logged in in the same
/// browser keeps the navigation; the citizen is still known to citizen pages.
pub async fn session(State(ctx): State<IdentityCtx>, mut req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/assets/") {
        return next.run(req).await;
    }
    let Some(token) = session_token(&ctx, req.uri().path(), req.headers()) else { return next.run(req).await };
    let citizen = match service::authenticate(&ctx.kernel, &ctx.cfg, &token).await {
        Ok(Some(c)) => c,
        Ok(None) => return next.run(req).await,
        Err(e) => return e.into_response(),
    };
    let staff_viewer = req.extensions().get::<web::Viewer>().is_some();
    let viewer = web::Viewer { name: citizen.account.email.clone(), admin: false, citizen: true };
    req.extensions_mut().insert(CurrentCitizen(Arc::new(citizen)));
    if staff_viewer {
        return next.run(req).await;
    }
    req.extensions_mut().insert(viewer.clone());
    let mut res = next.run(req).await;
    res.extensions_mut().insert(viewer);
    res
}

fn current(parts: &Parts) -> Option<Arc<Citizen>> {
    parts.extensions.get::<CurrentCitizen>().map(|c| c.0.clone())
}

/// Sends a page request to the citizen login (and back afterwards); an API request gets 401.
fn to_login(parts: &Parts) -> Response {
    if parts.method == Method::GET && !web::shell::wants_json(parts.uri.path(), &parts.headers) {
        let back = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/buergerkonto");
        return Redirect::to(&format!("/buergerkonto/anmelden?weiter={}", web::url_encode(back))).into_response();
    }
    AppError::Unauthenticated.into_response()
}

/// A handler argument that requires a logged-in citizen (any trust level).
pub struct CitizenUser(pub Arc<Citizen>);

impl<S: Send + Sync> FromRequestParts<S> for CitizenUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        current(parts).map(CitizenUser).ok_or_else(|| to_login(parts))
    }
}

/// A handler argument for pages that adapt to a logged-in citizen but are open to everyone.
pub struct MaybeCitizen(pub Option<Arc<Citizen>>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeCitizen {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeCitizen(current(parts)))
    }
}

/// A handler argument that requires a citizen logged in at trust level `L` or higher
/// (`RequireLevel<Substantial>`). Below it, a page request goes to the step-up page, which
/// explains the level and offers the ways to reach it; an API request gets 403
/// `citizen.level_too_low`. Never a dead end.
pub struct RequireLevel<L: MinLevel>(pub Arc<Citizen>, PhantomData<L>);

impl<L: MinLevel, S: Send + Sync> FromRequestParts<S> for RequireLevel<L> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let citizen = current(parts).ok_or_else(|| to_login(parts))?;
        if citizen.meets(L::LEVEL) {
            return Ok(RequireLevel(citizen, PhantomData));
        }
        if web::shell::wants_json(parts.uri.path(), &parts.headers) {
            return Err(AppError::Conflict { code: "citizen.level_too_low" }.into_response());
        }
        let back = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/buergerkonto");
        let to = step_up_path(Some(&citizen), L::LEVEL, back).unwrap_or_else(|| back.to_owned());
        Err(Redirect::to(&to).into_response())
    }
}

/// Where a page goes when the session does not reach `level`: the login page, or the step-up
/// page that explains the level and offers the ways to reach it; both come back to `back`.
/// None when the citizen's session reaches the level.
pub fn step_up_path(citizen: Option<&Citizen>, level: TrustLevel, back: &str) -> Option<String> {
    match citizen {
        None => Some(format!("/buergerkonto/anmelden?weiter={}", web::url_encode(back))),
        Some(c) if c.meets(level) => None,
        Some(_) => {
            Some(format!("/buergerkonto/vertrauensniveau?niveau={}&weiter={}", level.as_str(), web::url_encode(back)))
        }
    }
}

/// The client's address and browser, for throttling, the audit log and the session list.
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientInfo { ip: super::client_ip(parts), user_agent: super::user_agent(parts) })
    }
}

/// The citizen account's pages and API.
pub fn routes(ctx: IdentityCtx) -> Router {
    Router::new()
        .route("/buergerkonto", get(pages::home))
        .route("/buergerkonto/registrieren", get(pages::register_form).post(pages::register))
        .route("/buergerkonto/bestaetigen", get(pages::verify_form).post(pages::verify))
        .route("/buergerkonto/anmelden", get(pages::login_form).post(pages::login))
        .route("/buergerkonto/anmelden/code", get(pages::code_form).post(pages::code))
        .route("/buergerkonto/abmelden", post(pages::logout))
        .route("/buergerkonto/ueberall-abmelden", post(pages::logout_everywhere))
        .route("/buergerkonto/passwort-vergessen", get(pages::forgot_form).post(pages::forgot))
        .route("/buergerkonto/passwort-neu", get(pages::reset_form).post(pages::reset))
        .route("/buergerkonto/passwort", post(pages::change_password))
        .route("/buergerkonto/e-mail", post(pages::change_email))
        .route("/buergerkonto/neue-adresse", get(pages::new_address_form).post(pages::new_address))
        .route("/buergerkonto/zwei-faktor", get(pages::totp_form).post(pages::totp_enable))
        .route("/buergerkonto/zwei-faktor/aus", post(pages::totp_disable))
        .route("/buergerkonto/profil", get(pages::profile).post(pages::update_profile))
        .route("/buergerkonto/nachweis", get(pages::proof))
        .route("/buergerkonto/vertrauensniveau", get(pages::step_up))
        .route("/buergerkonto/oidc/{provider}", get(oidc::start))
        .route("/buergerkonto/oidc/{provider}/rueckkehr", get(oidc::callback))
        .route("/buergerkonto/datenschutz", get(pages::privacy))
        .route("/buergerkonto/datenschutz/export", get(pages::export))
        .route("/buergerkonto/loeschen", post(pages::delete))
        .route("/buergerkonto/organisationen", get(pages::organisations).post(pages::create_organisation))
        .route("/buergerkonto/organisationen/{id}", get(pages::organisation))
        .route("/buergerkonto/organisationen/{id}/einladen", post(pages::invite))
        .route("/buergerkonto/handeln-fuer", post(pages::act_for))
        .route("/buergerkonto/einladung", get(pages::invitation_form).post(pages::accept_invitation))
        .route("/api/v1/account", get(api::account).post(api::register))
        .route("/api/v1/account/sessions", post(api::login))
        .route("/api/v1/account/sessions/second-factor", post(api::second_factor))
        .route("/api/v1/account/sessions/current", axum::routing::delete(api::logout))
        .route("/api/v1/account/profile", get(api::profile).put(api::put_profile))
        .route("/api/v1/account/export", get(api::export))
        .with_state(ctx)
}
