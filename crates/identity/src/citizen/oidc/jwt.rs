//! ID tokens: the compact JWS (RFC 7515) and its signature with a key from the provider's
//! JWKS (RFC 7517), RS256 and ES256 only, verified with `ring`; then the claims checks of
//! OpenID Connect Core 1.0 §3.1.3.7. Pure functions, no I/O; bounded input.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;

/// Longest ID token accepted (a real one is 1–3 KiB).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// Clock skew tolerated between us and the provider.
pub const LEEWAY_SECS: i64 = 60;
/// An ID token issued longer ago than this is refused, whatever its `exp`.
pub const MAX_AGE_SECS: i64 = 10 * 60;

/// Why an ID token was refused: each is a stable code with a message for the citizen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    /// `alg` other than RS256 / ES256 (`none` and the HMAC algorithms above all).
    Algorithm,
    /// No key of the provider fits the token's `kid` and algorithm.
    UnknownKey,
    Signature,
    Issuer,
    Audience,
    Expired,
    IssuedAt,
    Nonce,
    Subject,
}

impl TokenError {
    pub fn code(self) -> &'static str {
        match self {
            TokenError::Malformed => "citizen.oidc.token_malformed",
            TokenError::Algorithm => "citizen.oidc.token_algorithm",
            TokenError::UnknownKey => "citizen.oidc.token_unknown_key",
            TokenError::Signature => "citizen.oidc.token_signature",
            TokenError::Issuer => "citizen.oidc.token_issuer",
            TokenError::Audience => "citizen.oidc.token_audience",
            TokenError::Expired => "citizen.oidc.token_expired",
            TokenError::IssuedAt => "citizen.oidc.token_issued_at",
            TokenError::Nonce => "citizen.oidc.token_nonce",
            TokenError::Subject => "citizen.oidc.token_subject",
        }
    }
}

/// One public key of a JWKS. Unknown members are ignored (the set may hold other kinds).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default, rename = "use")]
    pub key_use: Option<String>,
    #[serde(default)]
    pub n: Option<String>,
    #[serde(default)]
    pub e: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

/// A JWK Set.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alg {
    Rs256,
    Es256,
}

impl Alg {
    fn parse(s: &str) -> Option<Alg> {
        match s {
            "RS256" => Some(Alg::Rs256),
            "ES256" => Some(Alg::Es256),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }

    /// Whether the key can verify this algorithm (kind, curve, declared use and alg).
    fn fits(self, k: &Jwk) -> bool {
        let kind = match self {
            Alg::Rs256 => k.kty == "RSA",
            Alg::Es256 => k.kty == "EC" && k.crv.as_deref() == Some("P-256"),
        };
        kind && k.key_use.as_deref().is_none_or(|u| u == "sig") && k.alg.as_deref().is_none_or(|a| a == self.name())
    }
}

fn b64(s: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD.decode(s).map_err(|_| TokenError::Malformed)
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// The claims of a token whose signature is valid (not yet checked for their content).
#[derive(Debug)]
pub struct SignedClaims(pub serde_json::Map<String, Value>);

/// Checks the signature of a compact JWS with the provider's keys. `Err(UnknownKey)` tells the
/// caller to fetch the key set again once (the provider may have rotated its keys).
pub fn verify_signature(token: &str, keys: &[Jwk]) -> Result<SignedClaims, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    let header: Header = serde_json::from_slice(&b64(h)?).map_err(|_| TokenError::Malformed)?;
    let alg = Alg::parse(&header.alg).ok_or(TokenError::Algorithm)?;
    let signature = b64(s)?;
    let signed = &token[..h.len() + 1 + p.len()];
    let candidates: Vec<&Jwk> =
        keys.iter().filter(|k| alg.fits(k)).filter(|k| header.kid.is_none() || k.kid == header.kid).collect();
    if candidates.is_empty() {
        return Err(TokenError::UnknownKey);
    }
    if !candidates.iter().any(|k| verify_with(alg, k, signed.as_bytes(), &signature)) {
        return Err(TokenError::Signature);
    }
    match serde_json::from_slice::<Value>(&b64(p)?) {
        Ok(Value::Object(map)) => Ok(SignedClaims(map)),
        _ => Err(TokenError::Malformed),
    }
}

fn verify_with(alg: Alg, key: &Jwk, message: &[u8], signature: &[u8]) -> bool {
    use ring::signature;
    let decode = |v: &Option<String>| v.as_deref().and_then(|s| URL_SAFE_NO_PAD.decode(s).ok());
    match alg {
        Alg::Rs256 => {
            let (Some(n), Some(e)) = (decode(&key.n), decode(&key.e)) else { return false };
            signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok()
        }
        Alg::Es256 => {
            let (Some(x), Some(y)) = (decode(&key.x), decode(&key.y)) else { return false };
            if x.len() != 32 || y.len() != 32 {
                return false;
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, signature)
                .is_ok()
        }
    }
}

/// What the claims must say.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now_secs: i64,
}

/// The checked claims: the subject, and the rest for the trust level and the profile.
#[derive(Debug)]
pub struct IdClaims {
    pub subject: String,
    pub claims: serde_json::Map<String, Value>,
}

impl IdClaims {
    pub fn text(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

/// OpenID Connect Core §3.1.3.7: `iss` is the provider's, `aud` holds our client id (and
/// `azp` names us where present or where there are several audiences), `exp` lies ahead,
/// `iat` is recent, `nonce` is the one we sent, `sub` is there.
pub fn validate(signed: SignedClaims, want: &Expected<'_>) -> Result<IdClaims, TokenError> {
    let c = signed.0;
    let text = |name: &str| c.get(name).and_then(Value::as_str);
    if text("iss") != Some(want.issuer) {
        return Err(TokenError::Issuer);
    }
    let audiences: Vec<&str> = match c.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => return Err(TokenError::Audience),
    };
    if !audiences.contains(&want.client_id) {
        return Err(TokenError::Audience);
    }
    match text("azp") {
        Some(azp) if azp != want.client_id => return Err(TokenError::Audience),
        None if audiences.len() > 1 => return Err(TokenError::Audience),
        _ => {}
    }
    let number = |name: &str| c.get(name).and_then(Value::as_i64);
    let exp = number("exp").ok_or(TokenError::Expired)?;
    if exp + LEEWAY_SECS <= want.now_secs {
        return Err(TokenError::Expired);
    }
    let iat = number("iat").ok_or(TokenError::IssuedAt)?;
    if iat > want.now_secs + LEEWAY_SECS || iat < want.now_secs - MAX_AGE_SECS {
        return Err(TokenError::IssuedAt);
    }
    // Compared in constant time: the nonce is a secret of this login until it completes.
    let nonce = text("nonce").unwrap_or_default();
    if !constant_time_eq(nonce.as_bytes(), want.nonce.as_bytes()) {
        return Err(TokenError::Nonce);
    }
    let subject = text("sub").filter(|s| !s.is_empty() && s.len() <= 255).ok_or(TokenError::Subject)?.to_owned();
    Ok(IdClaims { subject, claims: c })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::json;

    /// A real ES256 key pair made by ring, and its public JWK.
    fn es256_key(kid: &str) -> (EcdsaKeyPair, Jwk) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).expect("pair");
        let point = pair.public_key().as_ref().to_vec();
        let jwk = Jwk {
            kty: "EC".into(),
            kid: Some(kid.into()),
            crv: Some("P-256".into()),
            x: Some(URL_SAFE_NO_PAD.encode(&point[1..33])),
            y: Some(URL_SAFE_NO_PAD.encode(&point[33..65])),
            ..Jwk::default()
        };
        (pair, jwk)
    }

    fn sign(pair: &EcdsaKeyPair, header: &Value, claims: &Value) -> String {
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let sig = pair.sign(&SystemRandom::new(), input.as_bytes()).expect("sign");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    fn claims(now: i64) -> Value {
        json!({ "iss": "https://idp.example", "aud": "kreishaus", "sub": "abc", "nonce": "n-1", "iat": now, "exp": now + 300, "acr": "high" })
    }

    const WANT: Expected<'static> =
        Expected { issuer: "https://idp.example", client_id: "kreishaus", nonce: "n-1", now_secs: 1_000_000 };

    #[test]
    fn a_token_signed_by_the_providers_key_is_accepted_and_its_claims_checked() {
        let (pair, jwk) = es256_key("k1");
        let token = sign(&pair, &json!({ "alg": "ES256", "kid": "k1" }), &claims(1_000_000));
        let checked = validate(verify_signature(&token, &[jwk]).expect("signature"), &WANT).expect("claims");
        assert_eq!((checked.subject.as_str(), checked.text("acr")), ("abc", Some("high")));
    }

    #[test]
    fn a_changed_payload_breaks_the_signature() {
        let (pair, jwk) = es256_key("k1");
        let token = sign(&pair, &json!({ "alg": "ES256", "kid": "k1" }), &claims(1_000_000));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut c = claims(1_000_000);
        c["sub"] = json!("someone-else");
        parts[1] = URL_SAFE_NO_PAD.encode(c.to_string());
        assert_eq!(verify_signature(&parts.join("."), &[jwk]).err(), Some(TokenError::Signature));
    }

    #[test]
    fn alg_none_hmac_and_unknown_keys_are_refused() {
        let (pair, jwk) = es256_key("k1");
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({ "alg": "none" }).to_string()),
            URL_SAFE_NO_PAD.encode(claims(1).to_string())
        );
        assert_eq!(verify_signature(&unsigned, std::slice::from_ref(&jwk)).err(), Some(TokenError::Algorithm));
        let hs = sign(&pair, &json!({ "alg": "HS256", "kid": "k1" }), &claims(1));
        assert_eq!(verify_signature(&hs, std::slice::from_ref(&jwk)).err(), Some(TokenError::Algorithm));
        let other_kid = sign(&pair, &json!({ "alg": "ES256", "kid": "k2" }), &claims(1));
        assert_eq!(verify_signature(&other_kid, &[jwk]).err(), Some(TokenError::UnknownKey));
        assert_eq!(verify_signature("a.b", &[]).err(), Some(TokenError::Malformed));
    }

    #[test]
    fn another_providers_key_does_not_verify() {
        let (pair, _) = es256_key("k1");
        let (_, foreign) = es256_key("k1");
        let token = sign(&pair, &json!({ "alg": "ES256", "kid": "k1" }), &claims(1));
        assert_eq!(verify_signature(&token, &[foreign]).err(), Some(TokenError::Signature));
    }

    fn check(change: impl FnOnce(&mut Value)) -> Result<IdClaims, TokenError> {
        let mut c = claims(1_000_000);
        change(&mut c);
        let Value::Object(map) = c else { unreachable!("an object") };
        validate(SignedClaims(map), &WANT)
    }

    #[test]
    fn each_claim_rule_refuses_with_its_own_code() {
        assert_eq!(check(|c| c["iss"] = json!("https://evil.example")).err(), Some(TokenError::Issuer));
        assert_eq!(check(|c| c["aud"] = json!("someone")).err(), Some(TokenError::Audience));
        assert_eq!(check(|c| c["aud"] = json!(["kreishaus", "other"])).err(), Some(TokenError::Audience));
        assert!(
            check(|c| {
                c["aud"] = json!(["kreishaus", "other"]);
                c["azp"] = json!("kreishaus");
            })
            .is_ok()
        );
        assert_eq!(check(|c| c["azp"] = json!("other")).err(), Some(TokenError::Audience));
        assert_eq!(check(|c| c["exp"] = json!(1_000_000 - 61)).err(), Some(TokenError::Expired));
        assert_eq!(check(|c| c["iat"] = json!(1_000_000 + 120)).err(), Some(TokenError::IssuedAt));
        assert_eq!(check(|c| c["iat"] = json!(1_000_000 - 601)).err(), Some(TokenError::IssuedAt));
        assert_eq!(check(|c| c["nonce"] = json!("n-2")).err(), Some(TokenError::Nonce));
        assert_eq!(check(|c| drop(c.as_object_mut().map(|m| m.remove("nonce")))).err(), Some(TokenError::Nonce));
        assert_eq!(check(|c| c["sub"] = json!("")).err(), Some(TokenError::Subject));
    }

    proptest::proptest! {
        #[test]
        fn any_input_is_refused_without_panicking(s in "\\PC{0,300}") {
            proptest::prop_assert!(verify_signature(&s, &[]).is_err());
        }
    }
}
