//! The one error every handler returns. Domain errors map into it; the web layer renders it
//! as an HTML page or as the JSON envelope `{"error":{"code","message","fields"}}`.

use crate::db::DbError;

/// A problem with one input field: the field's name and a stable message code.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
}

#[derive(Debug)]
pub enum AppError {
    /// The thing does not exist, or the caller may not know that it exists.
    NotFound,
    /// Logged in, but not allowed.
    Forbidden,
    /// Not logged in (or the session expired).
    Unauthenticated,
    /// The input is wrong; `code` names the problem, `fields` the fields.
    Invalid { code: &'static str, fields: Vec<FieldError> },
    /// The request conflicts with the current state (a duplicate, a stale version).
    Conflict { code: &'static str },
    /// Too many attempts; try again after the given number of seconds.
    TooManyRequests { code: &'static str, retry_after_secs: u64 },
    /// The request body is larger than allowed.
    PayloadTooLarge,
    /// A bug or an outage. Logged once with the request id; never shown.
    Internal(String),
}

impl AppError {
    /// The stable code of this error, used as message key and in the JSON envelope.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Forbidden => "forbidden",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Invalid { code, .. } | AppError::Conflict { code } | AppError::TooManyRequests { code, .. } => {
                code
            }
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound => 404,
            AppError::Forbidden => 403,
            AppError::Unauthenticated => 401,
            AppError::Invalid { .. } => 422,
            AppError::Conflict { .. } => 409,
            AppError::TooManyRequests { .. } => 429,
            AppError::PayloadTooLarge => 413,
            AppError::Internal(_) => 500,
        }
    }

    pub fn invalid(code: &'static str, field: &str) -> Self {
        AppError::Invalid { code, fields: vec![FieldError { field: field.to_owned(), code }] }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Internal(cause) => write!(f, "internal error: {cause}"),
            other => f.write_str(other.code()),
        }
    }
}

impl std::error::Error for AppError {}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        AppError::Internal(e.to_string())
    }
}

/// What the web layer needs to render an error: put on the response by [`AppError`]'s
/// `IntoResponse`, turned into an HTML page or a JSON envelope by the error-page middleware,
/// which knows the language and the request id.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub fields: Vec<FieldError>,
    /// The cause of an internal error, for the log only.
    pub internal: Option<String>,
    pub retry_after_secs: Option<u64>,
}

impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status =
            axum::http::StatusCode::from_u16(self.status()).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let info = ErrorInfo {
            code: self.code(),
            retry_after_secs: match &self {
                AppError::TooManyRequests { retry_after_secs, .. } => Some(*retry_after_secs),
                _ => None,
            },
            internal: match &self {
                AppError::Internal(cause) => Some(cause.clone()),
                _ => None,
            },
            fields: match self {
                AppError::Invalid { fields, .. } => fields,
                _ => Vec::new(),
            },
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(info);
        response
    }
}
