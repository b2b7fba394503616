//! Two `kreishaus serve` processes on one database: a fresh PostgreSQL database in the
//! PostgreSQL run (`KREISHAUS_TEST_POSTGRES`), one shared SQLite file otherwise. A session made
//! on one node works on the other, and jobs enqueued on one run exactly once across both.

use std::collections::HashSet;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::start_node;

/// One HTTP/1.1 request over a fresh connection; returns status, `Set-Cookie` pairs and body.
pub async fn http(addr: &str, method: &str, path: &str, cookies: &str, form: &str) -> (u16, Vec<String>, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !cookies.is_empty() {
        req.push_str(&format!("Cookie: {cookies}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n", form.len()));
    }
    req.push_str("\r\n");
    req.push_str(form);
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let set_cookies = head
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .collect();
    (status, set_cookies, body.to_owned())
}

/// A browser's cookies, as a `Cookie` header.
#[derive(Default)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn take(&mut self, set: Vec<String>) {
        for c in set {
            let (k, v) = c.split_once('=').unwrap();
            self.0.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.0.push((k.to_owned(), v.to_owned()));
            }
        }
    }

    fn header(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn get(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    async fn request(&mut self, addr: &str, method: &str, path: &str, form: &str) -> (u16, String) {
        let (status, set, body) = http(addr, method, path, &self.header(), form).await;
        self.take(set);
        (status, body)
    }

    async fn post(&mut self, addr: &str, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut all = vec![("_csrf", self.get("kh_csrf"))];
        all.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let form = serde_urlencoded::to_string(&all).unwrap();
        self.request(addr, "POST", path, &form).await
    }
}

/// Runs one statement on the PostgreSQL server of the test run.
async fn on_postgres_server(server: &str, sql: String) {
    let opts = kernel::db::ConnectOptions { url: server.to_owned(), max_connections: 1, schema: None };
    let admin = kernel::Db::connect(&opts).await.unwrap();
    admin.execute_script(sql).await.unwrap();
    admin.close().await;
}

/// The database both nodes share: its URL and a handle for the test's own checks.
async fn shared_database(dir: &std::path::Path, pg_name: &str) -> (String, kernel::Db) {
    let url = match testkit::postgres_url() {
        Some(server) => {
            on_postgres_server(&server, format!("CREATE DATABASE {pg_name}")).await;
            format!("{}/{pg_name}", server.rsplit_once('/').unwrap().0)
        }
        None => format!("sqlite:{}", dir.join("shared.db").display()),
    };
    let db = kernel::Db::connect(&kernel::db::ConnectOptions { url: url.clone(), max_connections: 2, schema: None })
        .await
        .unwrap();
    (url, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_sessions_and_run_each_job_exactly_once() {
    let sink = testkit::SmtpSink::start().await;
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pg_name = format!("kh_scale_{}", &kernel::random_token()[..12]);
    let (url, db) = shared_database(dirs.0.path(), &pg_name).await;
    let envs = [("KREISHAUS__MAIL__SMTP_URL", sink.url()), ("KREISHAUS__JOBS__IDLE_POLL_MS", "50".to_owned())];
    let node = |dir: &tempfile::TempDir, demo: bool| {
        let mut args = vec![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &url,
            "--data-dir",
            dir.path().to_str().unwrap(),
        ];
        if demo {
            args.push("--demo");
        }
        args.into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    let args_a = node(&dirs.0, true);
    let (_a, addr_a, _, printed) = start_node(&args_a.iter().map(String::as_str).collect::<Vec<_>>(), &envs).await;
    let args_b = node(&dirs.1, false);
    let (_b, addr_b, _, _) = start_node(&args_b.iter().map(String::as_str).collect::<Vec<_>>(), &envs).await;
    let password = printed.iter().find(|l| l.starts_with("    ") && !l.contains('@')).unwrap().trim().to_owned();

    // A session made on node A is valid on node B, and a logout on B ends it on A.
    let mut browser = Jar::default();
    browser.request(&addr_a, "GET", "/anmelden", "").await;
    let (status, _) =
        browser.post(&addr_a, "/anmelden", &[("email", "it@kreis-auenthal.example"), ("password", &password)]).await;
    assert_eq!(status, 303);
    let (status, body) = browser.request(&addr_b, "GET", "/konto", "").await;
    assert_eq!(status, 200);
    assert!(body.contains("Ilse Tanner"));
    assert_eq!(browser.post(&addr_b, "/abmelden", &[]).await.0, 303);
    assert_eq!(browser.request(&addr_a, "GET", "/konto", "").await.0, 303);

    // Jobs enqueued on node A run exactly once across the workers of both nodes.
    browser.post(&addr_a, "/anmelden", &[("email", "it@kreis-auenthal.example"), ("password", &password)]).await;
    const MAILS: usize = 30;
    for i in 0..MAILS {
        let to = format!("empfaenger{i}@example.org");
        assert_eq!(browser.post(&addr_a, "/verwaltung/auftraege/testmail", &[("to", &to)]).await.0, 303);
    }
    sink.wait_for(MAILS, Duration::from_secs(60)).await;
    // A duplicate would arrive a little later: give it the chance to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let messages = sink.messages();
    assert_eq!(messages.len(), MAILS, "every mail exactly once");
    let recipients: HashSet<String> = messages
        .iter()
        .filter_map(|m| m.lines().find_map(|l| l.strip_prefix("X-Envelope-To: ").map(str::to_owned)))
        .collect();
    assert_eq!(recipients.len(), MAILS);

    let rows = db
        .fetch_all(kernel::query("SELECT status, attempts, locked_by FROM jobs WHERE kind = 'mail.send'"))
        .await
        .unwrap();
    assert_eq!(rows.len(), MAILS);
    let mut workers = HashSet::new();
    for r in &rows {
        assert_eq!(r.get::<String>("status").unwrap(), "done");
        assert_eq!(r.get::<i64>("attempts").unwrap(), 1, "no job ran twice");
        workers.insert(r.get::<Option<String>>("locked_by").unwrap().unwrap());
    }
    eprintln!("{MAILS} jobs were run by {} workers on {}: {workers:?}", workers.len(), db.engine().name());
    db.close().await;
    if let Some(server) = testkit::postgres_url() {
        on_postgres_server(&server, format!("DROP DATABASE {pg_name} WITH (FORCE)")).await;
    }
}
