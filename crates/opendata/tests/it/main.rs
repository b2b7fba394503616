//! Open data end to end on the demo county (SQLite, or PostgreSQL with
//! `KREISHAUS_TEST_POSTGRES`): the Redaktion's editor with the privacy guard, the public
//! pages, CKAN's Action API (in-process and with the real `ckanapi` client against a running
//! server) and the DCAT-AP.de catalogue checked with pyshacl against the official shapes.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod catalogue;
mod ckan;
mod editor;

use testkit::TestApp;

/// The app on a fresh database with the demo county, its datasets and their data tables (a
/// small vehicle table); the demo password.
pub async fn demo_app() -> (TestApp, String) {
    let app = TestApp::new().await;
    let password = app.load_demo().await;
    app.load_open_data(300).await;
    (app, password)
}

/// Serves the app on a free local port, as `kreishaus serve` would; returns its base URL.
pub async fn serve(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// Runs a Python script of this crate's tests; (exit success, stdout, stderr).
pub async fn python(script: &str, args: &[&str]) -> (bool, String, String) {
    let path = testkit::repo_path(&format!("crates/opendata/tests/{script}"));
    let out = tokio::process::Command::new("python3")
        .arg(path)
        .args(args)
        .output()
        .await
        .expect("python3 (pip install -r requirements-test.txt)");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "a Python package is missing (pip install -r requirements-test.txt): {stderr}"
    );
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}
