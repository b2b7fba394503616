//! The data store end to end on SQLite, or PostgreSQL with `KREISHAUS_TEST_POSTGRES`: the real
//! sample files import, bad rows are reported by line, the data API answers in three formats,
//! small counts stay hidden everywhere, and one tenant cannot read another's drafts.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod api;
mod columnar;
mod import;
mod pages;

use std::path::{Path, PathBuf};

use datastore::service::{self, ManageData};
use identity::Authorized;
use identity::service::LoginAttempt;
use testkit::TestApp;

/// A file of the shared test data.
pub fn sample(relative: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/opendata/samples").join(relative);
    assert!(p.exists(), "test data missing at {}", p.display());
    p
}

/// The demo county with the proof of a member of staff who may manage data in `slug`.
pub async fn editor(app: &TestApp, password: &str, email: &str, slug: &str) -> Authorized<ManageData> {
    let session = identity::service::login(
        &app.kernel,
        &app.config.identity,
        LoginAttempt { email, password, client_ip: "127.0.0.1", user_agent: "test" },
    )
    .await
    .unwrap();
    session.staff.authorize::<ManageData>(app.tenant_id(slug).await).unwrap()
}

/// The county's Redaktion.
pub async fn county_editor(app: &TestApp) -> Authorized<ManageData> {
    let pw = app.load_demo().await;
    editor(app, &pw, "redaktion@kreis-auenthal.example", "kreis").await
}

/// Writes a file into the test's directory and returns its path.
pub fn write(app: &TestApp, name: &str, bytes: &[u8]) -> PathBuf {
    let p = app.test_db.dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Creates a resource from a file and imports it now.
pub async fn load(
    app: &TestApp,
    proof: &Authorized<ManageData>,
    title: &str,
    path: &Path,
) -> (String, service::ImportReport) {
    let r = service::create_resource(&app.kernel, proof, title, "test", path).await.unwrap();
    let report = service::import_now(&app.kernel, proof, &r.id, None).await.unwrap();
    (r.id, report)
}

/// Marks columns as counts, sets k and publishes.
pub async fn publish(app: &TestApp, proof: &Authorized<ManageData>, id: &str, k: i64, counts: &[&str]) {
    let r = service::own_resource(&app.kernel, proof, id).await.unwrap();
    let settings = service::Settings {
        title: r.title.clone(),
        k,
        published: true,
        columns: r.columns.iter().map(|c| (c.ty, counts.contains(&c.name.as_str()))).collect(),
    };
    assert!(!service::save_settings(&app.kernel, proof, id, &settings).await.unwrap());
}
