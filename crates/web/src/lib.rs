//! The web shell every page and API stands on: the base layout on the KERN UX design system
//! (vendored, EUPL-1.2), German and English messages, the middleware stack (request ids,
//! security headers and CSP, CSRF, flash messages, error pages and the JSON error envelope,
//! metrics) and the static assets. It knows nothing of users beyond the [`Viewer`] that the
//! identity layer hands it, and nothing of any domain.

pub mod assets;
pub mod chrome;
pub mod cookies;
pub mod form;
pub mod i18n;
pub mod metrics;
pub mod shell;

pub use chrome::{Chrome, CsrfToken, Flash, FlashKind, RequestId, Viewer, html, page, redirect_with_flash};
pub use form::FormErrors;
pub use i18n::{I18n, Lang, Messages};
pub use shell::{ErrorEnvelope, Shell, WebConfig};

pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    kernel::hex(bytes)
}

pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Percent-encodes a value for a query string.
pub fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).map(|e| e[1..].to_owned()).unwrap_or_default()
}
