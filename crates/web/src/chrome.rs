//! The page around the content: what every HTML template gets as `chrome` — language and
//! translations, the CSRF token for forms, the flash message, who is logged in, the path.

use std::sync::Arc;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::i18n::{I18n, Lang};

/// The CSRF token of this browser, for hidden form fields (`_csrf`) and the `X-CSRF-Token` header.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

/// The id of this request, shown on error pages and written to every log line about it.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Who is logged in, for the navigation. Put into request and response extensions by the
/// identity layer; the web layer only displays it.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub name: String,
    /// May open the administration pages.
    pub admin: bool,
    /// A citizen (Bürgerkonto), not a member of staff: the navigation links to the citizen
    /// account and its logout.
    pub citizen: bool,
}

/// The kinds of flash message, as KERN alert variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashKind {
    Success,
    Info,
    Warning,
    Error,
}

impl FlashKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlashKind::Success => "success",
            FlashKind::Info => "info",
            FlashKind::Warning => "warning",
            FlashKind::Error => "error",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "success" => FlashKind::Success,
            "info" => FlashKind::Info,
            "warning" => FlashKind::Warning,
            "error" => FlashKind::Error,
            _ => return None,
        })
    }

    /// The KERN alert modifier (`danger` for errors).
    pub fn alert_class(self) -> &'static str {
        match self {
            FlashKind::Error => "danger",
            other => other.as_str(),
        }
    }
}

/// A one-time message shown on the page after a redirect (post/redirect/get).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flash {
    pub kind: FlashKind,
    /// A message key.
    pub key: String,
    /// An optional value shown after the message (a name, a number).
    pub arg: Option<String>,
}

impl Flash {
    pub(crate) fn encode(&self) -> String {
        let raw = format!("{}|{}|{}", self.kind.as_str(), self.key, self.arg.clone().unwrap_or_default());
        crate::hex_encode(raw.as_bytes())
    }

    pub(crate) fn decode(s: &str) -> Option<Flash> {
        let raw = String::from_utf8(crate::hex_decode(s)?).ok()?;
        let mut it = raw.splitn(3, '|');
        let kind = FlashKind::parse(it.next()?)?;
        let key = it.next()?.to_owned();
        let arg = it.next().filter(|a| !a.is_empty()).map(str::to_owned);
        Some(Flash { kind, key, arg })
    }
}

/// A redirect that shows `key` on the next page (303, so the browser follows with GET).
pub fn redirect_with_flash(to: &str, kind: FlashKind, key: &str, arg: Option<String>) -> Response {
    let flash = Flash { kind, key: key.to_owned(), arg };
    let mut r = Redirect::to(to).into_response();
    r.extensions_mut().insert(SetFlash(flash));
    r
}

/// Asks the shell to set the flash cookie on this response.
#[derive(Clone, Debug)]
pub struct SetFlash(pub Flash);

/// What every template receives as `chrome`.
#[derive(Clone, Debug)]
pub struct Chrome {
    pub lang: Lang,
    i18n: Arc<I18n>,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub viewer: Option<Viewer>,
    pub path: String,
    pub request_id: String,
}

impl Chrome {
    /// Whether a citizen (not staff) is logged in.
    pub fn is_citizen(&self) -> bool {
        self.viewer.as_ref().is_some_and(|v| v.citizen)
    }

    /// A translated message.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.i18n.t(self.lang, key)
    }

    /// The translation of `error.<code>` or, for a domain code, of the code itself.
    pub fn error_message(&self, code: &str) -> String {
        let key = format!("error.{code}");
        if self.i18n.has(self.lang, &key) {
            self.i18n.t(self.lang, &key).to_owned()
        } else {
            self.i18n.t(self.lang, code).to_owned()
        }
    }

    /// The translation of `<prefix>.<code>` (an audit action, a status), or the code itself
    /// where there is none.
    pub fn label(&self, prefix: &str, code: &str) -> String {
        let key = format!("{prefix}.{code}");
        if self.i18n.has(self.lang, &key) { self.i18n.t(self.lang, &key).to_owned() } else { code.to_owned() }
    }

    /// The versioned URL of a static asset.
    pub fn asset(&self, path: &str) -> String {
        crate::assets::url(path)
    }

    /// The heading of a flash message ("Erledigt", "Fehler").
    pub fn flash_title(&self, flash: &Flash) -> &str {
        self.i18n.t(
            self.lang,
            match flash.kind {
                FlashKind::Success => "flash.success",
                FlashKind::Info => "flash.info",
                FlashKind::Warning => "flash.warning",
                FlashKind::Error => "flash.error",
            },
        )
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn other_lang_code(&self) -> &'static str {
        self.lang.other().code()
    }

    pub fn other_lang_name(&self) -> &'static str {
        self.lang.other().endonym()
    }

    /// The link of the language switch: back to this page in the other language.
    pub fn switch_lang_href(&self) -> String {
        format!("/sprache/{}?zurueck={}", self.lang.other().code(), crate::url_encode(&self.path))
    }

    pub fn is_current(&self, prefix: &str) -> bool {
        if prefix == "/" { self.path == "/" } else { self.path.starts_with(prefix) }
    }

    /// The chrome of a request whose parts are at hand (middleware, error pages).
    pub fn from_parts(parts: &Parts) -> Chrome {
        let ext = &parts.extensions;
        Chrome {
            lang: ext.get::<Lang>().copied().unwrap_or_default(),
            i18n: ext.get::<Arc<I18n>>().cloned().unwrap_or_default(),
            csrf: ext.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default(),
            flash: ext.get::<Flash>().cloned(),
            viewer: ext.get::<Viewer>().cloned(),
            path: parts.uri.path().to_owned(),
            request_id: ext.get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Chrome {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Chrome::from_parts(parts))
    }
}

/// Renders a template as an HTML response.
pub fn html(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => {
            let mut r = (status, body).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            r
        }
        Err(e) => kernel::AppError::internal(format!("template: {e}")).into_response(),
    }
}

/// Renders a template as a 200 page.
pub fn page(template: &impl Template) -> Response {
    html(StatusCode::OK, template)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flash_survives_its_cookie_encoding() {
        let f = Flash {
            kind: FlashKind::Success,
            key: "identity.staff_created".into(),
            arg: Some("Anna Müller; x=1".into()),
        };
        assert_eq!(Flash::decode(&f.encode()), Some(f));
        assert_eq!(Flash::decode("zz"), None);
    }

    proptest::proptest! {
        #[test]
        fn any_flash_cookie_is_decoded_without_panicking(raw in "\\PC{0,200}") {
            let _ = Flash::decode(&raw);
        }

        #[test]
        fn every_flash_survives_its_cookie(key in "[a-z_.]{1,40}", arg in proptest::option::of("\\PC{1,80}")) {
            let f = Flash { kind: FlashKind::Info, key, arg };
            proptest::prop_assert_eq!(Flash::decode(&f.encode()), Some(f));
        }
    }
}
