//! The middleware every request passes, outermost first:
//!
//! 1. `context` — request id, language, translations, flash message, metrics, security headers.
//! 2. `error_pages` — turns every error response into the accessible HTML page or the JSON
//!    envelope, and logs internal errors once with the request id.
//! 3. `csrf` — a per-browser token (double-submit cookie) checked on every state-changing
//!    request; a failed check keeps what the user typed and offers to send it again.
//! 4. body limit (413) and panic catcher (500).

use std::sync::Arc;
use std::time::Instant;

use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use kernel::error::ErrorInfo;
use serde::{Deserialize, Serialize};

use crate::chrome::{Chrome, CsrfToken, Flash, RequestId, SetFlash, Viewer};
use crate::cookies::CookiePolicy;
use crate::i18n::{I18n, Lang};
use crate::metrics::Metrics;

/// `[web]` in the config file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// The address users reach this installation at. With `https://` cookies are `Secure`
    /// and HSTS is sent.
    pub public_url: String,
    /// The largest request body accepted, in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// Background tiles of interactive maps, as an XYZ URL template with `{z}`, `{x}`, `{y}`
    /// (e.g. basemap.de's web raster). Empty: maps show their points without a background and
    /// nothing is loaded from another server. Its origin is added to the CSP's `img-src`.
    pub map_tiles: String,
    /// The attribution the tile provider asks for, shown on the map.
    pub map_attribution: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            public_url: "http://127.0.0.1:8080".into(),
            max_body_bytes: 10 * 1024 * 1024,
            map_tiles: String::new(),
            map_attribution: String::new(),
        }
    }
}

/// The Content Security Policy: nothing inline, nothing from elsewhere. KERN's icons are
/// `data:` SVGs in its stylesheet, hence `img-src data:`; a configured map tile server is the
/// only other origin images may come from.
pub fn content_security_policy(cfg: &WebConfig) -> String {
    let tiles = tile_origin(&cfg.map_tiles).map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{tiles}; font-src 'self'; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

/// The origin (`https://host[:port]`) of a tile URL template; None for anything else.
fn tile_origin(template: &str) -> Option<String> {
    let (scheme, rest) = template.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    (matches!(scheme, "https" | "http") && host.chars().all(valid)).then(|| format!("{scheme}://{host}"))
}

/// Everything the middleware needs. Built once at start.
#[derive(Clone)]
pub struct Shell {
    pub i18n: Arc<I18n>,
    pub metrics: Arc<Metrics>,
    pub cookies: CookiePolicy,
    pub max_body_bytes: usize,
    csp: HeaderValue,
}

const CSRF_COOKIE: &str = "kh_csrf";
const LANG_COOKIE: &str = "kh_lang";
const FLASH_COOKIE: &str = "kh_flash";
const CSRF_FIELD: &str = "_csrf";
const CSRF_HEADER: &str = "x-csrf-token";

impl Shell {
    pub fn new(i18n: I18n, cfg: &WebConfig) -> Self {
        Shell {
            i18n: Arc::new(i18n),
            metrics: Arc::new(Metrics::default()),
            cookies: CookiePolicy { secure: cfg.public_url.starts_with("https://") },
            max_body_bytes: cfg.max_body_bytes,
            csp: HeaderValue::from_str(&content_security_policy(cfg))
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
        }
    }

    /// Wraps the application's routes in the shell. `inner` layers (such as the session
    /// lookup) run after the CSRF check and before the handler.
    pub fn wrap(&self, router: Router) -> Router {
        router
            .layer(tower_http::catch_panic::CatchPanicLayer::new())
            .layer(axum::extract::DefaultBodyLimit::max(self.max_body_bytes))
            .layer(middleware::from_fn_with_state(self.clone(), csrf))
            .layer(middleware::from_fn(error_pages))
            .layer(middleware::from_fn_with_state(self.clone(), context))
    }
}

async fn context(State(shell): State<Shell>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = kernel::random_token()[..16].to_owned();
    let headers = req.headers();
    let lang = shell
        .cookies
        .get(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .or_else(|| {
            headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language)
        })
        .unwrap_or_default();
    let flash = shell.cookies.get(headers, FLASH_COOKIE).and_then(Flash::decode);
    let had_flash_cookie = shell.cookies.get(headers, FLASH_COOKIE).is_some();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let ext = req.extensions_mut();
    ext.insert(RequestId(request_id.clone()));
    ext.insert(lang);
    ext.insert(shell.i18n.clone());
    if let Some(f) = flash {
        ext.insert(f);
    }

    let mut res = next.run(req).await;

    let status = res.status();
    let route =
        route.unwrap_or_else(|| if status == StatusCode::NOT_FOUND { "unmatched".into() } else { "other".into() });
    shell.metrics.record(method.as_str(), &route, status.as_u16(), started.elapsed());

    let set_flash = res.extensions_mut().remove::<SetFlash>();
    let h = res.headers_mut();
    if let Some(SetFlash(f)) = set_flash {
        h.append(header::SET_COOKIE, shell.cookies.set(FLASH_COOKIE, &f.encode(), None));
    } else if had_flash_cookie {
        h.append(header::SET_COOKIE, shell.cookies.set(FLASH_COOKIE, "", Some(0)));
    }
    security_headers(h, &shell.csp, shell.cookies.secure);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-request-id", v);
    }
    res
}

fn security_headers(h: &mut HeaderMap, csp: &HeaderValue, https: bool) {
    h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// True for requests answered in JSON: the API, and clients that ask only for JSON.
pub fn wants_json(path: &str, headers: &HeaderMap) -> bool {
    path.starts_with("/api/")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// The JSON error envelope of every API error.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable code, e.g. `not_found`, `identity.login_failed`.
    pub code: String,
    /// A message for people, in the language of the request.
    pub message: String,
    /// Problems with single fields of the request.
    pub fields: Vec<FieldProblem>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub code: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    message: String,
    show_request_id: bool,
}

fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        413 => "payload_too_large",
        422 => "invalid",
        429 => "too_many_requests",
        _ => "internal",
    }
}

fn already_rendered(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"))
}

async fn error_pages(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let json = wants_json(parts.uri.path(), &parts.headers);
    let mut chrome = Chrome::from_parts(&parts);
    let res = next.run(Request::from_parts(parts, body)).await;
    let status = res.status();
    if status.as_u16() < 400 {
        return res;
    }
    let info = res.extensions().get::<ErrorInfo>().cloned();
    if info.is_none() && already_rendered(&res) {
        return res;
    }
    let code = info.as_ref().map(|i| i.code).unwrap_or_else(|| code_for_status(status));
    if status.is_server_error() {
        let cause = info.as_ref().and_then(|i| i.internal.clone()).unwrap_or_else(|| format!("status {status}"));
        tracing::error!(request_id = %chrome.request_id, path = %chrome.path, %cause, "internal error");
    }
    chrome.viewer = res.extensions().get::<Viewer>().cloned().or(chrome.viewer);
    let mut headers = HeaderMap::new();
    if let Some(secs) = info.as_ref().and_then(|i| i.retry_after_secs) {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(allow) = res.headers().get(header::ALLOW).filter(|_| status == StatusCode::METHOD_NOT_ALLOWED) {
        headers.insert(header::ALLOW, allow.clone());
    }
    let message = chrome.error_message(code);
    let mut out = if json {
        let fields = info
            .map(|i| i.fields)
            .unwrap_or_default()
            .into_iter()
            .map(|f| FieldProblem { message: chrome.error_message(f.code), field: f.field, code: f.code.to_owned() })
            .collect();
        let envelope = ErrorEnvelope { error: ErrorBody { code: code.to_owned(), message, fields } };
        (status, axum::Json(envelope)).into_response()
    } else {
        let page = ErrorPage { status: status.as_u16(), message, show_request_id: status.is_server_error(), chrome };
        crate::chrome::html(status, &page)
    };
    out.headers_mut().extend(headers);
    out
}

async fn csrf(State(shell): State<Shell>, mut req: Request, next: Next) -> Response {
    let existing = shell.cookies.get(req.headers(), CSRF_COOKIE).filter(|t| t.len() == 64).map(str::to_owned);
    let fresh = existing.is_none();
    let token = existing.unwrap_or_else(kernel::random_token);

    // A machine client (a mobile app) sends no cookies, or its credential in an `Authorization`
    // header that no other site can make a browser send: with no ambient credential there is
    // nothing to forge, so its API calls need no token (and get no cookie).
    let machine_client = req.uri().path().starts_with("/api/")
        && (!req.headers().contains_key(header::COOKIE) || req.headers().contains_key(header::AUTHORIZATION));
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) && !machine_client {
        let cross_site = req.headers().get("sec-fetch-site").is_some_and(|v| v == "cross-site");
        let header_token = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let query_token = req.uri().query().and_then(|q| form_field(q.as_bytes(), CSRF_FIELD));
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        let (mut parts, body) = req.into_parts();
        let (bytes, unread_body) = if is_form {
            match axum::body::to_bytes(body, shell.max_body_bytes).await {
                Ok(b) => (b, None),
                Err(_) => return kernel::AppError::PayloadTooLarge.into_response(),
            }
        } else {
            (Bytes::new(), Some(body))
        };
        let form_token = if is_form { form_field(&bytes, CSRF_FIELD) } else { None };
        let provided = header_token.or(form_token).or(query_token);
        let ok =
            !cross_site && !fresh && provided.is_some_and(|p| kernel::constant_time_eq(p.as_bytes(), token.as_bytes()));
        if !ok {
            parts.extensions.insert(CsrfToken(token.clone()));
            let mut res = csrf_rejected(&parts, is_form.then_some(&bytes));
            res.headers_mut()
                .append(header::SET_COOKIE, shell.cookies.set(CSRF_COOKIE, &token, Some(CSRF_COOKIE_MAX_AGE)));
            return res;
        }
        // The body was read to find the token: hand the same bytes on to the handler.
        req = Request::from_parts(parts, unread_body.unwrap_or_else(|| Body::from(bytes)));
    }

    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut res = next.run(req).await;
    if fresh && !machine_client {
        res.headers_mut().append(header::SET_COOKIE, shell.cookies.set(CSRF_COOKIE, &token, Some(CSRF_COOKIE_MAX_AGE)));
    }
    res
}

/// The CSRF cookie lives a year: long enough that a form left open never loses it.
const CSRF_COOKIE_MAX_AGE: i64 = 365 * 24 * 3600;

/// One field of a URL-encoded form or query string.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A field the user typed, carried into a page that offers to send the form again.
#[derive(Clone, Debug)]
pub struct KeptField {
    pub name: String,
    pub value: String,
}

/// The fields of a rejected form worth keeping: everything but the token and passwords.
pub fn kept_fields(body: &[u8]) -> Vec<KeptField> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != CSRF_FIELD && !k.contains("password"))
        .map(|(name, value)| KeptField { name, value })
        .collect()
}

#[derive(Template)]
#[template(path = "csrf_failed.html")]
struct CsrfFailedPage {
    chrome: Chrome,
    action: String,
    fields: Vec<KeptField>,
}

fn csrf_rejected(parts: &axum::http::request::Parts, form: Option<&Bytes>) -> Response {
    let chrome = Chrome::from_parts(parts);
    match form {
        Some(body) if !wants_json(parts.uri.path(), &parts.headers) => {
            let action = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
            crate::chrome::html(StatusCode::FORBIDDEN, &CsrfFailedPage { chrome, action, fields: kept_fields(body) })
        }
        _ => {
            let mut res = StatusCode::FORBIDDEN.into_response();
            res.extensions_mut().insert(ErrorInfo {
                code: "csrf_failed",
                fields: Vec::new(),
                internal: None,
                retry_after_secs: None,
            });
            res
        }
    }
}

/// `GET /sprache/{code}?zurueck=/path`: remembers the language and goes back.
pub async fn switch_language(
    State(shell): State<Shell>,
    axum::extract::Path(code): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<SwitchQuery>,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let back = q
        .zurueck
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\'))
        .unwrap_or_else(|| "/".into());
    let mut res = axum::response::Redirect::to(&back).into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, shell.cookies.set(LANG_COOKIE, lang.code(), Some(CSRF_COOKIE_MAX_AGE)));
    res
}

#[derive(Debug, Deserialize)]
pub struct SwitchQuery {
    pub zurueck: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_configured_tile_server_may_serve_images_beside_the_site() {
        let mut cfg = WebConfig::default();
        assert!(content_security_policy(&cfg).contains("img-src 'self' data:; font-src"));
        cfg.map_tiles = "https://sgx.geodatenzentrum.de/wmts_basemapde/tile/1.0.0/de_basemapde_web_raster_farbe/default/GLOBAL_WEBMERCATOR/{z}/{y}/{x}.png".into();
        assert!(
            content_security_policy(&cfg).contains("img-src 'self' data: https://sgx.geodatenzentrum.de; font-src")
        );
        for bad in
            ["javascript:alert(1)", "https://evil.example; script-src *", "ftp://tiles.example/{z}", "https:///x"]
        {
            cfg.map_tiles = bad.into();
            assert!(content_security_policy(&cfg).contains("img-src 'self' data:; font-src"), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_form_body_is_read_without_panicking_and_never_keeps_tokens_or_passwords(
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
            fields in proptest::collection::vec(("[a-z_.]{1,12}", "\\PC{0,20}"), 0..8)
        ) {
            let _ = form_field(&body, "_csrf");
            let _ = kept_fields(&body);
            let mut all = fields.clone();
            all.push(("_csrf".into(), "t".into()));
            all.push(("new_password".into(), "geheim".into()));
            let encoded = serde_urlencoded::to_string(&all).expect("encodes");
            let kept = kept_fields(encoded.as_bytes());
            proptest::prop_assert!(kept.iter().all(|f| f.name != "_csrf" && !f.name.contains("password")));
            let expected = fields.iter().filter(|(k, _)| k != "_csrf" && !k.contains("password")).count();
            proptest::prop_assert_eq!(kept.len(), expected);
        }
    }
}
