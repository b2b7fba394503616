//! Incoming e-invoices end to end on the demo county (SQLite, or PostgreSQL with
//! `KREISHAUS_TEST_POSTGRES`): an organisation sends XRechnungen over the API, three people
//! approve them, the Kasse exports the bookings; refusals, duplicates, isolation, the drop
//! folder, the invoice mailbox (a real IMAP server), reminders, the Leitweg-ID table and paper
//! invoices typed in from their scans.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod intake;
mod mailbox;
mod paper;
mod workflow;

use axum::body::Body;
use axum::http::Request;
use testkit::{Client, TestApp, TestResponse};

pub const KREIS_LEITWEG: &str = "05999000-RE1-17";
pub const DOMAIN: &str = "kreis-auenthal.example";

/// A test-suite invoice (`standard/…`) addressed to `leitweg_id`.
pub fn suite_invoice(name: &str, leitweg_id: &str) -> String {
    let path = testkit::repo_path(&format!(
        "../shared/testdata/einvoice/xrechnung-testsuite/src/test/business-cases/standard/{name}"
    ));
    let xml = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    invoicing::model::with_buyer_reference(&xml, leitweg_id).unwrap()
}

/// The demo county, its demo password, and a bearer token of a citizen who owns an organisation.
pub struct Setup {
    pub app: TestApp,
    pub password: String,
    pub bearer: String,
    pub org: i64,
}

pub async fn setup() -> Setup {
    let app = TestApp::new().await;
    let password = app.load_demo().await;
    let api = app.client();
    let pw = "Rechnungen sind Papierkram";
    let email = "buchhaltung@baeckerei.example";
    api.send(json("/api/v1/account", serde_json::json!({"email": email, "password": pw}))).await.assert_status(202);
    let token = outbox_token(&app, email).await;
    identity::citizen::service::verify_email(&app.kernel, &token).await.unwrap();
    let res = api.send(json("/api/v1/account/sessions", serde_json::json!({"email": email, "password": pw}))).await;
    res.assert_status(201);
    let bearer = res.json()["token"].as_str().unwrap().to_owned();
    let citizen =
        identity::citizen::service::authenticate(&app.kernel, &app.config.identity, &bearer).await.unwrap().unwrap();
    let org =
        identity::citizen::service::create_organisation(&app.kernel, &citizen, "Bäckerei Korn GmbH").await.unwrap().0;
    Setup { app, password, bearer, org }
}

/// Every mail in the outbox, oldest first.
pub async fn outbox(app: &TestApp) -> Vec<kernel::mail::Mail> {
    let rows = app
        .kernel
        .db
        .fetch_all(kernel::query("SELECT payload FROM jobs WHERE kind = 'mail.send' ORDER BY id"))
        .await
        .unwrap();
    rows.iter().map(|r| serde_json::from_str(&r.get::<String>("payload").unwrap()).unwrap()).collect()
}

/// The token of the link in the newest mail to `to`.
async fn outbox_token(app: &TestApp, to: &str) -> String {
    outbox(app)
        .await
        .into_iter()
        .rev()
        .find(|m| m.to == to)
        .map(|m| m.body.split("t=").nth(1).unwrap().chars().take_while(|c| c.is_ascii_alphanumeric()).collect())
        .unwrap()
}

pub fn json(path: &str, v: serde_json::Value) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(v.to_string()))
        .unwrap()
}

impl Setup {
    /// Sends bytes to the intake API as the organisation.
    pub async fn send(&self, body: impl Into<Vec<u8>>) -> TestResponse {
        let req = Request::builder()
            .method("POST")
            .uri(format!("/api/v1/invoices?organisation={}", self.org))
            .header("content-type", "application/xml")
            .header("authorization", format!("Bearer {}", self.bearer))
            .body(Body::from(body.into()))
            .unwrap();
        self.app.client().send(req).await
    }

    /// Reads from the invoice API as the organisation.
    pub async fn api_get(&self, path: &str) -> TestResponse {
        let req = Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {}", self.bearer))
            .body(Body::empty())
            .unwrap();
        self.app.client().send(req).await
    }

    /// A member of the county's staff, logged in.
    pub async fn staff(&self, local: &str) -> Client {
        let c = self.app.client();
        c.login(&format!("{local}@{DOMAIN}"), &self.password).await;
        c
    }
}
