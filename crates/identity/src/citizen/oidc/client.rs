//! The talk with a provider over HTTP: discovery, its key set and the code exchange. Every
//! answer is bounded in time and size; no redirects are followed; endpoints must be https
//! (http only on loopback). Discovery documents and keys are cached per node for
//! [`CACHE_SECS`], and the keys are fetched again once when a token names an unknown key.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::jwt::{self, IdClaims, Jwk, JwkSet, TokenError};
use super::model::{OidcProviderConfig, acceptable_url};

/// How long discovery documents and keys are kept.
pub const CACHE_SECS: u64 = 600;
/// The largest answer read from a provider.
const MAX_BODY: usize = 256 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why talking to a provider failed.
#[derive(Debug)]
pub enum ProviderError {
    /// Not reachable, or it answered with an error page or nonsense: the citizen is offered
    /// the other ways to log in.
    Down(String),
    /// The provider refused the code (`invalid_grant`: wrong verifier, used code).
    CodeRefused(String),
    /// The ID token failed a check.
    Token(TokenError),
}

/// The parts of the discovery document we use (OpenID Connect Discovery 1.0 §3).
#[derive(Clone, Debug, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

#[derive(Default)]
struct Cache {
    metadata: Option<(Instant, Arc<Metadata>)>,
    keys: Option<(Instant, Arc<Vec<Jwk>>)>,
}

/// A configured provider with its cache.
pub struct Provider {
    pub cfg: OidcProviderConfig,
    cache: Mutex<Cache>,
}

/// The configured providers and one HTTP client for all of them.
pub struct Providers {
    list: Vec<Provider>,
    http: reqwest::Client,
}

impl Providers {
    /// Checks every entry; a wrong one stops the start with a message naming it.
    pub fn new(configs: &[OidcProviderConfig]) -> Result<Providers, String> {
        for (i, c) in configs.iter().enumerate() {
            c.check()?;
            if configs[..i].iter().any(|o| o.name == c.name) {
                return Err(format!("identity.oidc_providers: the name \"{}\" is used twice", c.name));
            }
        }
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Kreishaus OpenID Connect client")
            .build()
            .map_err(|e| format!("HTTP client for identity providers: {e}"))?;
        let list = configs.iter().map(|c| Provider { cfg: c.clone(), cache: Mutex::default() }).collect();
        Ok(Providers { list, http })
    }

    pub fn get(&self, name: &str) -> Option<&Provider> {
        self.list.iter().find(|p| p.cfg.name == name)
    }

    pub fn all(&self) -> impl Iterator<Item = &OidcProviderConfig> {
        self.list.iter().map(|p| &p.cfg)
    }

    async fn fetch(&self, req: reqwest::RequestBuilder) -> Result<(u16, Vec<u8>), ProviderError> {
        let mut res = req.send().await.map_err(|e| ProviderError::Down(e.to_string()))?;
        let status = res.status().as_u16();
        if res.content_length().is_some_and(|n| n > MAX_BODY as u64) {
            return Err(ProviderError::Down("answer too large".into()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| ProviderError::Down(e.to_string()))? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(ProviderError::Down("answer too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, ProviderError> {
        if !acceptable_url(url) {
            return Err(ProviderError::Down(format!("refused URL {url}")));
        }
        let (status, body) = self.fetch(self.http.get(url).header("accept", "application/json")).await?;
        if status != 200 {
            return Err(ProviderError::Down(format!("{url} answered {status}")));
        }
        serde_json::from_slice(&body).map_err(|e| ProviderError::Down(format!("{url}: {e}")))
    }

    /// The provider's discovery document (cached). Its issuer must be the configured one.
    pub async fn metadata(&self, p: &Provider) -> Result<Arc<Metadata>, ProviderError> {
        if let Some((at, m)) = lock(&p.cache).metadata.as_ref()
            && at.elapsed().as_secs() < CACHE_SECS
        {
            return Ok(m.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", p.cfg.issuer.trim_end_matches('/'));
        let m: Metadata = self.get_json(&url).await?;
        if m.issuer != p.cfg.issuer {
            return Err(ProviderError::Down(format!("discovery names the issuer {}", m.issuer)));
        }
        if ![&m.authorization_endpoint, &m.token_endpoint, &m.jwks_uri].iter().all(|u| acceptable_url(u)) {
            return Err(ProviderError::Down("discovery names an endpoint that is not https".into()));
        }
        let m = Arc::new(m);
        lock(&p.cache).metadata = Some((Instant::now(), m.clone()));
        Ok(m)
    }

    async fn keys(&self, p: &Provider, meta: &Metadata, fresh: bool) -> Result<Arc<Vec<Jwk>>, ProviderError> {
        if !fresh
            && let Some((at, k)) = lock(&p.cache).keys.as_ref()
            && at.elapsed().as_secs() < CACHE_SECS
        {
            return Ok(k.clone());
        }
        let set: JwkSet = self.get_json(&meta.jwks_uri).await?;
        let keys = Arc::new(set.keys);
        lock(&p.cache).keys = Some((Instant::now(), keys.clone()));
        Ok(keys)
    }

    /// Exchanges the code (with the PKCE verifier, client authentication `client_secret_basic`)
    /// and checks the ID token: signature with the provider's keys, then the claims.
    pub async fn exchange(
        &self,
        p: &Provider,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
        nonce: &str,
        now_secs: i64,
    ) -> Result<IdClaims, ProviderError> {
        let meta = self.metadata(p).await?;
        let form = serde_urlencoded::to_string([
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier),
        ])
        .map_err(|e| ProviderError::Down(e.to_string()))?;
        // RFC 6749 §2.3.1: both parts form-encoded before Basic.
        let enc =
            |s: &str| serde_urlencoded::to_string([("", s)]).unwrap_or_default().trim_start_matches('=').to_owned();
        let basic =
            STANDARD.encode(format!("{}:{}", enc(&p.cfg.client_id), enc(p.cfg.client_secret.expose())).as_bytes());
        let req = self
            .http
            .post(&meta.token_endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .header("authorization", format!("Basic {basic}"))
            .body(form);
        let (status, body) = self.fetch(req).await?;
        #[derive(Deserialize)]
        struct TokenAnswer {
            id_token: Option<String>,
            error: Option<String>,
        }
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|_| ProviderError::Down(format!("token endpoint answered {status} without JSON")))?;
        match (status, answer) {
            (200, TokenAnswer { id_token: Some(t), .. }) => self.check_token(p, &meta, &t, nonce, now_secs).await,
            (400, TokenAnswer { error: Some(e), .. }) => Err(ProviderError::CodeRefused(e)),
            (s, _) => Err(ProviderError::Down(format!("token endpoint answered {s}"))),
        }
    }

    async fn check_token(
        &self,
        p: &Provider,
        meta: &Metadata,
        token: &str,
        nonce: &str,
        now_secs: i64,
    ) -> Result<IdClaims, ProviderError> {
        let keys = self.keys(p, meta, false).await?;
        let signed = match jwt::verify_signature(token, &keys) {
            Err(TokenError::UnknownKey) => jwt::verify_signature(token, &self.keys(p, meta, true).await?),
            other => other,
        }
        .map_err(ProviderError::Token)?;
        let want = jwt::Expected { issuer: &meta.issuer, client_id: &p.cfg.client_id, nonce, now_secs };
        jwt::validate(signed, &want).map_err(ProviderError::Token)
    }
}

fn lock(m: &Mutex<Cache>) -> std::sync::MutexGuard<'_, Cache> {
    // A panic while holding the cache leaves at worst a stale entry: keep using it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
