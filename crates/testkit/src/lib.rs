//! Test support: a fresh database per test (an SQLite file in a temporary directory, or a
//! fresh PostgreSQL schema when `KREISHAUS_TEST_POSTGRES` holds a server URL), the whole
//! application in-process, browser-like clients with their own cookie jar, and fixtures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use kernel::db::ConnectOptions;
use kernel::{Clock, Db, Engine, Kernel, TenantId, Timestamp};
use server::config::Config;
use tower::ServiceExt;

/// The environment variable that switches tests to PostgreSQL, e.g.
/// `KREISHAUS_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/kreishaus_test`.
pub const POSTGRES_ENV: &str = "KREISHAUS_TEST_POSTGRES";

/// A fresh, empty, migrated database and what keeps it alive.
pub struct TestDb {
    pub db: Db,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL schema of this test, if on PostgreSQL.
    pub schema: Option<String>,
}

impl TestDb {
    pub fn engine(&self) -> Engine {
        self.db.engine()
    }
}

/// The URL of the PostgreSQL server for tests, when the run is on PostgreSQL.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty())
}

/// A fresh database on the engine of this test run, not yet migrated.
pub async fn fresh_db() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    match postgres_url() {
        Some(url) => {
            let schema = format!("t_{}", &kernel::random_token()[..16]);
            let admin = Db::connect(&ConnectOptions { url: url.clone(), max_connections: 1, schema: None })
                .await
                .expect("PostgreSQL for tests");
            admin.execute_script(format!("CREATE SCHEMA {schema}")).await.expect("create schema");
            admin.close().await;
            let db = Db::connect(&ConnectOptions { url, max_connections: 8, schema: Some(schema.clone()) })
                .await
                .expect("connect test schema");
            TestDb { db, dir, schema: Some(schema) }
        }
        None => {
            let url = format!("sqlite:{}", dir.path().join("test.db").display());
            let db =
                Db::connect(&ConnectOptions { url, max_connections: 8, schema: None }).await.expect("SQLite for tests");
            TestDb { db, dir, schema: None }
        }
    }
}

/// 2026-11-22 08:00 UTC: tests start at a fixed time on a manual clock.
pub const START: Timestamp = Timestamp::from_millis(1_795_334_400_000);

/// The application in-process on a fresh database, with a manual clock.
pub struct TestApp {
    pub kernel: Kernel,
    pub config: Config,
    pub router: Router,
    pub test_db: TestDb,
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with_config(|_| {}).await
    }

    /// A test app whose config is adjusted first.
    pub async fn with_config(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let test_db = fresh_db().await;
        let mut config = Config::default();
        config.server.data_dir = test_db.dir.path().to_path_buf();
        adjust(&mut config);
        let kernel = server::app::open_with(&config, test_db.db.clone(), Clock::manual(START)).await.expect("open");
        let router = server::app::router(&kernel, &config).expect("router");
        TestApp { kernel, config, router, test_db }
    }

    /// A new browser with an empty cookie jar.
    pub fn client(&self) -> Client {
        Client { router: self.router.clone(), jar: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// Loads the demo county with the shared test catalogue; returns the demo password.
    pub async fn load_demo(&self) -> String {
        let password = server::demo::load(&self.kernel).await.expect("demo loads").password;
        let catalogue = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata/search/services.tsv");
        assert!(
            std::path::Path::new(catalogue).exists(),
            "test data missing at {catalogue}: `shared/` must sit beside the repository"
        );
        server::demo::load_catalogue(&self.kernel, std::path::Path::new(catalogue)).await.expect("catalogue loads");
        password
    }

    /// Loads the demo's open data tables (with `vehicle_rows` vehicle rows) and links them to
    /// their datasets, as `serve --demo` does in the background; run [`TestApp::load_demo`] first.
    pub async fn load_open_data(&self, vehicle_rows: usize) {
        let dir = self.config.server.data_dir.join("datastore").join("demo");
        server::demo::load_open_data_tables(&self.kernel, &dir, vehicle_rows, &self.config.web.public_url)
            .await
            .expect("open data tables load");
    }

    /// A browser with a citizen account registered, confirmed by the link from its mail, and
    /// logged in (trust level basic).
    pub async fn citizen(&self, email: &str, password: &str) -> Client {
        let c = self.client();
        let fields = [("email", email), ("password", password), ("repeat_password", password)];
        c.post_form("/buergerkonto/registrieren", &fields).await.assert_status(200);
        let rows = self
            .kernel
            .db
            .fetch_all(kernel::query("SELECT payload FROM jobs WHERE kind = 'mail.send' ORDER BY id DESC"))
            .await
            .expect("outbox");
        let body = rows
            .iter()
            .filter_map(|r| serde_json::from_str::<kernel::mail::Mail>(&r.get::<String>("payload").ok()?).ok())
            .find(|m| m.to == email)
            .expect("a verification mail")
            .body;
        let token: String =
            body.split("t=").nth(1).expect("a link").chars().take_while(char::is_ascii_hexdigit).collect();
        c.post_form("/buergerkonto/bestaetigen", &[("t", &token)]).await.assert_status(303);
        c.post_form("/buergerkonto/anmelden", &[("email", email), ("password", password)]).await.assert_status(303);
        c
    }

    pub async fn tenant_id(&self, slug: &str) -> TenantId {
        server::demo::tenant_id(&self.kernel, slug).await.expect("tenant exists")
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    /// The body as sent (a PDF, say).
    pub raw: Vec<u8>,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(self.status.as_u16(), expected, "unexpected status; body:\n{}", self.body);
        self
    }

    #[track_caller]
    pub fn assert_contains(&self, text: &str) -> &Self {
        assert!(self.body.contains(text), "body lacks {text:?}:\n{}", self.body);
        self
    }

    #[track_caller]
    pub fn assert_lacks(&self, text: &str) -> &Self {
        assert!(!self.body.contains(text), "body contains {text:?}:\n{}", self.body);
        self
    }
}

/// A browser: keeps cookies and sends the CSRF token with every form, like a page would.
#[derive(Clone)]
pub struct Client {
    router: Router,
    jar: Arc<Mutex<HashMap<String, String>>>,
}

impl Client {
    fn cookie_header(&self) -> String {
        let jar = self.jar.lock().expect("jar");
        jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn store_cookies(&self, headers: &axum::http::HeaderMap) {
        let mut jar = self.jar.lock().expect("jar");
        for v in headers.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()) {
            let first = v.split(';').next().unwrap_or_default();
            let Some((name, value)) = first.split_once('=') else { continue };
            let deleted = value.is_empty() || v.contains("Max-Age=0");
            if deleted {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().expect("jar").get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar.lock().expect("jar").insert(name.to_owned(), value.to_owned());
    }

    pub fn forget_cookie(&self, name: &str) {
        self.jar.lock().expect("jar").remove(name);
    }

    /// Sends a request as built, with this client's cookies.
    pub async fn send(&self, mut req: Request<Body>) -> TestResponse {
        let cookies = self.cookie_header();
        if !cookies.is_empty() {
            req.headers_mut().insert(header::COOKIE, cookies.parse().expect("cookie header"));
        }
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        self.store_cookies(res.headers());
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
        TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned(), raw: bytes.to_vec() }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Request::builder().uri(path).body(Body::empty()).expect("request")).await
    }

    pub async fn get_json(&self, path: &str) -> TestResponse {
        self.send(
            Request::builder()
                .uri(path)
                .header(header::ACCEPT, "application/json")
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    /// The CSRF token this browser holds, fetching a page first when it has none.
    pub async fn csrf(&self) -> String {
        let held = || self.cookie("kh_csrf").or_else(|| self.cookie("__Host-kh_csrf"));
        if held().is_none() {
            self.get("/").await;
        }
        held().expect("a CSRF cookie after visiting a page")
    }

    /// Posts a URL-encoded form with the CSRF token, as the page's form would.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_form_raw(path, &all).await
    }

    /// Posts a form exactly as given (no token added).
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = serde_urlencoded::to_string(fields).expect("form");
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    /// Uploads a file as a multipart form with the CSRF token in the address, as a page's upload
    /// form does: `fields` are further text fields, `file` is (field name, file name, content
    /// type, content).
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &str, &[u8]),
    ) -> TestResponse {
        let token = self.csrf().await;
        let boundary = "kreishaus-test-boundary-7d3f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        let (name, filename, content_type, content) = file;
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                 Content-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let separator = if path.contains('?') { '&' } else { '?' };
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("{path}{separator}_csrf={token}"))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    /// Logs in through the login form; panics unless it succeeds.
    pub async fn login(&self, email: &str, password: &str) {
        let res = self.post_form("/anmelden", &[("email", email), ("password", password)]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "login of {email} failed:\n{}", res.body);
    }
}

/// A real SMTP server (Python's aiosmtpd) for one test; it stops when dropped.
pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    _child: tokio::process::Child,
}

impl SmtpSink {
    /// Starts the sink on a free port. Needs `pip install aiosmtpd`.
    pub async fn start() -> SmtpSink {
        use tokio::io::AsyncBufReadExt;
        let port = free_port();
        let dir = tempfile::tempdir().expect("temp dir");
        let script = repo_path("crates/testkit/smtp_sink.py");
        let mut child = tokio::process::Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 for the SMTP sink");
        let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line()).await;
        assert!(
            matches!(first, Ok(Ok(Some(ref l))) if l == "ready"),
            "the SMTP sink did not start (is aiosmtpd installed? pip install aiosmtpd): {first:?}"
        );
        SmtpSink { port, dir, _child: child }
    }

    /// The URL for `mail.smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, raw, in arrival order.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<(u64, std::path::PathBuf)> = std::fs::read_dir(self.dir.path())
            .expect("sink dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter_map(|p| {
                Some((p.file_stem()?.to_str()?.parse().ok()?, p.clone()))
                    .filter(|_| p.extension().is_some_and(|x| x == "eml"))
            })
            .collect();
        files.sort();
        files.into_iter().map(|(_, p)| std::fs::read_to_string(p).expect("message")).collect()
    }

    /// Waits until at least `n` messages arrived (or the timeout passed) and returns them all.
    pub async fn wait_for(&self, n: usize, timeout: std::time::Duration) -> Vec<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let m = self.messages();
            if m.len() >= n || std::time::Instant::now() > deadline {
                return m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// A path relative to the repository root. Read at run time from the running test crate's
/// folder (every crate is `crates/<name>`), not baked in at compile time: a compiled testkit
/// may come from another checkout that shares the target dir.
pub fn repo_path(relative: &str) -> std::path::PathBuf {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests");
    std::path::Path::new(&crate_dir).join("../..").join(relative)
}

/// A TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}
