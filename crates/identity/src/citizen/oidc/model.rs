//! The configuration of identity providers and the pure rules of the login: which URLs are
//! acceptable, the PKCE challenge, the authorization request, the trust level a provider's
//! claim means, and which claims become verified profile values. No I/O.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kernel::Secret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::jwt::IdClaims;
use crate::citizen::model::{ProfileField, TrustLevel, municipality_for, normalise_birth_date, valid_phone};
use crate::model::Tenant;

/// `[[identity.oidc_providers]]`: one OpenID provider (an eID service, BundID, a test IdP).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderConfig {
    /// Short name in URLs and as the source of verified values: lower-case letters, digits, `-`.
    pub name: String,
    /// What the login button says: "Online-Ausweis (BundID)".
    pub label: String,
    /// The issuer; its discovery document is `<issuer>/.well-known/openid-configuration`.
    /// `https://`, or `http://` on a loopback address only (tests).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Secret,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The claim that tells the level of assurance: `acr` (requested with `acr_values`), or
    /// a provider's own claim.
    #[serde(default = "default_level_claim")]
    pub level_claim: String,
    /// The claim's values and the eIDAS level each means. A value not listed means `basic`.
    #[serde(default)]
    pub levels: BTreeMap<String, TrustLevel>,
}

fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email"].map(String::from).to_vec()
}

fn default_level_claim() -> String {
    "acr".into()
}

/// `https://`, or `http://` to a loopback host (a provider started by a test).
pub fn acceptable_url(url: &str) -> bool {
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty();
    }
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host =
        host.rsplit_once(':').filter(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok()).map_or(host, |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

impl OidcProviderConfig {
    /// Checks the entry at start: a wrong one stops the server with a message naming it.
    pub fn check(&self) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 40
            && self.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let problem = if !name_ok {
            "name must be lower-case letters, digits and '-'"
        } else if !acceptable_url(&self.issuer) {
            "issuer must be an https:// URL (http:// only on a loopback address)"
        } else if self.client_id.is_empty() {
            "client_id is empty"
        } else if self.label.trim().is_empty() {
            "label is empty"
        } else if !self.scopes.iter().any(|s| s == "openid") {
            "scopes must contain \"openid\""
        } else {
            return Ok(());
        };
        Err(format!("identity.oidc_providers \"{}\": {problem}", self.name))
    }

    /// The level a claim value means (`basic` for a value not configured or missing).
    pub fn level_of(&self, claims: &IdClaims) -> TrustLevel {
        claims.text(&self.level_claim).and_then(|v| self.levels.get(v)).copied().unwrap_or(TrustLevel::Basic)
    }

    /// The highest level this provider can confirm.
    pub fn max_level(&self) -> TrustLevel {
        self.levels.values().copied().max().unwrap_or(TrustLevel::Basic)
    }

    /// The `acr_values` to ask for a level: every configured value that means it or more,
    /// lowest first (for a plain login all of them, so that the provider reports the level it
    /// reached). None when the level claim is not `acr`.
    pub fn acr_values(&self, wanted: TrustLevel) -> Option<String> {
        if self.level_claim != "acr" {
            return None;
        }
        let mut values: Vec<(&TrustLevel, &String)> =
            self.levels.iter().filter(|(_, l)| **l >= wanted).map(|(v, l)| (l, v)).collect();
        values.sort();
        (!values.is_empty()).then(|| values.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(" "))
    }
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The authorization request's parameters (authorization code flow with PKCE).
pub struct AuthRequest<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a [String],
    pub state: &'a str,
    pub nonce: &'a str,
    pub code_verifier: &'a str,
    pub acr_values: Option<&'a str>,
}

/// The URL the browser is sent to.
pub fn authorization_url(endpoint: &str, r: &AuthRequest<'_>) -> String {
    let challenge = pkce_challenge(r.code_verifier);
    let scope = r.scopes.join(" ");
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", r.client_id),
        ("redirect_uri", r.redirect_uri),
        ("scope", &scope),
        ("state", r.state),
        ("nonce", r.nonce),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    if let Some(acr) = r.acr_values {
        params.push(("acr_values", acr));
    }
    let query = serde_urlencoded::to_string(&params).unwrap_or_default();
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    format!("{endpoint}{sep}{query}")
}

/// The profile values a provider confirmed, from the standard claims (OpenID Connect Core
/// §5.1): names, birth date, address (its locality selects the municipality, when it is one
/// of the county's), phone. Values that fail our own checks are left out.
pub fn verified_values(claims: &IdClaims, municipalities: &[Tenant], today: &str) -> Vec<(ProfileField, String)> {
    let clean = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty() && v.len() <= 200).map(str::to_owned);
    let address = claims.claims.get("address");
    let addr = |name: &str| clean(address.and_then(|a| a.get(name)).and_then(|v| v.as_str()));
    let mut out = Vec::new();
    let mut push = |f: ProfileField, v: Option<String>| {
        if let Some(v) = v {
            out.push((f, v));
        }
    };
    push(ProfileField::GivenName, clean(claims.text("given_name")));
    push(ProfileField::FamilyName, clean(claims.text("family_name")));
    push(ProfileField::BirthDate, claims.text("birthdate").and_then(|d| normalise_birth_date(d, today)));
    push(ProfileField::Street, addr("street_address"));
    let postcode = addr("postal_code").filter(|p| crate::model::valid_postcode(p));
    let municipality = addr("locality")
        .and_then(|l| municipality_for(municipalities, &l))
        .or_else(|| postcode.as_deref().and_then(|p| municipality_for(municipalities, p)))
        .map(|t| t.slug.clone());
    push(ProfileField::Postcode, postcode);
    push(ProfileField::Municipality, municipality);
    push(ProfileField::Phone, clean(claims.text("phone_number")).filter(|p| valid_phone(p)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn provider() -> OidcProviderConfig {
        toml::from_str(
            r#"
            name = "test-idp"
            label = "Test"
            issuer = "https://idp.example"
            client_id = "kreishaus"
            client_secret = "s"
            [levels]
            "http://eidas.europa.eu/LoA/low" = "basic"
            "http://eidas.europa.eu/LoA/substantial" = "substantial"
            "http://eidas.europa.eu/LoA/high" = "high"
            "#,
        )
        .expect("config")
    }

    fn claims(v: serde_json::Value) -> IdClaims {
        let serde_json::Value::Object(claims) = v else { unreachable!("an object") };
        IdClaims { subject: "s".into(), claims }
    }

    #[test]
    fn the_pkce_challenge_is_the_rfc_7636_example() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" // RFC 7636 appendix B
        );
    }

    #[test]
    fn the_level_claim_maps_to_an_eidas_level_and_unknown_values_are_basic() {
        let p = provider();
        assert_eq!(p.level_of(&claims(json!({ "acr": "http://eidas.europa.eu/LoA/high" }))), TrustLevel::High);
        assert_eq!(p.level_of(&claims(json!({ "acr": "urn:other" }))), TrustLevel::Basic);
        assert_eq!(p.level_of(&claims(json!({}))), TrustLevel::Basic);
        let own = OidcProviderConfig { level_claim: "loa".into(), ..p };
        assert_eq!(
            own.level_of(&claims(json!({ "loa": "http://eidas.europa.eu/LoA/substantial" }))),
            TrustLevel::Substantial
        );
        assert_eq!(own.acr_values(TrustLevel::High), None);
    }

    #[test]
    fn acr_values_ask_for_the_needed_level_or_more() {
        let p = provider();
        assert_eq!(p.acr_values(TrustLevel::High).as_deref(), Some("http://eidas.europa.eu/LoA/high"));
        assert_eq!(
            p.acr_values(TrustLevel::Substantial).as_deref(),
            Some("http://eidas.europa.eu/LoA/substantial http://eidas.europa.eu/LoA/high")
        );
        assert_eq!(
            p.acr_values(TrustLevel::Basic).as_deref(),
            Some(
                "http://eidas.europa.eu/LoA/low http://eidas.europa.eu/LoA/substantial http://eidas.europa.eu/LoA/high"
            )
        );
    }

    #[test]
    fn issuers_are_https_or_plain_http_on_loopback_only() {
        assert!(acceptable_url("https://id.bund.de") && acceptable_url("http://127.0.0.1:4000/oidc"));
        assert!(acceptable_url("http://localhost:9") && acceptable_url("http://[::1]:9/"));
        assert!(!acceptable_url("http://idp.example") && !acceptable_url("http://127.0.0.1.evil.example"));
        assert!(!acceptable_url("ftp://x") && !acceptable_url("https://"));
        let bad = OidcProviderConfig { name: "Bad Name".into(), ..provider() };
        assert!(bad.check().expect_err("a bad name").contains("Bad Name"));
        assert!(provider().check().is_ok());
    }

    #[test]
    fn the_authorization_url_carries_pkce_nonce_state_and_acr_values() {
        let scopes = default_scopes();
        let url = authorization_url(
            "https://idp.example/auth",
            &AuthRequest {
                client_id: "kh",
                redirect_uri: "https://kreis.example/cb",
                scopes: &scopes,
                state: "st",
                nonce: "no",
                code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                acr_values: Some("a b"),
            },
        );
        assert!(url.starts_with(
            "https://idp.example/auth?response_type=code&client_id=kh&redirect_uri=https%3A%2F%2Fkreis.example%2Fcb"
        ));
        for part in
            ["scope=openid+profile+email", "state=st", "nonce=no", "code_challenge_method=S256", "acr_values=a+b"]
        {
            assert!(url.contains(part), "{part} in {url}");
        }
        assert!(url.contains("code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    #[test]
    fn standard_claims_become_verified_values_when_they_pass_our_checks() {
        let c = claims(json!({
            "given_name": "Erika", "family_name": "Mustermann", "birthdate": "1964-08-12",
            "phone_number": "not a phone", "address": { "street_address": "Heidestraße 17", "postal_code": "51147" }
        }));
        let values = verified_values(&c, &[], "2026-12-01");
        assert!(values.contains(&(ProfileField::BirthDate, "1964-08-12".into())));
        assert!(values.contains(&(ProfileField::Street, "Heidestraße 17".into())));
        assert!(!values.iter().any(|(f, _)| *f == ProfileField::Phone || *f == ProfileField::Municipality));
    }
}
