//! Identity through HTTP, on a fresh database each (SQLite, or PostgreSQL with
//! `KREISHAUS_TEST_POSTGRES`): login and sessions, CSRF, throttling, tenant isolation, the
//! administration of tenants, staff and roles, and the API.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod admin;
mod citizens;
mod isolation;
mod oidc;
mod sessions;

use testkit::{Client, TestApp};

pub const PLATFORM_ADMIN: &str = "it@kreis-auenthal.example";
pub const LINDENBACH_ADMIN: &str = "verwaltung@lindenbach.example";
pub const LINDENBACH_CLERK: &str = "sachbearbeitung@lindenbach.example";
pub const AUENTHAL_ADMIN: &str = "verwaltung@auenthal.example";

/// The demo county on a fresh database, and the demo password.
pub async fn demo() -> (TestApp, String) {
    let app = TestApp::new().await;
    let password = app.load_demo().await;
    (app, password)
}

/// A browser logged in as `email`.
pub async fn logged_in(app: &TestApp, email: &str, password: &str) -> Client {
    let c = app.client();
    c.login(email, password).await;
    c
}
