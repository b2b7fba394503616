//! The pages of a login over an identity provider: the start (a form button on the login and
//! step-up pages) and the provider's return. A provider that is down, or an answer that is
//! refused, gets a page that offers the other ways to log in.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kernel::AppError;
use serde::Deserialize;
use web::{Chrome, html};

use super::{CITIZEN_COOKIE, ClientInfo, MaybeCitizen};
use crate::citizen::model::TrustLevel;
use crate::citizen::oidc::service::{self, Callback, OidcError, StartRequest};
use crate::http::IdentityCtx;

/// The cookie that binds a login under way to this browser (its hash is stored with the state).
const BINDING_COOKIE: &str = "kh_oidc";

/// A provider's login button.
pub struct ProviderButton {
    pub name: String,
    pub label: String,
}

/// The providers that can confirm at least `level`, for the buttons.
pub fn buttons(ctx: &IdentityCtx, level: TrustLevel) -> Vec<ProviderButton> {
    ctx.oidc
        .all()
        .filter(|p| p.max_level() >= level)
        .map(|p| ProviderButton { name: p.name.clone(), label: p.label.clone() })
        .collect()
}

fn redirect_uri(ctx: &IdentityCtx, provider: &str) -> String {
    format!("{}/buergerkonto/oidc/{provider}/rueckkehr", ctx.public_url.trim_end_matches('/'))
}

#[derive(Template)]
#[template(path = "citizen/oidc_problem.html")]
struct ProblemPage {
    chrome: Chrome,
    heading: &'static str,
    text: &'static str,
    reason: Option<&'static str>,
    providers: Vec<ProviderButton>,
    level: &'static str,
    next: String,
    logged_in: bool,
}

/// The page for a provider that is down (503) or an answer that was refused (400): what
/// happened, and every other way to log in, the other providers first.
fn problem(ctx: &IdentityCtx, chrome: Chrome, e: OidcError, provider: &str, logged_in: bool) -> Response {
    let (status, heading, text, reason) = match e {
        OidcError::Down => {
            (StatusCode::SERVICE_UNAVAILABLE, "citizen.oidc.down_heading", "citizen.oidc.down_text", None)
        }
        OidcError::Refused(code) => {
            (StatusCode::BAD_REQUEST, "citizen.oidc.refused_heading", "citizen.oidc.refused_text", Some(code))
        }
        OidcError::App(e) => return e.into_response(),
    };
    let mut providers = buttons(ctx, TrustLevel::Basic);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        providers.retain(|p| p.name != provider);
    }
    let next = "/buergerkonto".to_owned();
    html(status, &ProblemPage { chrome, heading, text, reason, providers, level: "basic", next, logged_in })
}

#[derive(Deserialize)]
pub struct StartQuery {
    niveau: Option<String>,
    weiter: Option<String>,
}

/// Starts a login at the provider (`niveau`: the level asked for, `weiter`: where to return):
/// a cookie binding it to this browser, and off to the provider. A link, not a form: the
/// CSP's `form-action 'self'` would stop a form's redirect to another origin. A forged link
/// gains nothing: the login completes only in the browser that holds the binding cookie set
/// here, and starts are throttled per client address.
pub async fn start(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    client: ClientInfo,
    MaybeCitizen(citizen): MaybeCitizen,
    Path(provider): Path<String>,
    Query(q): Query<StartQuery>,
) -> Result<Response, AppError> {
    let wanted = q.niveau.as_deref().and_then(TrustLevel::parse).unwrap_or(TrustLevel::Basic);
    let next = q.weiter.as_deref().and_then(super::pages::safe_next).unwrap_or_else(|| "/buergerkonto".into());
    let redirect_uri = redirect_uri(&ctx, &provider);
    let r = StartRequest {
        provider: &provider,
        wanted,
        next: &next,
        citizen: citizen.as_deref(),
        redirect_uri: &redirect_uri,
        client_ip: &client.ip,
    };
    match service::start(&ctx.kernel, &ctx.cfg, &ctx.oidc, r).await {
        Ok(started) => {
            let mut res = Redirect::to(&started.redirect_to).into_response();
            let cookie = ctx.cookies.set(BINDING_COOKIE, &started.browser_token, Some(service::LOGIN_VALID_SECS));
            res.headers_mut().append(header::SET_COOKIE, cookie);
            Ok(res)
        }
        Err(OidcError::App(AppError::TooManyRequests { code, retry_after_secs })) => {
            let mut res = problem(&ctx, chrome, OidcError::Refused(code), &provider, citizen.is_some());
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            Ok(res)
        }
        Err(e) => Ok(problem(&ctx, chrome, e, &provider, citizen.is_some())),
    }
}

#[derive(Deserialize)]
pub struct ReturnQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

/// The provider sends the browser back here with `code` and `state` (or `error`).
pub async fn callback(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    client: ClientInfo,
    MaybeCitizen(citizen): MaybeCitizen,
    headers: HeaderMap,
    Path(provider): Path<String>,
    Query(q): Query<ReturnQuery>,
) -> Result<Response, AppError> {
    let redirect_uri = redirect_uri(&ctx, &provider);
    let session_token = ctx.cookies.get(&headers, CITIZEN_COOKIE).unwrap_or_default().to_owned();
    let cb = Callback {
        provider: &provider,
        state: q.state.as_deref().unwrap_or_default(),
        code: q.code.as_deref().unwrap_or_default(),
        error: q.error.as_deref(),
        iss: q.iss.as_deref(),
        browser_token: ctx.cookies.get(&headers, BINDING_COOKIE).unwrap_or_default(),
        session: citizen.as_deref().map(|c| (session_token.as_str(), c)),
        redirect_uri: &redirect_uri,
        user_agent: &client.user_agent,
        client_ip: &client.ip,
    };
    let result = service::finish(&ctx.kernel, &ctx.cfg, &ctx.oidc, cb).await;
    let done = match result {
        Ok(done) => done,
        Err(e) => return Ok(problem(&ctx, chrome, e, &provider, citizen.is_some())),
    };
    let to = if done.session.citizen.meets(done.wanted) {
        done.next
    } else {
        let next = web::url_encode(&done.next);
        format!("/buergerkonto/vertrauensniveau?niveau={}&weiter={next}", done.wanted.as_str())
    };
    let mut res = Redirect::to(&to).into_response();
    let session = ctx.cookies.set(CITIZEN_COOKIE, &done.session.token, Some(ctx.cfg.session_max_hours * 3600));
    res.headers_mut().append(header::SET_COOKIE, session);
    // Only a completed login ends the binding: a forged answer must not cancel the real one.
    res.headers_mut().append(header::SET_COOKIE, ctx.cookies.set(BINDING_COOKIE, "", Some(0)));
    Ok(res)
}
