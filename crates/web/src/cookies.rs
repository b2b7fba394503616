//! Cookies: parsed from the request by hand (no cookie jar crate), written with secure flags.
//!
//! With an `https` public URL every cookie is `Secure` and carries the `__Host-` prefix, which
//! a browser accepts only from this host over TLS and never from a sibling subdomain.

use axum::http::{HeaderMap, HeaderValue, header};

/// How this installation writes cookies.
#[derive(Clone, Copy, Debug)]
pub struct CookiePolicy {
    pub secure: bool,
}

impl CookiePolicy {
    /// The cookie's full name: `__Host-kh_session` when secure, `kh_session` otherwise.
    pub fn name(&self, base: &str) -> String {
        if self.secure { format!("__Host-{base}") } else { base.to_owned() }
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure when configured.
    /// `max_age_secs` None makes a browser-session cookie; Some(0) deletes it.
    pub fn set(&self, base: &str, value: &str, max_age_secs: Option<i64>) -> HeaderValue {
        let mut s = format!("{}={}; Path=/; HttpOnly; SameSite=Lax", self.name(base), value);
        if let Some(age) = max_age_secs {
            s.push_str(&format!("; Max-Age={age}"));
        }
        if self.secure {
            s.push_str("; Secure");
        }
        HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static(""))
    }

    /// The value of a cookie this policy wrote.
    pub fn get<'a>(&self, headers: &'a HeaderMap, base: &str) -> Option<&'a str> {
        read(headers, &self.name(base))
    }
}

/// The value of the named cookie in the request's `Cookie` headers.
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_cookies_get_the_host_prefix_and_the_secure_flag() {
        let p = CookiePolicy { secure: true };
        let v = p.set("kh_session", "abc", Some(60));
        assert_eq!(v.to_str().ok(), Some("__Host-kh_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"));
        let plain = CookiePolicy { secure: false }.set("kh_session", "abc", None);
        assert_eq!(plain.to_str().ok(), Some("kh_session=abc; Path=/; HttpOnly; SameSite=Lax"));
    }

    #[test]
    fn a_cookie_is_found_among_several() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; kh_lang=en; b=2"));
        assert_eq!(read(&h, "kh_lang"), Some("en"));
        assert_eq!(read(&h, "kh"), None);
    }

    proptest::proptest! {
        #[test]
        fn reading_cookies_never_panics_and_finds_a_cookie_among_any_others(
            noise in "[ -~]{0,200}", value in "[A-Za-z0-9]{1,64}"
        ) {
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&noise) {
                h.append(header::COOKIE, v);
                let _ = read(&h, "kh_session");
            }
            let mut h = HeaderMap::new();
            let line = format!("a=1; kh_session={value}; b=2");
            h.append(header::COOKIE, HeaderValue::from_str(&line).expect("ascii"));
            proptest::prop_assert_eq!(read(&h, "kh_session"), Some(value.as_str()));
        }
    }
}
