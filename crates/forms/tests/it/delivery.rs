//! Delivery to a back-office system by signed webhook, against a receiver the test starts on a
//! free port: the signature verifies with the form's secret (and not with another), answers of
//! 500 are retried with the queue's backoff until one delivery is accepted, and a delivery that
//! fails for good shows on the inbox page with a "retry" that sends it again.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use kernel::jobs::{Ran, Runner};
use serde_json::Value;
use sha2::Sha256;
use testkit::{Client, TestApp};

use crate::api::{application, post_json};
use crate::journey::{PDF, publish_demo_form};

const FORM: &str = "/verwaltung/mandanten/kreis/formulare/sondernutzung";
const SUBMIT: &str = "/api/v1/forms/sondernutzung/submissions";

/// What the receiver saw: each request's headers and body, and the status it answered.
#[derive(Clone, Default)]
struct Receiver {
    seen: Arc<Mutex<Vec<(HeaderMap, Bytes, u16)>>>,
    /// The answers to give, in order; the last one repeats.
    plan: Arc<Mutex<Vec<u16>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut seen = r.seen.lock().unwrap();
    let plan = r.plan.lock().unwrap();
    let status = plan.get(seen.len()).or(plan.last()).copied().unwrap_or(200);
    seen.push((headers, body, status));
    StatusCode::from_u16(status).unwrap()
}

/// Starts a receiver on a free port; returns it and its URL.
async fn start_receiver(plan: &[u16]) -> (Receiver, String) {
    let r = Receiver { plan: Arc::new(Mutex::new(plan.to_vec())), ..Receiver::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/eingang", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/eingang", axum::routing::post(receive)).with_state(r.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (r, url)
}

/// The receiver's check: HMAC-SHA256 over `timestamp.body` with the secret it was given.
fn verifies(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let Some(hex) = header("x-kreishaus-signature").strip_prefix("sha256=").map(str::to_owned) else { return false };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{}.", header("x-kreishaus-timestamp")).as_bytes());
    mac.update(body);
    kernel::hex(&mac.finalize().into_bytes()) == hex
}

/// The Redaktion sets the delivery URL; the secret is on the answer page, once.
async fn set_delivery(app: &TestApp, pw: &str, url: &str) -> String {
    let editor = app.client();
    editor.login("redaktion@kreis-auenthal.example", pw).await;
    editor
        .post_form(FORM, &[("aktion", "zustellung"), ("url", "http://example.org/eingang")])
        .await
        .assert_status(422)
        .assert_contains("https-Adresse");
    let set = editor.post_form(FORM, &[("aktion", "zustellung"), ("url", url)]).await;
    set.assert_status(200).assert_contains("nur jetzt angezeigt");
    let secret: String = set.body.split("id=\"delivery-secret\">").nth(1).unwrap().split('<').next().unwrap().into();
    assert_eq!(secret.len(), 64);
    editor.get(FORM).await.assert_contains(url).assert_lacks(&secret);
    secret
}

/// Runs every due job, as a worker would.
async fn drain(app: &TestApp, runner: &Runner) {
    while runner.run_next(&app.kernel, "test-worker").await.unwrap() != Ran::Nothing {}
}

fn delivery_runner() -> Runner {
    let mut runner = Runner::default();
    forms::delivery::register(&mut runner).unwrap();
    runner
}

async fn send(c: &Client) -> Value {
    let sent = post_json(c, SUBMIT, &application("markt"), None).await;
    sent.assert_status(201);
    sent.json()
}

async fn text_in(app: &TestApp, sql: &str, needle: &str) -> bool {
    let rows = app.kernel.db.fetch_all(kernel::query_owned(sql.to_owned())).await.unwrap();
    rows.iter().any(|r| r.get::<String>("t").unwrap().contains(needle))
}

#[tokio::test]
async fn a_submission_is_delivered_signed_and_retried_until_the_receiver_accepts_it() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    publish_demo_form(&app, &pw).await;
    let (receiver, url) = start_receiver(&[500, 500, 200]).await;
    let secret = set_delivery(&app, &pw, &url).await;
    // The secret is stored for signing, never in the audit log or a job.
    assert!(!text_in(&app, "SELECT details AS t FROM audit_log", &secret).await);

    let receipt = send(&app.client()).await;
    let tracking = receipt["tracking_id"].as_str().unwrap();
    assert!(!text_in(&app, "SELECT payload AS t FROM jobs", &secret).await);

    let runner = delivery_runner();
    drain(&app, &runner).await;
    assert_eq!(receiver.seen.lock().unwrap().len(), 1);
    // The backoff holds the retry back until its time.
    app.kernel.clock.advance_secs(5);
    drain(&app, &runner).await;
    assert_eq!(receiver.seen.lock().unwrap().len(), 1);
    for wait in [5, 20, 3600] {
        app.kernel.clock.advance_secs(wait);
        drain(&app, &runner).await;
    }

    let seen = receiver.seen.lock().unwrap().clone();
    let answers: Vec<u16> = seen.iter().map(|(_, _, s)| *s).collect();
    assert_eq!(answers, [500, 500, 200], "one accepted delivery after two refusals, nothing after");
    for (headers, body, _) in &seen {
        assert!(verifies(&secret, headers, body));
        assert!(!verifies("ein-anderer-schluessel", headers, body));
        assert_eq!(headers["x-kreishaus-delivery"], forms::delivery::delivery_id(tracking).as_str());
    }
    let (headers, body, _) = &seen[2];
    let mut tampered = body.to_vec();
    tampered[10] ^= 1;
    assert!(!verifies(&secret, headers, &tampered));
    let doc: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(doc["tracking_id"], tracking);
    assert_eq!((doc["tenant"].as_str(), doc["form"]["id"].as_str()), (Some("kreis"), Some("sondernutzung")));
    assert_eq!(doc["form"]["version"], 1);
    assert_eq!(doc["data_sha256"], receipt["data_sha256"]);
    assert_eq!(doc["data"]["name"], "Erika Mustermann");
    assert_eq!(
        doc["data_sha256"].as_str().unwrap(),
        kernel::sha256_hex(&forms::model::canonical_json(doc["data"].as_object().unwrap()))
    );
    let file = &doc["files"][0];
    let content = base64::engine::general_purpose::STANDARD.decode(file["content_base64"].as_str().unwrap()).unwrap();
    assert_eq!(content, PDF);
    assert_eq!(file["sha256"].as_str().unwrap(), kernel::sha256_hex(std::str::from_utf8(PDF).unwrap()));
    assert_eq!(file["media_type"], "application/pdf");

    let clerk = app.client();
    clerk.login("sachbearbeitung@kreis-auenthal.example", &pw).await;
    let page = clerk.get(&format!("/verwaltung/mandanten/kreis/eingang/{tracking}")).await;
    page.assert_status(200).assert_contains("Zugestellt").assert_contains("3 / 10").assert_lacks("Erneut zustellen");
}

#[tokio::test]
async fn a_delivery_that_fails_for_good_shows_in_the_inbox_and_is_sent_again_on_retry() {
    let app = TestApp::new().await;
    let pw = app.load_demo().await;
    publish_demo_form(&app, &pw).await;
    let (receiver, url) = start_receiver(&[503]).await;
    set_delivery(&app, &pw, &url).await;
    let tracking = send(&app.client()).await["tracking_id"].as_str().unwrap().to_owned();

    let runner = delivery_runner();
    for _ in 0..forms::delivery::ATTEMPTS + 2 {
        drain(&app, &runner).await;
        app.kernel.clock.advance_secs(3600);
    }
    assert_eq!(receiver.seen.lock().unwrap().len() as i64, forms::delivery::ATTEMPTS);
    let detail = format!("/verwaltung/mandanten/kreis/eingang/{tracking}");
    let clerk = app.client();
    clerk.login("sachbearbeitung@kreis-auenthal.example", &pw).await;
    clerk
        .get(&detail)
        .await
        .assert_contains("Fehlgeschlagen")
        .assert_contains("HTTP 503")
        .assert_contains("Erneut zustellen");
    // A clerk of another tenant cannot touch it.
    let other = app.client();
    other.login("sachbearbeitung@lindenbach.example", &pw).await;
    let foreign = other.post_form(&format!("/verwaltung/mandanten/kreis/eingang/{tracking}/zustellung"), &[]).await;
    assert!(matches!(foreign.status.as_u16(), 403 | 404), "{}", foreign.status);

    receiver.plan.lock().unwrap().push(204);
    clerk.post_form(&format!("{detail}/zustellung"), &[]).await.assert_status(303);
    drain(&app, &runner).await;
    assert_eq!(receiver.seen.lock().unwrap().last().unwrap().2, 204);
    clerk.get(&detail).await.assert_contains("Zugestellt");
    // Retrying what was delivered is refused.
    clerk.post_form(&format!("{detail}/zustellung"), &[]).await.assert_status(409);
    assert!(text_in(&app, "SELECT action AS t FROM audit_log", "forms.delivery.retried").await);
}
