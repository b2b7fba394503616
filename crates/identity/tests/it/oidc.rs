//! Login over OpenID Connect against a real provider: the certified `oidc-provider` package
//! from npm, run with node (`e2e/oidc/provider.mjs`), started by each test on a free port. The
//! test plays the browser: our start page, the provider's login form, our callback.

use std::process::Stdio;
use std::sync::Once;

use identity::citizen::oidc::OidcProviderConfig;
use testkit::{Client, TestApp};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::citizens::{ANNA, citizen};
use crate::demo;

const HIGH: &str = "http://eidas.europa.eu/LoA/high";
const SUBSTANTIAL: &str = "http://eidas.europa.eu/LoA/substantial";
/// The test app's public URL: where the provider sends the browser back to.
const PUBLIC_URL: &str = "http://127.0.0.1:8080";

fn e2e_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../e2e")
}

/// `npm ci` in e2e/ once, when the provider package is not installed yet.
fn install_provider_package() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if e2e_dir().join("node_modules/oidc-provider/package.json").exists() {
            return;
        }
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(e2e_dir())
            .status()
            .expect("npm (node's package manager) must be installed: apt-get install nodejs npm");
        assert!(status.success(), "npm ci in e2e/ failed");
    });
}

/// A running provider; killed when dropped.
struct Idp {
    issuer: String,
    _child: tokio::process::Child,
    /// Kept open: the provider may write more.
    _stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

async fn start_idp() -> Idp {
    install_provider_package();
    let names = ["test-idp", "test-idp-es256", "test-idp-tampered"];
    let uris: Vec<String> = names.iter().map(|n| format!("{PUBLIC_URL}/buergerkonto/oidc/{n}/rueckkehr")).collect();
    let mut child = tokio::process::Command::new("node")
        .arg(e2e_dir().join("oidc/provider.mjs"))
        .env("REDIRECT_URIS", uris.join(","))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .expect("the provider starts within 30 s")
        .unwrap()
        .expect("the provider prints its address");
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap();
    Idp { issuer: ready["issuer"].as_str().unwrap().to_owned(), _child: child, _stdout: lines }
}

fn provider(name: &str, issuer: &str, client_id: &str) -> OidcProviderConfig {
    toml::from_str(&format!(
        r#"
        name = "{name}"
        label = "Test-Ausweis ({name})"
        issuer = "{issuer}"
        client_id = "{client_id}"
        client_secret = "kreishaus-secret"
        scopes = ["openid", "profile", "email", "address", "phone"]
        [levels]
        "http://eidas.europa.eu/LoA/low" = "basic"
        "{SUBSTANTIAL}" = "substantial"
        "{HIGH}" = "high"
        "#
    ))
    .unwrap()
}

/// The demo county with the provider configured three times (RS256, ES256, and the client
/// whose tokens a man in the middle alters), the clock set to the real time (the provider's
/// tokens carry it).
async fn app_with(idp: &Idp, adjust: impl FnOnce(&mut identity::service::IdentityConfig)) -> TestApp {
    let issuer = idp.issuer.clone();
    let app = TestApp::with_config(|c| {
        c.identity.oidc_providers = vec![
            provider("test-idp", &issuer, "kreishaus"),
            provider("test-idp-es256", &issuer, "kreishaus-es256"),
            provider("test-idp-tampered", &issuer, "kreishaus-tampered"),
        ];
        adjust(&mut c.identity);
    })
    .await;
    app.load_demo().await;
    let real_now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    app.kernel.clock.advance_secs(real_now - app.kernel.clock.now().millis() / 1000);
    app
}

/// Starts a login at `provider` from our page; returns the provider's authorization URL.
async fn start(c: &Client, provider: &str, level: &str, next: &str) -> String {
    let res = c.get(&format!("/buergerkonto/oidc/{provider}?niveau={level}&weiter={}", web::url_encode(next))).await;
    res.assert_status(303);
    res.location().unwrap().to_owned()
}

/// Plays the browser at the provider: follows its redirects with its cookies and fills its
/// login form (person `erika` at level `acr`) until it sends the browser back to us. Returns
/// the path and query of our callback.
async fn at_provider(issuer: &str, authorization_url: &str, acr: &str) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut cookies: Vec<(String, String)> = Vec::new();
    let mut url = authorization_url.to_owned();
    let mut post = false;
    for _ in 0..12 {
        let jar = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let req = if post {
            let form = serde_urlencoded::to_string([("login", "erika"), ("acr", acr)]).unwrap();
            http.post(&url).header("content-type", "application/x-www-form-urlencoded").body(form)
        } else {
            http.get(&url)
        };
        let res = req.header("cookie", jar).send().await.unwrap();
        for v in res.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            cookies.retain(|(n, _)| n != k);
            cookies.push((k.to_owned(), val.to_owned()));
        }
        let status = res.status().as_u16();
        let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        match location {
            Some(l) if l.starts_with(PUBLIC_URL) => return l[PUBLIC_URL.len()..].to_owned(),
            Some(l) => {
                url = if l.starts_with("http") { l } else { format!("{issuer}{l}") };
                post = false;
            }
            None if status == 200 && url.contains("/interaction/") && !post => post = true,
            None => panic!("the provider answered {status} at {url}: {}", res.text().await.unwrap()),
        }
    }
    panic!("the provider did not send the browser back");
}

fn query_param(url: &str, name: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v).unwrap_or_default()
}

async fn audit_reasons(app: &TestApp) -> Vec<String> {
    let rows = app
        .kernel
        .db
        .fetch_all(
            kernel::query("SELECT details FROM audit_log WHERE action = $1 ORDER BY seq").bind("citizen.oidc_refused"),
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let d: serde_json::Value = serde_json::from_str(&r.get::<String>("details").unwrap()).unwrap();
            d["reason"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_person_logs_in_at_the_provider_at_level_high_and_gets_an_account_with_verified_values() {
    let idp = start_idp().await;
    let app = app_with(&idp, |_| {}).await;
    let c = app.client();
    c.get("/buergerkonto/anmelden").await.assert_status(200).assert_contains("Test-Ausweis (test-idp)");
    let auth = start(&c, "test-idp", "basic", "/buergerkonto/nachweis").await;
    assert!(auth.starts_with(&format!("{}/auth?", idp.issuer)), "{auth}");
    assert_eq!(query_param(&auth, "code_challenge_method"), "S256");
    assert_eq!(query_param(&auth, "code_challenge").len(), 43);
    assert!(!query_param(&auth, "nonce").is_empty() && !query_param(&auth, "state").is_empty());
    assert!(c.cookie("kh_oidc").is_some(), "the state is bound to this browser");
    let back = at_provider(&idp.issuer, &auth, HIGH).await;
    let res = c.get(&back).await;
    res.assert_status(303);
    assert_eq!(res.location(), Some("/buergerkonto/nachweis"));
    // Level high reaches a service that needs "substantial"; the values are the provider's.
    let proof = c.get("/buergerkonto/nachweis").await;
    assert_eq!(proof.status.as_u16(), 200, "{:?}", proof.location());
    proof.assert_contains("Mustermann").assert_contains("test-idp");
    let profile = c.get("/buergerkonto/profil").await;
    profile.assert_status(200).assert_contains("Erika").assert_contains("Lindenbach");
    c.post_form("/buergerkonto/profil", &[("given_name", "Mallory")]).await.assert_status(422);
    let me = c.get_json("/api/v1/account").await;
    assert_eq!(me.json()["session"]["trust_level"], "high", "{}", me.body);
    assert_eq!(me.json()["account"]["email"], "erika@eid.example");
    let export = c.get_json("/api/v1/account/export").await.json();
    assert_eq!(export["linked_providers"][0]["provider"], "test-idp");
    assert!(c.get("/buergerkonto").await.body.contains("Verbundene Ausweisdienste"));
    // The second login finds the account by its link (provider and subject), signed ES256 this time.
    let again = app.client();
    let auth = start(&again, "test-idp", "basic", "/buergerkonto").await;
    again.get(&at_provider(&idp.issuer, &auth, SUBSTANTIAL).await).await.assert_status(303);
    let me2 = again.get_json("/api/v1/account").await;
    assert_eq!(me2.json()["account"]["id"], me.json()["account"]["id"]);
    assert_eq!(me2.json()["session"]["trust_level"], "substantial");
}

#[tokio::test]
async fn an_es256_signed_id_token_is_verified_too() {
    let idp = start_idp().await;
    let app = app_with(&idp, |_| {}).await;
    let c = app.client();
    let auth = start(&c, "test-idp-es256", "high", "/buergerkonto").await;
    assert_eq!(query_param(&auth, "acr_values"), HIGH);
    c.get(&at_provider(&idp.issuer, &auth, HIGH).await).await.assert_status(303);
    assert_eq!(c.get_json("/api/v1/account").await.json()["session"]["trust_level"], "high");
}

#[tokio::test]
async fn a_password_session_below_the_level_is_sent_to_the_provider_with_acr_values_and_linked() {
    let idp = start_idp().await;
    let app = app_with(&idp, |_| {}).await;
    let anna = citizen(&app, ANNA).await;
    let res = anna.get("/buergerkonto/nachweis").await;
    let step_up = res.location().unwrap().to_owned();
    let page = anna.get(&step_up).await;
    page.assert_status(200)
        .assert_contains("href=\"/buergerkonto/oidc/test-idp?niveau=substantial&amp;weiter=/buergerkonto/nachweis\"");
    let auth = start(&anna, "test-idp", "substantial", "/buergerkonto/nachweis").await;
    assert_eq!(query_param(&auth, "acr_values"), format!("{SUBSTANTIAL} {HIGH}"));
    let old_session = anna.cookie("kh_buerger").unwrap();
    let res = anna.get(&at_provider(&idp.issuer, &auth, SUBSTANTIAL).await).await;
    assert_eq!(res.location(), Some("/buergerkonto/nachweis"));
    assert_ne!(anna.cookie("kh_buerger").unwrap(), old_session, "a raised level is a new session id");
    anna.get("/buergerkonto/nachweis").await.assert_status(200).assert_contains("Mustermann");
    let me = anna.get_json("/api/v1/account").await.json();
    assert_eq!(
        (me["account"]["email"].as_str(), me["session"]["trust_level"].as_str()),
        (Some(ANNA), Some("substantial"))
    );
    // A level below the one asked for is not a dead end: back to the step-up page.
    let auth = start(&anna, "test-idp", "high", "/buergerkonto/nachweis").await;
    let res = anna.get(&at_provider(&idp.issuer, &auth, SUBSTANTIAL).await).await;
    assert!(res.location().unwrap().starts_with("/buergerkonto/vertrauensniveau?niveau=high"), "{:?}", res.location());
}

#[tokio::test]
async fn a_token_altered_after_signing_is_refused() {
    let idp = start_idp().await;
    let app = app_with(&idp, |_| {}).await;
    let c = app.client();
    let auth = start(&c, "test-idp-tampered", "basic", "/buergerkonto").await;
    let res = c.get(&at_provider(&idp.issuer, &auth, HIGH).await).await;
    res.assert_status(400)
        .assert_contains("Signatur des Tokens stimmt nicht")
        .assert_contains("Mit E-Mail und Passwort anmelden");
    assert!(c.cookie("kh_buerger").is_none());
    assert_eq!(audit_reasons(&app).await, ["citizen.oidc.token_signature"]);
}

#[tokio::test]
async fn a_token_with_another_nonce_is_refused() {
    let idp = start_idp().await;
    let app = app_with(&idp, |_| {}).await;
    let c = app.client();
    let auth = start(&c, "test-idp", "basic", "/buergerkonto").await;
    // An attacker's authorization request with our state and PKCE challenge but their nonce.
    let nonce = query_param(&auth, "nonce");
    let injected = auth.replace(&format!("nonce={nonce}"), "nonce=attackers-nonce");
    let res = c.get(&at_provider(&idp.issuer, &injected, HIGH).await).await;
    res.assert_status(400).assert_contains("Nonce stimmt nicht");
    assert!(c.cookie("kh_buerger").is_none());
    assert_eq!(audit_reasons(&app).await, ["citizen.oidc.token_nonce"]);
}

#[tokio::test]
async fn a_wrong_state_or_a_state_from_another_browser_is_refused_and_a_state_works_once() {
    let idp = start_idp().await;
    let app = app_with(&idp, |_| {}).await;
    let c = app.client();
    let auth = start(&c, "test-idp", "basic", "/buergerkonto").await;
    let back = at_provider(&idp.issuer, &auth, HIGH).await;
    let state = query_param(&back, "state");
    let forged = back.replace(&format!("state={state}"), "state=forged");
    c.get(&forged).await.assert_status(400).assert_contains("zu keiner Anmeldung");
    // An answer naming another issuer (RFC 9207, a mix-up) is refused too, before the code is used.
    let mixed_up: Vec<&str> =
        back.split('&').map(|p| if p.starts_with("iss=") { "iss=https%3A%2F%2Fevil.example" } else { p }).collect();
    let mixed_up = mixed_up.join("&");
    assert_ne!(mixed_up, back, "the provider sends iss");
    c.get(&mixed_up).await.assert_status(400).assert_contains("anderen Aussteller");
    // The right state in a browser that did not start the login (login CSRF): refused.
    let other = app.client();
    other.get(&back).await.assert_status(400).assert_contains("anderen Browser");
    assert!(other.cookie("kh_buerger").is_none());
    // The browser that started it completes the login; a second use of the state is refused.
    let done = c.get(&back).await;
    assert_eq!(
        done.status.as_u16(),
        303,
        "{}",
        &done.body[done.body.find("Grund").unwrap_or(0)..][..300.min(done.body.len())]
    );
    app.client().get(&back).await.assert_status(400);
    c.get(&back).await.assert_status(400).assert_contains("schon verwendet");
    assert_eq!(
        audit_reasons(&app).await,
        [
            "citizen.oidc.state_unknown",
            "citizen.oidc.response_issuer",
            "citizen.oidc.state_other_browser",
            "citizen.oidc.state_used",
            "citizen.oidc.state_used"
        ]
    );
}

#[tokio::test]
async fn a_provider_that_is_down_gets_a_page_with_the_other_ways_to_log_in() {
    let idp = start_idp().await;
    let down = format!("http://127.0.0.1:{}", testkit::free_port());
    let app = app_with(&idp, |cfg| cfg.oidc_providers.push(provider("eid-down", &down, "kreishaus"))).await;
    let c = app.client();
    let res = c.get("/buergerkonto/oidc/eid-down?niveau=high&weiter=%2Fbuergerkonto").await;
    res.assert_status(503)
        .assert_contains("nicht erreichbar")
        .assert_contains("/buergerkonto/anmelden")
        .assert_contains("/buergerkonto/registrieren")
        .assert_contains("href=\"/buergerkonto/oidc/test-idp?")
        .assert_lacks("href=\"/buergerkonto/oidc/eid-down?");
    // The same provider going down between the redirect and the return.
    let auth = start(&c, "test-idp", "basic", "/buergerkonto").await;
    let back = at_provider(&idp.issuer, &auth, HIGH).await;
    drop(idp);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The discovery document is cached; the code exchange finds nobody.
    c.get(&back).await.assert_status(503).assert_contains("nicht erreichbar");
}

#[tokio::test]
async fn starting_logins_at_providers_is_rate_limited_per_client() {
    let idp = start_idp().await;
    let app = app_with(&idp, |cfg| cfg.oidc_start_max_per_ip = 2).await;
    let c = app.client();
    start(&c, "test-idp", "basic", "/buergerkonto").await;
    start(&c, "test-idp", "basic", "/buergerkonto").await;
    let res = c.get("/buergerkonto/oidc/test-idp?niveau=basic&weiter=%2F").await;
    res.assert_status(429).assert_contains("Zu viele Anmeldeversuche");
    assert!(res.header("retry-after").is_some());
}

#[tokio::test]
async fn an_unknown_provider_is_not_found() {
    let (app, _) = demo().await;
    app.client().get("/buergerkonto/oidc/nobody?niveau=basic").await.assert_status(404);
}
