//! The citizen account's HTML pages, in plain German (and English). Handlers extract, call one
//! service function and render; refused forms keep what was typed (never passwords).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kernel::{AppError, OrganisationId};
use serde::Deserialize;
use web::form::{FormFields, field};
use web::{Chrome, FlashKind, FormErrors, html, page, redirect_with_flash};

use super::oidc::{self, ProviderButton};
use super::{CITIZEN_COOKIE, CitizenUser, ClientInfo, RequireLevel};
use crate::citizen::model::{Citizen, Member, Membership, OrgRole, Profile, ProfileField, Substantial, TrustLevel};
use crate::citizen::service::{
    self, CitizenLogin, DataAccess, Letters, LinkedProvider, LoginOutcome, NewCitizenSession,
};
use crate::citizen::store::Purpose;
use crate::citizen::totp;
use crate::http::IdentityCtx;
use crate::model::Tenant;

/// A local path to return to after login; anything else is dropped.
pub(super) fn safe_next(next: &str) -> Option<String> {
    (next.starts_with('/') && !next.starts_with("//") && !next.contains('\\')).then(|| next.to_owned())
}

fn letters<'a>(ctx: &'a IdentityCtx, chrome: &'a Chrome) -> Letters<'a> {
    Letters { chrome, base_url: ctx.public_url.trim_end_matches('/') }
}

/// The session cookie of a new session (a new id at every login and change of privilege).
fn with_session(ctx: &IdentityCtx, mut res: Response, session: &NewCitizenSession) -> Response {
    let cookie = ctx.cookies.set(CITIZEN_COOKIE, &session.token, Some(ctx.cfg.session_max_hours * 3600));
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res
}

fn without_session(ctx: &IdentityCtx, mut res: Response) -> Response {
    res.headers_mut().append(header::SET_COOKIE, ctx.cookies.set(CITIZEN_COOKIE, "", Some(0)));
    res
}

fn this_token(ctx: &IdentityCtx, headers: &HeaderMap) -> String {
    ctx.cookies.get(headers, CITIZEN_COOKIE).unwrap_or_default().to_owned()
}

fn status_of(e: &AppError) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
}

/// Form errors of a refused input, or None for errors that are no fault of the input.
fn form_errors(chrome: &Chrome, e: &AppError) -> Option<FormErrors> {
    match e {
        AppError::Invalid { fields, code } if fields.is_empty() => Some(FormErrors::general(chrome, code)),
        AppError::Invalid { fields, .. } => Some(FormErrors::new(chrome, fields)),
        AppError::TooManyRequests { code, .. } | AppError::Conflict { code } => Some(FormErrors::general(chrome, code)),
        _ => None,
    }
}

// ---- a page that says one thing (sent, confirmed, a link that no longer works) ----

/// A button that sends a link's token (so that mail scanners opening the link change nothing).
struct TokenButton {
    action: &'static str,
    token: String,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "citizen/message.html")]
struct MessagePage {
    chrome: Chrome,
    heading: &'static str,
    texts: Vec<String>,
    button: Option<TokenButton>,
    links: Vec<(&'static str, &'static str)>,
}

fn message(chrome: Chrome, heading: &'static str, texts: &[&str]) -> MessagePage {
    let texts = texts.iter().map(|k| chrome.t(k).to_owned()).collect();
    MessagePage { chrome, heading, texts, button: None, links: Vec::new() }
}

/// The page for a link that does not work (unknown, used, expired): what happened and what to do.
fn link_problem(chrome: Chrome, e: AppError, retry: (&'static str, &'static str)) -> Response {
    let status = status_of(&e);
    let mut m = message(chrome, "citizen.link_problem_heading", &[]);
    m.texts = vec![m.chrome.error_message(e.code())];
    m.links = vec![retry, ("/buergerkonto/anmelden", "citizen.to_login")];
    html(status, &m)
}

#[derive(Deserialize)]
pub struct TokenQuery {
    t: Option<String>,
}

async fn token_page(
    ctx: &IdentityCtx,
    chrome: Chrome,
    token: Option<String>,
    purpose: Purpose,
    (heading, text, action, label): (&'static str, &'static str, &'static str, &'static str),
    retry: (&'static str, &'static str),
) -> Result<Response, AppError> {
    let token = token.unwrap_or_default();
    match service::check_link(&ctx.kernel, &token, purpose).await {
        Ok(()) => {
            let mut m = message(chrome, heading, &[text]);
            m.button = Some(TokenButton { action, token, label });
            Ok(page(&m))
        }
        Err(e @ AppError::Invalid { .. }) => Ok(link_problem(chrome, e, retry)),
        Err(e) => Err(e),
    }
}

// ---- registration ----

#[derive(Template)]
#[template(path = "citizen/register.html")]
struct RegisterPage {
    chrome: Chrome,
    errors: FormErrors,
    email: String,
}

pub async fn register_form(chrome: Chrome) -> Response {
    page(&RegisterPage { chrome, errors: FormErrors::none(), email: String::new() })
}

/// Answers every accepted registration alike, whether the address is new, unverified or has
/// an account: "we sent you a mail".
pub async fn register(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    client: ClientInfo,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let (email, password) = (field(&f, "email"), field(&f, "password"));
    if password != field(&f, "repeat_password") {
        let errors = FormErrors::new(
            &chrome,
            &[kernel::FieldError { field: "repeat_password".into(), code: "identity.passwords_differ" }],
        );
        let p = RegisterPage { chrome, errors, email: email.to_owned() };
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, &p));
    }
    match service::register(&ctx.kernel, &ctx.cfg, &letters(&ctx, &chrome), email, password, &client.ip).await {
        Ok(()) => {
            let mut m = message(chrome, "citizen.mail_sent_heading", &["citizen.register_sent", "citizen.check_spam"]);
            m.texts.insert(0, email.trim().to_lowercase());
            Ok(page(&m))
        }
        Err(e) => match form_errors(&chrome, &e) {
            Some(errors) => {
                let status = status_of(&e);
                let mut res = html(status, &RegisterPage { chrome, errors, email: email.to_owned() });
                if let AppError::TooManyRequests { retry_after_secs, .. } = e {
                    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                }
                Ok(res)
            }
            None => Err(e),
        },
    }
}

pub async fn verify_form(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    let texts = ("citizen.verify_heading", "citizen.verify_text", "/buergerkonto/bestaetigen", "citizen.verify_button");
    token_page(&ctx, chrome, q.t, Purpose::VerifyEmail, texts, ("/buergerkonto/registrieren", "citizen.register_again"))
        .await
}

pub async fn verify(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    match service::verify_email(&ctx.kernel, field(&f, "t")).await {
        Ok(()) => Ok(redirect_with_flash("/buergerkonto/anmelden", FlashKind::Success, "citizen.verified", None)),
        Err(e @ AppError::Invalid { .. }) => {
            Ok(link_problem(chrome, e, ("/buergerkonto/registrieren", "citizen.register_again")))
        }
        Err(e) => Err(e),
    }
}

// ---- login ----

#[derive(Template)]
#[template(path = "citizen/login.html")]
struct LoginPage {
    chrome: Chrome,
    errors: FormErrors,
    email: String,
    next: String,
    providers: Vec<ProviderButton>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    weiter: Option<String>,
}

pub async fn login_form(State(ctx): State<IdentityCtx>, chrome: Chrome, Query(q): Query<NextQuery>) -> Response {
    let next = q.weiter.as_deref().and_then(safe_next).unwrap_or_default();
    let providers = oidc::buttons(&ctx, TrustLevel::Basic);
    page(&LoginPage { chrome, errors: FormErrors::none(), email: String::new(), next, providers })
}

pub async fn login(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    client: ClientInfo,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let next = safe_next(field(&f, "weiter"));
    let attempt = CitizenLogin {
        email: field(&f, "email"),
        password: field(&f, "password"),
        client_ip: &client.ip,
        user_agent: &client.user_agent,
    };
    match service::login(&ctx.kernel, &ctx.cfg, attempt).await {
        Ok(LoginOutcome::Done(session)) => {
            let to = next.unwrap_or_else(|| "/buergerkonto".into());
            Ok(with_session(&ctx, Redirect::to(&to).into_response(), &session))
        }
        Ok(LoginOutcome::SecondFactor(pending)) => {
            let to = format!("/buergerkonto/anmelden/code?weiter={}", web::url_encode(next.as_deref().unwrap_or("")));
            Ok(with_session(&ctx, Redirect::to(&to).into_response(), &pending))
        }
        Err(e) => match form_errors(&chrome, &e) {
            Some(errors) => {
                let p = LoginPage {
                    chrome,
                    errors,
                    email: field(&f, "email").to_owned(),
                    next: next.unwrap_or_default(),
                    providers: oidc::buttons(&ctx, TrustLevel::Basic),
                };
                Ok(html(status_of(&e), &p))
            }
            None => Err(e),
        },
    }
}

#[derive(Template)]
#[template(path = "citizen/code.html")]
struct CodePage {
    chrome: Chrome,
    errors: FormErrors,
    next: String,
}

pub async fn code_form(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    if !service::is_pending_second_factor(&ctx.kernel, &this_token(&ctx, &headers)).await? {
        return Ok(Redirect::to("/buergerkonto/anmelden").into_response());
    }
    let next = q.weiter.as_deref().and_then(safe_next).unwrap_or_default();
    Ok(page(&CodePage { chrome, errors: FormErrors::none(), next }))
}

pub async fn code(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    client: ClientInfo,
    headers: HeaderMap,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let next = safe_next(field(&f, "weiter"));
    let token = this_token(&ctx, &headers);
    match service::second_factor(&ctx.kernel, &ctx.cfg, &token, field(&f, "code"), &client.ip).await {
        Ok(session) => {
            let to = next.unwrap_or_else(|| "/buergerkonto".into());
            Ok(with_session(&ctx, Redirect::to(&to).into_response(), &session))
        }
        Err(AppError::Unauthenticated) => Ok(Redirect::to("/buergerkonto/anmelden").into_response()),
        Err(e) => match form_errors(&chrome, &e) {
            Some(errors) => Ok(html(status_of(&e), &CodePage { chrome, errors, next: next.unwrap_or_default() })),
            None => Err(e),
        },
    }
}

pub async fn logout(State(ctx): State<IdentityCtx>, headers: HeaderMap) -> Result<Response, AppError> {
    let token = this_token(&ctx, &headers);
    if !token.is_empty() {
        service::logout(&ctx.kernel, &token).await?;
    }
    Ok(without_session(&ctx, redirect_with_flash("/", FlashKind::Success, "identity.logged_out", None)))
}

pub async fn logout_everywhere(
    State(ctx): State<IdentityCtx>,
    CitizenUser(citizen): CitizenUser,
) -> Result<Response, AppError> {
    service::logout_everywhere(&ctx.kernel, &citizen).await?;
    let res = redirect_with_flash("/buergerkonto/anmelden", FlashKind::Success, "identity.logged_out_everywhere", None);
    Ok(without_session(&ctx, res))
}

// ---- password reset ----

#[derive(Template)]
#[template(path = "citizen/forgot.html")]
struct ForgotPage {
    chrome: Chrome,
    errors: FormErrors,
    email: String,
}

pub async fn forgot_form(chrome: Chrome) -> Response {
    page(&ForgotPage { chrome, errors: FormErrors::none(), email: String::new() })
}

pub async fn forgot(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    client: ClientInfo,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let email = field(&f, "email");
    match service::request_reset(&ctx.kernel, &ctx.cfg, &letters(&ctx, &chrome), email, &client.ip).await {
        Ok(()) => {
            let mut m = message(chrome, "citizen.mail_sent_heading", &["citizen.reset_sent", "citizen.check_spam"]);
            m.texts.insert(0, email.trim().to_lowercase());
            Ok(page(&m))
        }
        Err(e) => match form_errors(&chrome, &e) {
            Some(errors) => Ok(html(status_of(&e), &ForgotPage { chrome, errors, email: email.to_owned() })),
            None => Err(e),
        },
    }
}

#[derive(Template)]
#[template(path = "citizen/new_password.html")]
struct NewPasswordPage {
    chrome: Chrome,
    errors: FormErrors,
    token: String,
}

pub async fn reset_form(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    let token = q.t.unwrap_or_default();
    match service::check_link(&ctx.kernel, &token, Purpose::ResetPassword).await {
        Ok(()) => Ok(page(&NewPasswordPage { chrome, errors: FormErrors::none(), token })),
        Err(e @ AppError::Invalid { .. }) => {
            Ok(link_problem(chrome, e, ("/buergerkonto/passwort-vergessen", "citizen.reset_again")))
        }
        Err(e) => Err(e),
    }
}

pub async fn reset(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let token = field(&f, "t").to_owned();
    let (password, repeat) = (field(&f, "password"), field(&f, "repeat_password"));
    let result = if password != repeat {
        Err(AppError::invalid("identity.passwords_differ", "repeat_password"))
    } else {
        service::reset_password(&ctx.kernel, &token, password).await
    };
    match result {
        Ok(()) => {
            Ok(redirect_with_flash("/buergerkonto/anmelden", FlashKind::Success, "citizen.password_reset_done", None))
        }
        Err(e @ AppError::Invalid { .. }) if e.code().starts_with("citizen.link_") => {
            Ok(link_problem(chrome, e, ("/buergerkonto/passwort-vergessen", "citizen.reset_again")))
        }
        Err(e) => match form_errors(&chrome, &e) {
            Some(errors) => Ok(html(status_of(&e), &NewPasswordPage { chrome, errors, token })),
            None => Err(e),
        },
    }
}

// ---- the account: overview and security ----

#[derive(Template)]
#[template(path = "citizen/home.html")]
struct HomePage {
    chrome: Chrome,
    citizen: std::sync::Arc<Citizen>,
    sessions: i64,
    recovery_codes_left: i64,
    organisations: Vec<Membership>,
    linked_providers: Vec<LinkedProvider>,
    errors: FormErrors,
    /// Which form the errors belong to: `password`, `email`, `totp`.
    errors_for: &'static str,
    no_errors: FormErrors,
}

impl HomePage {
    fn acting_for_name(&self) -> Option<String> {
        let org = self.citizen.session.acting_for?;
        self.organisations.iter().find(|m| m.organisation == org).map(|m| m.name.clone())
    }
}

async fn home_page(
    ctx: &IdentityCtx,
    chrome: Chrome,
    citizen: std::sync::Arc<Citizen>,
    errors: FormErrors,
    errors_for: &'static str,
) -> Result<HomePage, AppError> {
    let sessions = service::live_sessions(&ctx.kernel, &citizen).await?;
    let recovery_codes_left = service::unused_recovery_codes(&ctx.kernel, &citizen).await?;
    let organisations = service::memberships(&ctx.kernel, &citizen).await?;
    let linked_providers = service::linked_providers(&ctx.kernel, &citizen).await?;
    let no_errors = FormErrors::none();
    Ok(HomePage {
        chrome,
        citizen,
        sessions,
        recovery_codes_left,
        organisations,
        linked_providers,
        errors,
        errors_for,
        no_errors,
    })
}

pub async fn home(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
) -> Result<Response, AppError> {
    Ok(page(&home_page(&ctx, chrome, citizen, FormErrors::none(), "").await?))
}

async fn home_with_errors(
    ctx: &IdentityCtx,
    chrome: Chrome,
    citizen: std::sync::Arc<Citizen>,
    e: AppError,
    errors_for: &'static str,
) -> Result<Response, AppError> {
    match form_errors(&chrome, &e) {
        Some(errors) => Ok(html(status_of(&e), &home_page(ctx, chrome, citizen, errors, errors_for).await?)),
        None => Err(e),
    }
}

pub async fn change_password(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
    headers: HeaderMap,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let result = if field(&f, "new_password") != field(&f, "repeat_password") {
        Err(AppError::invalid("identity.passwords_differ", "repeat_password"))
    } else {
        let token = this_token(&ctx, &headers);
        let (current, new) = (field(&f, "current_password"), field(&f, "new_password"));
        service::change_password(&ctx.kernel, &citizen, &token, current, new).await
    };
    match result {
        Ok(()) => Ok(redirect_with_flash("/buergerkonto", FlashKind::Success, "identity.password_changed", None)),
        Err(e) => home_with_errors(&ctx, chrome, citizen, e, "password").await,
    }
}

pub async fn change_email(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let (password, new) = (field(&f, "current_password"), field(&f, "new_email"));
    match service::request_email_change(&ctx.kernel, &ctx.cfg, &letters(&ctx, &chrome), &citizen, password, new).await {
        Ok(()) => Ok(redirect_with_flash("/buergerkonto", FlashKind::Info, "citizen.email_change_sent", None)),
        Err(e) => home_with_errors(&ctx, chrome, citizen, e, "email").await,
    }
}

pub async fn new_address_form(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    let texts =
        ("citizen.new_address_heading", "citizen.new_address_text", "/buergerkonto/neue-adresse", "citizen.confirm");
    token_page(&ctx, chrome, q.t, Purpose::ChangeEmail, texts, ("/buergerkonto", "citizen.to_account")).await
}

pub async fn new_address(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    match service::confirm_email_change(&ctx.kernel, field(&f, "t")).await {
        Ok(()) => Ok(redirect_with_flash("/buergerkonto", FlashKind::Success, "citizen.email_changed", None)),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict { .. })) => {
            Ok(link_problem(chrome, e, ("/buergerkonto", "citizen.to_account")))
        }
        Err(e) => Err(e),
    }
}

// ---- second factor ----

#[derive(Template)]
#[template(path = "citizen/totp.html")]
struct TotpPage {
    chrome: Chrome,
    errors: FormErrors,
    secret: String,
    uri: String,
    /// Shown once, right after the second factor was turned on.
    recovery_codes: Vec<String>,
}

fn totp_page(chrome: Chrome, citizen: &Citizen, secret: String, errors: FormErrors) -> TotpPage {
    let uri = totp::provisioning_uri(&secret, &citizen.account.email, chrome.t("site.title"));
    TotpPage { chrome, errors, secret, uri, recovery_codes: Vec::new() }
}

pub async fn totp_form(chrome: Chrome, CitizenUser(citizen): CitizenUser) -> Response {
    page(&totp_page(chrome, &citizen, service::new_totp_secret(), FormErrors::none()))
}

/// Turns the second factor on and shows the recovery codes on this response only.
pub async fn totp_enable(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let secret = field(&f, "secret").to_owned();
    if totp::base32_decode(&secret).is_none_or(|b| b.len() < 16) {
        return Err(AppError::invalid("citizen.code_wrong", "code"));
    }
    match service::enable_totp(&ctx.kernel, &ctx.cfg, &citizen, &secret, field(&f, "code")).await {
        Ok(codes) => {
            let mut p = totp_page(chrome, &citizen, secret, FormErrors::none());
            p.recovery_codes = codes;
            Ok(page(&p))
        }
        Err(e) => match form_errors(&chrome, &e) {
            Some(errors) => Ok(html(status_of(&e), &totp_page(chrome, &citizen, secret, errors))),
            None => Err(e),
        },
    }
}

pub async fn totp_disable(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    match service::disable_totp(&ctx.kernel, &citizen, field(&f, "totp_password")).await {
        Ok(()) => Ok(redirect_with_flash("/buergerkonto", FlashKind::Success, "citizen.totp_disabled", None)),
        Err(AppError::Invalid { .. }) => {
            let e = AppError::invalid("identity.current_password_wrong", "totp_password");
            home_with_errors(&ctx, chrome, citizen, e, "totp").await
        }
        Err(e) => Err(e),
    }
}

// ---- profile ----

/// One row of the profile form.
struct ProfileRow {
    field: ProfileField,
    value: String,
    verified: bool,
}

#[derive(Template)]
#[template(path = "citizen/profile.html")]
struct ProfilePage {
    chrome: Chrome,
    citizen: std::sync::Arc<Citizen>,
    rows: Vec<ProfileRow>,
    municipalities: Vec<Tenant>,
    jurisdiction: Option<Tenant>,
    errors: FormErrors,
}

impl ProfilePage {
    fn unverified_label(&self, f: &ProfileField) -> String {
        format!("{} ({})", self.chrome.t(f.label_key()), self.chrome.t("citizen.unverified"))
    }

    fn municipality_name(&self, slug: &str) -> String {
        self.municipalities.iter().find(|t| t.slug == slug).map(|t| t.name.clone()).unwrap_or_else(|| slug.to_owned())
    }
}

async fn profile_page(
    ctx: &IdentityCtx,
    chrome: Chrome,
    citizen: std::sync::Arc<Citizen>,
    typed: Option<&FormFields>,
    errors: FormErrors,
) -> Result<ProfilePage, AppError> {
    let stored = service::profile(&ctx.kernel, &citizen).await?;
    let rows = ProfileField::ALL
        .into_iter()
        .map(|f| {
            let verified = stored.is_verified(f);
            let value = match typed {
                Some(form) if !verified => field(form, f.as_str()).to_owned(),
                _ => stored.value(f).to_owned(),
            };
            ProfileRow { field: f, value, verified }
        })
        .collect();
    let municipalities = service::municipalities(&ctx.kernel).await?;
    let jurisdiction = service::jurisdiction(&ctx.kernel, &stored).await?;
    Ok(ProfilePage { chrome, citizen, rows, municipalities, jurisdiction, errors })
}

pub async fn profile(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
) -> Result<Response, AppError> {
    Ok(page(&profile_page(&ctx, chrome, citizen, None, FormErrors::none()).await?))
}

fn profile_input(f: &FormFields) -> Vec<(ProfileField, String)> {
    ProfileField::ALL
        .into_iter()
        .filter(|p| f.iter().any(|(k, _)| k == p.as_str()))
        .map(|p| (p, field(f, p.as_str()).to_owned()))
        .collect()
}

pub async fn update_profile(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    match service::update_profile(&ctx.kernel, &citizen, &profile_input(&f)).await {
        Ok(()) => Ok(redirect_with_flash("/buergerkonto/profil", FlashKind::Success, "citizen.profile_saved", None)),
        Err(e) => match form_errors(&chrome, &e) {
            Some(errors) => Ok(html(status_of(&e), &profile_page(&ctx, chrome, citizen, Some(&f), errors).await?)),
            None => Err(e),
        },
    }
}

// ---- trust level ----

#[derive(Template)]
#[template(path = "citizen/proof.html")]
struct ProofPage {
    chrome: Chrome,
    citizen: std::sync::Arc<Citizen>,
    profile: Profile,
}

/// The identity confirmed by an identity provider: only at level substantial or higher.
pub async fn proof(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    RequireLevel(citizen, _): RequireLevel<Substantial>,
) -> Result<Response, AppError> {
    let mut profile = service::profile(&ctx.kernel, &citizen).await?;
    profile.values.retain(|v| v.verified);
    Ok(page(&ProofPage { chrome, citizen, profile }))
}

#[derive(Template)]
#[template(path = "citizen/step_up.html")]
struct StepUpPage {
    chrome: Chrome,
    needed: TrustLevel,
    current: Option<TrustLevel>,
    next: String,
    providers: Vec<ProviderButton>,
}

#[derive(Deserialize)]
pub struct StepUpQuery {
    niveau: Option<String>,
    weiter: Option<String>,
}

/// Where a session below the level a service needs is sent: it says which level is needed,
/// which the session has, and offers the identity providers that reach it (the login there
/// asks for the level with `acr_values`); without one configured, the page says so.
pub async fn step_up(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    citizen: Option<axum::Extension<super::CurrentCitizen>>,
    Query(q): Query<StepUpQuery>,
) -> Response {
    let needed = q.niveau.as_deref().and_then(TrustLevel::parse).unwrap_or(TrustLevel::Substantial);
    let next = q.weiter.as_deref().and_then(safe_next).unwrap_or_else(|| "/buergerkonto".into());
    let current = citizen.map(|c| c.0.0.session.trust_level);
    let providers = oidc::buttons(&ctx, needed);
    page(&StepUpPage { chrome, needed, current, next, providers })
}

// ---- privacy cockpit ----

#[derive(Template)]
#[template(path = "citizen/privacy.html")]
struct PrivacyPage {
    chrome: Chrome,
    entries: Vec<DataAccess>,
    errors: FormErrors,
}

async fn privacy_page(
    ctx: &IdentityCtx,
    chrome: Chrome,
    citizen: &Citizen,
    errors: FormErrors,
) -> Result<PrivacyPage, AppError> {
    Ok(PrivacyPage { chrome, entries: service::privacy_log(&ctx.kernel, citizen).await?, errors })
}

pub async fn privacy(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
) -> Result<Response, AppError> {
    Ok(page(&privacy_page(&ctx, chrome, &citizen, FormErrors::none()).await?))
}

/// All data of the account as a JSON download.
pub async fn export(State(ctx): State<IdentityCtx>, CitizenUser(citizen): CitizenUser) -> Result<Response, AppError> {
    let data = service::export(&ctx.kernel, &citizen).await?;
    let mut res = axum::Json(data).into_response();
    res.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"buergerkonto-daten.json\""),
    );
    Ok(res)
}

pub async fn delete(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    match service::delete_account(&ctx.kernel, &citizen, field(&f, "current_password")).await {
        Ok(()) => Ok(without_session(&ctx, redirect_with_flash("/", FlashKind::Success, "citizen.deleted", None))),
        Err(e) => match form_errors(&chrome, &e) {
            Some(errors) => Ok(html(status_of(&e), &privacy_page(&ctx, chrome, &citizen, errors).await?)),
            None => Err(e),
        },
    }
}

// ---- organisations ----

#[derive(Template)]
#[template(path = "citizen/organisations.html")]
struct OrganisationsPage {
    chrome: Chrome,
    organisations: Vec<Membership>,
    errors: FormErrors,
}

pub async fn organisations(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
) -> Result<Response, AppError> {
    let organisations = service::memberships(&ctx.kernel, &citizen).await?;
    Ok(page(&OrganisationsPage { chrome, organisations, errors: FormErrors::none() }))
}

pub async fn create_organisation(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    match service::create_organisation(&ctx.kernel, &citizen, field(&f, "name")).await {
        Ok(id) => Ok(redirect_with_flash(
            &format!("/buergerkonto/organisationen/{id}"),
            FlashKind::Success,
            "citizen.organisation_created",
            None,
        )),
        Err(e) => match form_errors(&chrome, &e) {
            Some(errors) => {
                let organisations = service::memberships(&ctx.kernel, &citizen).await?;
                Ok(html(status_of(&e), &OrganisationsPage { chrome, organisations, errors }))
            }
            None => Err(e),
        },
    }
}

#[derive(Template)]
#[template(path = "citizen/organisation.html")]
struct OrganisationPage {
    chrome: Chrome,
    mine: Membership,
    members: Vec<Member>,
    acting: bool,
    errors: FormErrors,
}

async fn organisation_page(
    ctx: &IdentityCtx,
    chrome: Chrome,
    citizen: &Citizen,
    id: OrganisationId,
    errors: FormErrors,
) -> Result<OrganisationPage, AppError> {
    let (mine, members) = service::organisation(&ctx.kernel, citizen, id).await?;
    let acting = citizen.session.acting_for == Some(id);
    Ok(OrganisationPage { chrome, mine, members, acting, errors })
}

pub async fn organisation(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(page(&organisation_page(&ctx, chrome, &citizen, OrganisationId(id), FormErrors::none()).await?))
}

pub async fn invite(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
    Path(id): Path<i64>,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let role = OrgRole::parse(field(&f, "role")).unwrap_or(OrgRole::Member);
    let org = OrganisationId(id);
    let l = letters(&ctx, &chrome);
    match service::invite(&ctx.kernel, &ctx.cfg, &l, &citizen, org, field(&f, "email"), role).await {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/buergerkonto/organisationen/{id}"),
            FlashKind::Success,
            "citizen.invitation_sent",
            Some(field(&f, "email").to_lowercase()),
        )),
        Err(e) => match form_errors(&chrome, &e) {
            Some(errors) => Ok(html(status_of(&e), &organisation_page(&ctx, chrome, &citizen, org, errors).await?)),
            None => Err(e),
        },
    }
}

/// Starts acting for an organisation (field `organisation`) or stops (empty): a new session.
pub async fn act_for(
    State(ctx): State<IdentityCtx>,
    CitizenUser(citizen): CitizenUser,
    headers: HeaderMap,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    let org = field(&f, "organisation").parse().ok().map(OrganisationId);
    let session = service::act_for(&ctx.kernel, &ctx.cfg, &this_token(&ctx, &headers), &citizen, org).await?;
    let key = if org.is_some() { "citizen.acting_for_organisation" } else { "citizen.acting_for_self" };
    let to = org.map(|o| format!("/buergerkonto/organisationen/{o}")).unwrap_or_else(|| "/buergerkonto".into());
    Ok(with_session(&ctx, redirect_with_flash(&to, FlashKind::Success, key, None), &session))
}

/// The invitation link: log in first (with the invited address), then join.
pub async fn invitation_form(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(_): CitizenUser,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    let texts = (
        "citizen.invitation_heading",
        "citizen.invitation_text",
        "/buergerkonto/einladung",
        "citizen.invitation_accept",
    );
    token_page(&ctx, chrome, q.t, Purpose::JoinOrganisation, texts, ("/buergerkonto", "citizen.to_account")).await
}

pub async fn accept_invitation(
    State(ctx): State<IdentityCtx>,
    chrome: Chrome,
    CitizenUser(citizen): CitizenUser,
    Form(f): Form<FormFields>,
) -> Result<Response, AppError> {
    match service::accept_invitation(&ctx.kernel, &citizen, field(&f, "t")).await {
        Ok(id) => Ok(redirect_with_flash(
            &format!("/buergerkonto/organisationen/{id}"),
            FlashKind::Success,
            "citizen.invitation_accepted",
            None,
        )),
        Err(e @ AppError::Invalid { .. }) => Ok(link_problem(chrome, e, ("/buergerkonto", "citizen.to_account"))),
        Err(e) => Err(e),
    }
}
