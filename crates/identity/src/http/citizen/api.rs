//! The citizen account's JSON API for a mobile app: register, log in (a bearer token), the
//! account, the profile and the data export. A client without cookies sends the token as
//! `Authorization: Bearer …` and needs no CSRF token.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kernel::AppError;
use serde::{Deserialize, Serialize};

use super::{CitizenUser, ClientInfo, session_token};
use crate::citizen::model::{CitizenAccount, Profile, ProfileField, SessionFacts, TrustLevel};
use crate::citizen::service::{self, CitizenLogin, Export, Letters, LoginOutcome, NewCitizenSession};
use crate::http::IdentityCtx;

/// A registration.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Registration {
    pub email: String,
    pub password: String,
}

/// The answer to every accepted registration, whether or not the address had an account.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MailSent {
    /// Always `mail_sent`: the next step is in the mail.
    pub status: String,
}

#[utoipa::path(post, path = "/api/v1/account", tag = "account", request_body = Registration,
    responses((status = 202, description = "A mail is on its way (the same answer for every address)", body = MailSent),
        (status = 422, description = "`identity.email_invalid`, `citizen.password_too_short`, `citizen.password_common`", body = web::ErrorEnvelope),
        (status = 429, body = web::ErrorEnvelope)))]
pub async fn register(
    State(ctx): State<IdentityCtx>,
    chrome: web::Chrome,
    client: ClientInfo,
    Json(r): Json<Registration>,
) -> Result<Response, AppError> {
    let letters = Letters { chrome: &chrome, base_url: ctx.public_url.trim_end_matches('/') };
    service::register(&ctx.kernel, &ctx.cfg, &letters, &r.email, &r.password, &client.ip).await?;
    Ok((StatusCode::ACCEPTED, Json(MailSent { status: "mail_sent".into() })).into_response())
}

/// E-mail and password.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// A session: send `token` as `Authorization: Bearer <token>`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionToken {
    pub token: String,
    /// RFC 3339; the deadline moves with every use (idle timeout).
    pub expires_at: String,
    pub trust_level: TrustLevel,
    /// True when the code of the second factor is still needed
    /// (`POST /api/v1/account/sessions/second-factor` with this token).
    pub second_factor_required: bool,
}

fn token_of(s: &NewCitizenSession, second_factor_required: bool) -> SessionToken {
    SessionToken {
        token: s.token.clone(),
        expires_at: s.expires_at.rfc3339(),
        trust_level: s.citizen.session.trust_level,
        second_factor_required,
    }
}

#[utoipa::path(post, path = "/api/v1/account/sessions", tag = "account", request_body = Credentials,
    responses((status = 201, body = SessionToken),
        (status = 422, description = "`citizen.login_failed`, `citizen.email_not_verified`", body = web::ErrorEnvelope),
        (status = 429, description = "`citizen.login_locked`", body = web::ErrorEnvelope)))]
pub async fn login(
    State(ctx): State<IdentityCtx>,
    client: ClientInfo,
    Json(c): Json<Credentials>,
) -> Result<Response, AppError> {
    let attempt =
        CitizenLogin { email: &c.email, password: &c.password, client_ip: &client.ip, user_agent: &client.user_agent };
    let body = match service::login(&ctx.kernel, &ctx.cfg, attempt).await? {
        LoginOutcome::Done(s) => token_of(&s, false),
        LoginOutcome::SecondFactor(s) => token_of(&s, true),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The code of the second factor (from the app, or a recovery code).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SecondFactor {
    pub code: String,
}

#[utoipa::path(post, path = "/api/v1/account/sessions/second-factor", tag = "account", request_body = SecondFactor,
    security(("bearer" = [])),
    responses((status = 201, description = "A new session replaces the waiting one", body = SessionToken),
        (status = 401, body = web::ErrorEnvelope), (status = 422, description = "`citizen.code_wrong`", body = web::ErrorEnvelope)))]
pub async fn second_factor(
    State(ctx): State<IdentityCtx>,
    client: ClientInfo,
    headers: HeaderMap,
    Json(c): Json<SecondFactor>,
) -> Result<Response, AppError> {
    let token = session_token(&ctx, "/api/", &headers).ok_or(AppError::Unauthenticated)?;
    let s = service::second_factor(&ctx.kernel, &ctx.cfg, &token, &c.code, &client.ip).await?;
    Ok((StatusCode::CREATED, Json(token_of(&s, false))).into_response())
}

#[utoipa::path(delete, path = "/api/v1/account/sessions/current", tag = "account", security(("bearer" = [])),
    responses((status = 204, description = "Logged out")))]
pub async fn logout(State(ctx): State<IdentityCtx>, headers: HeaderMap) -> Result<StatusCode, AppError> {
    if let Some(token) = session_token(&ctx, "/api/", &headers) {
        service::logout(&ctx.kernel, &token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in citizen and their session.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountInfo {
    pub account: CitizenAccount,
    pub session: SessionFacts,
}

#[utoipa::path(get, path = "/api/v1/account", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = AccountInfo), (status = 401, body = web::ErrorEnvelope)))]
pub async fn account(CitizenUser(c): CitizenUser) -> Json<AccountInfo> {
    Json(AccountInfo { account: c.account.clone(), session: c.session.clone() })
}

#[utoipa::path(get, path = "/api/v1/account/profile", tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "Each value says whether an identity provider verified it", body = Profile),
        (status = 401, body = web::ErrorEnvelope)))]
pub async fn profile(State(ctx): State<IdentityCtx>, CitizenUser(c): CitizenUser) -> Result<Json<Profile>, AppError> {
    Ok(Json(service::profile(&ctx.kernel, &c).await?))
}

/// The self-entered profile values to set; a field left out stays, an empty value is removed.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct ProfileUpdate {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// `1980-12-24` or `24.12.1980`.
    pub birth_date: Option<String>,
    pub street: Option<String>,
    pub postcode: Option<String>,
    /// The municipality's short name or name; taken from the postcode when empty.
    pub municipality: Option<String>,
    pub phone: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/account/profile", tag = "account", request_body = ProfileUpdate,
    security(("bearer" = [])),
    responses((status = 200, body = Profile),
        (status = 422, description = "`citizen.field_verified` for a verified value, or a field's format", body = web::ErrorEnvelope)))]
pub async fn put_profile(
    State(ctx): State<IdentityCtx>,
    CitizenUser(c): CitizenUser,
    Json(u): Json<ProfileUpdate>,
) -> Result<Json<Profile>, AppError> {
    let input: Vec<(ProfileField, String)> = [
        (ProfileField::GivenName, u.given_name),
        (ProfileField::FamilyName, u.family_name),
        (ProfileField::BirthDate, u.birth_date),
        (ProfileField::Street, u.street),
        (ProfileField::Postcode, u.postcode),
        (ProfileField::Municipality, u.municipality),
        (ProfileField::Phone, u.phone),
    ]
    .into_iter()
    .filter_map(|(f, v)| v.map(|v| (f, v)))
    .collect();
    service::update_profile(&ctx.kernel, &c, &input).await?;
    Ok(Json(service::profile(&ctx.kernel, &c).await?))
}

#[utoipa::path(get, path = "/api/v1/account/export", tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "All data of the account (GDPR Art. 15 and 20)", body = Export),
        (status = 401, body = web::ErrorEnvelope)))]
pub async fn export(State(ctx): State<IdentityCtx>, CitizenUser(c): CitizenUser) -> Result<Json<Export>, AppError> {
    Ok(Json(service::export(&ctx.kernel, &c).await?))
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The citizen account's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(register, login, second_factor, logout, account, profile, put_profile, export),
    components(schemas(Registration, MailSent, Credentials, SessionToken, SecondFactor, AccountInfo, ProfileUpdate, Profile, Export, web::ErrorEnvelope)),
    modifiers(&BearerAuth)
)]
pub struct AccountApi;
