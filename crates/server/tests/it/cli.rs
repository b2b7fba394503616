//! The command line as an operator uses it: the real binary in a temporary data directory.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

pub const BIN: &str = env!("CARGO_BIN_EXE_kreishaus");

/// Runs `kreishaus` with `args` in a fresh data directory (unless `--data-dir` is given).
fn kreishaus(data_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("--data-dir").arg(data_dir).args(args).env("KREISHAUS_LOG", "warn").output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn help_lists_every_subcommand() {
    let o = Command::new(BIN).arg("--help").output().unwrap();
    assert!(o.status.success());
    let help = text(&o);
    for cmd in ["serve", "worker", "migrate", "demo", "admin", "audit", "config", "forms", "invoice", "bench"] {
        assert!(help.contains(&format!("  {cmd} ")), "{cmd} missing:\n{help}");
    }
}

#[test]
fn forms_import_fim_prints_the_definition_and_the_report_or_refuses_the_file() {
    let fixtures =
        testkit::repo_path("../shared/testdata/forms/fim/xdatenfelder-ts-fixtures/modules/xdatenfelder-xml/tests");
    let o = Command::new(BIN).args(["forms", "import-fim"]).arg(fixtures.join("v2-data/select.xml")).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let form: forms::definition::Form = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((form.id.as_str(), form.problems().len()), ("fim-t1234", 0));
    let report = String::from_utf8_lossy(&o.stderr);
    assert!(report.contains("F123:1.0: code list urn:de:example version 1 is not contained in the file"), "{report}");

    let o = Command::new(BIN)
        .args(["forms", "import-fim"])
        .arg(fixtures.join("v3-data/unexpected-node.xml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("Unexpected node <xdf:unknown> line 11"), "{}", text(&o));
}

#[test]
fn config_example_prints_the_documented_defaults() {
    let o = Command::new(BIN).args(["config", "example"]).output().unwrap();
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), server::config::EXAMPLE);
}

#[test]
fn an_unknown_config_key_stops_with_a_message_naming_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kreishaus.toml");
    std::fs::write(&file, "[database]\nurl = \"\"\nmax_conections = 5\n").unwrap();
    let o = Command::new(BIN).arg("--config").arg(&file).args(["config", "check"]).output().unwrap();
    assert!(!o.status.success());
    let msg = text(&o);
    assert!(msg.contains("max_conections") && msg.contains("kreishaus.toml"), "{msg}");
    assert!(!msg.contains("panicked"), "{msg}");
}

#[test]
fn an_unreachable_database_gives_a_clear_message_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let o = kreishaus(dir.path(), &["--database-url", "postgres://kreishaus:geheim@127.0.0.1:1/kreishaus", "migrate"]);
    assert_eq!(o.status.code(), Some(1));
    let msg = text(&o);
    assert!(msg.contains("cannot open the database postgres://kreishaus:***@127.0.0.1:1/kreishaus"), "{msg}");
    assert!(!msg.contains("geheim") && !msg.contains("panicked"), "{msg}");
}

#[test]
fn migrate_is_idempotent_and_a_changed_applied_migration_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    assert!(kreishaus(dir.path(), &["migrate"]).status.success());
    assert!(kreishaus(dir.path(), &["migrate"]).status.success());
    let db = dir.path().join("kreishaus.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let opts =
            kernel::db::ConnectOptions { url: format!("sqlite:{}", db.display()), max_connections: 1, schema: None };
        let d = kernel::Db::connect(&opts).await.unwrap();
        d.execute(kernel::query("UPDATE schema_migrations SET checksum = 'x' WHERE name = '0001_foundation.sql'"))
            .await
            .unwrap();
        d.close().await;
    });
    let o = kreishaus(dir.path(), &["migrate"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("0001_foundation.sql was changed after it was applied"), "{}", text(&o));
}

#[test]
fn the_demo_loads_idempotently_with_a_new_password_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let first = text(&kreishaus(dir.path(), &["demo", "load"]));
    let second = text(&kreishaus(dir.path(), &["demo", "load"]));
    assert!(first.contains("11 Mandanten, 36 Organisationseinheiten, 27 Konten"), "{first}");
    assert!(second.contains("11 Mandanten, 36 Organisationseinheiten, 27 Konten"), "{second}");
    let password = |s: &str| s.lines().find(|l| l.starts_with("    ") && !l.contains('@')).unwrap().trim().to_owned();
    assert_ne!(password(&first), password(&second));
}

#[test]
fn audit_verify_passes_an_intact_log_and_names_the_first_changed_entry() {
    let dir = tempfile::tempdir().unwrap();
    kreishaus(dir.path(), &["demo", "load"]);
    let ok = kreishaus(dir.path(), &["audit", "verify"]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("intact"));
    let db = dir.path().join("kreishaus.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let opts =
            kernel::db::ConnectOptions { url: format!("sqlite:{}", db.display()), max_connections: 1, schema: None };
        let d = kernel::Db::connect(&opts).await.unwrap();
        // What an attacker with file access could do: remove the guard, then edit history.
        d.execute_script("DROP TRIGGER audit_log_no_update".into()).await.unwrap();
        d.execute(kernel::query("UPDATE audit_log SET details = '{}' WHERE tenant_id = 2 AND seq = 3")).await.unwrap();
        d.close().await;
    });
    let broken = kreishaus(dir.path(), &["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(text(&broken).contains("tenant 2: BROKEN: entry 3 was changed"), "{}", text(&broken));
}

#[test]
fn admin_create_makes_a_platform_administrator_for_a_fresh_installation() {
    let dir = tempfile::tempdir().unwrap();
    let o = kreishaus(
        dir.path(),
        &[
            "admin",
            "create",
            "--email",
            "Kreis-IT@Musterkreis.example",
            "--name",
            "Kreis-IT",
            "--tenant-name",
            "Musterkreis",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("kreis-it@musterkreis.example"));
    let again = kreishaus(dir.path(), &["admin", "create", "--email", "kein-at", "--name", "X"]);
    assert!(!again.status.success());
}

/// Starts `kreishaus serve` and returns the child, its address and the reported start time.
pub async fn start_node(args: &[&str], envs: &[(&str, String)]) -> (tokio::process::Child, String, u64, Vec<String>) {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args).env("KREISHAUS_LOG", "warn").stdout(Stdio::piped()).kill_on_drop(true);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut before = Vec::new();
    let ready = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("Kreishaus läuft auf http://") {
                return line;
            }
            before.push(line);
        }
        panic!("kreishaus serve ended before it was ready: {before:?}");
    })
    .await
    .unwrap();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let addr = ready.trim_start_matches("Kreishaus läuft auf http://").split(' ').next().unwrap().to_owned();
    let ms = ready.split("bereit nach ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    (child, addr, ms, before)
}

#[tokio::test]
async fn serve_starts_on_embedded_sqlite_in_under_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (_child, addr, ms, _) = start_node(&["serve", "--listen", "127.0.0.1:0", "--data-dir", data], &[]).await;
    assert!(ms < 1000, "ready after {ms} ms");
    let (status, _, body) = crate::scale_out::http(&addr, "GET", "/healthz", "", "").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    assert!(dir.path().join("kreishaus.db").exists() && dir.path().join("objects").is_dir());
}

#[tokio::test]
async fn a_worker_process_sends_the_mails_waiting_in_the_outbox() {
    let sink = testkit::SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("kreishaus.db").display());
    assert!(kreishaus(dir.path(), &["migrate"]).status.success());
    let db = kernel::Db::connect(&kernel::db::ConnectOptions { url, max_connections: 1, schema: None }).await.unwrap();
    let mail = kernel::mail::Mail {
        to: "buerger@example.org".into(),
        subject: "Eingangsbestätigung".into(),
        body: "Ihr Antrag ist da.".into(),
    };
    let mut tx = db.begin().await.unwrap();
    let id = kernel::mail::enqueue(&mut tx, kernel::Clock::System.now(), None, &mail, None).await.unwrap().unwrap();
    tx.commit().await.unwrap();

    let mut worker = tokio::process::Command::new(BIN)
        .args(["--data-dir", dir.path().to_str().unwrap(), "worker"])
        .env("KREISHAUS__MAIL__SMTP_URL", sink.url())
        .env("KREISHAUS_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let received = sink.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(received.len(), 1);
    assert!(
        received[0].contains(&format!("<job-{id}@kreishaus>"))
            && received[0].contains("X-Envelope-To: buerger@example.org")
    );
    // The sink has the message once the worker sent it; the worker marks the job done just after.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut status = None;
    while std::time::Instant::now() < deadline {
        status = Some(kernel::jobs::get(&db, id).await.unwrap().unwrap().status);
        if status == Some(kernel::jobs::JobStatus::Done) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, Some(kernel::jobs::JobStatus::Done));
    worker.kill().await.unwrap();
}

#[test]
fn search_eval_prints_the_relevance_figures_as_json() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata/search");
    let o = Command::new(BIN)
        .args([
            "search-eval",
            "--services",
            &format!("{data}/services.tsv"),
            "--queries",
            &format!("{data}/queries.tsv"),
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let figures: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(figures["queries"].as_u64().unwrap() >= 60);
    assert!(
        figures["hit_at_3"].as_f64().unwrap() >= 0.95 && figures["hit_at_1"].as_f64().unwrap() >= 0.80,
        "{figures}"
    );
    assert!(figures["mrr"].as_f64().is_some());
}

#[test]
fn search_eval_names_every_bad_line_of_a_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let services = dir.path().join("services.tsv");
    std::fs::write(&services, "id\tname\tsummary\tlebenslagen\tlevel\na\tA\ts\tX\tkreis\nb\tB\ts\tX\tbund\nc\n")
        .unwrap();
    let o = Command::new(BIN)
        .args(["search-eval", "--services"])
        .arg(&services)
        .args(["--queries"])
        .arg(&services)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let msg = text(&o);
    assert!(
        msg.contains("2 bad line(s)") && msg.contains("line 3: level must be") && msg.contains("line 4: expected 5"),
        "{msg}"
    );
}

/// `../shared/testdata/einvoice` beside the repository.
fn einvoice_testdata() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/einvoice")
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn invoice_validate_accepts_test_suite_invoices_with_one_json_line_each() {
    let suite = einvoice_testdata().join("xrechnung-testsuite/src/test/business-cases/standard");
    let ubl = suite.join("01.01a-INVOICE_ubl.xml");
    let cii = suite.join("01.01a-INVOICE_uncefact.xml");
    let o = Command::new(BIN).args(["invoice", "validate", "--json"]).arg(&ubl).arg(&cii).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["file"], ubl.display().to_string());
    assert_eq!(lines[0]["syntax"], "ubl-invoice");
    assert_eq!(lines[0]["scenario"], "EN16931 XRechnung (UBL Invoice)");
    assert_eq!(lines[1]["syntax"], "cii");
    for line in &lines {
        assert_eq!(line["verdict"], "accept");
        assert_eq!(line["errors"], serde_json::json!([]));
        assert!(line["warnings"].is_array());
    }
}

#[test]
fn invoice_validate_rejects_a_broken_invoice_and_exits_with_1() {
    let dir = tempfile::tempdir().unwrap();
    let good = einvoice_testdata().join("xrechnung-testsuite/src/test/business-cases/standard/01.01a-INVOICE_ubl.xml");
    let xml = std::fs::read_to_string(&good).unwrap();
    // Without payment instructions (BR-DE-1).
    let start = xml.find("<cac:PaymentMeans>").unwrap();
    let end = xml.find("</cac:PaymentMeans>").unwrap() + "</cac:PaymentMeans>".len();
    let broken = format!("{}{}", &xml[..start], &xml[end..]);
    let file = dir.path().join("broken.xml");
    std::fs::write(&file, broken).unwrap();
    let not_xml = dir.path().join("not.xml");
    std::fs::write(&not_xml, [0u8, 159, 146, 150]).unwrap();
    let o =
        Command::new(BIN).args(["invoice", "validate", "--json"]).arg(&good).arg(&file).arg(&not_xml).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let lines = json_lines(&o);
    assert_eq!(lines[0]["verdict"], "accept");
    assert_eq!(lines[1]["verdict"], "reject");
    let rules: Vec<&str> = lines[1]["errors"].as_array().unwrap().iter().map(|e| e["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"BR-DE-1"), "{rules:?}");
    assert_eq!(lines[1]["errors"][0]["severity"], "fatal");
    assert!(lines[1]["errors"][0]["location"].as_str().unwrap().starts_with("/ubl:Invoice"), "{}", lines[1]);
    assert_eq!(lines[2]["verdict"], "reject");
    assert_eq!(lines[2]["errors"][0]["rule"], "READ");

    let human = Command::new(BIN).args(["invoice", "validate"]).arg(&file).output().unwrap();
    assert_eq!(human.status.code(), Some(1));
    assert!(text(&human).contains("reject") && text(&human).contains("BR-DE-1 (fatal)"), "{}", text(&human));
}

#[test]
fn invoice_validate_refuses_a_100_mb_file_by_its_size_and_names_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.xml");
    // Sparse: 100 MB long without taking the disk space.
    std::fs::File::create(&huge).unwrap().set_len(100 * 1024 * 1024).unwrap();
    let missing = dir.path().join("missing.xml");
    let o = Command::new(BIN).args(["invoice", "validate", "--json"]).arg(&huge).arg(&missing).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let lines = json_lines(&o);
    assert_eq!(lines[0]["verdict"], "reject");
    assert_eq!(lines[0]["errors"][0]["rule"], "READ");
    let reason = lines[0]["errors"][0]["message"].as_str().unwrap();
    assert!(reason.contains("104857600 bytes") && reason.contains("at most"), "{reason}");
    assert_eq!(lines[1]["verdict"], "reject");
    assert!(lines[1]["errors"][0]["message"].as_str().unwrap().starts_with("cannot read the file"), "{}", lines[1]);
}

#[test]
fn invoice_render_writes_the_german_rendering_as_html_and_pdf_and_says_why_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let invoice =
        einvoice_testdata().join("xrechnung-testsuite/src/test/business-cases/extension/04.03a-INVOICE_ubl.xml");
    let (html, pdf) = (dir.path().join("r.html"), dir.path().join("r.pdf"));
    let o = Command::new(BIN)
        .args(["invoice", "render", "--html"])
        .arg(&html)
        .arg("--pdf")
        .arg(&pdf)
        .arg(&invoice)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains(r#"<html lang="de">"#));
    for needle in ["Rechnungspositionen", "Verkäufer", "Umsatzsteuer-Identifikationsnummer", "Unterposition: "] {
        assert!(page.contains(needle), "{needle} missing");
    }
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-1.7"));
    // No output named, or no invoice: the reason, and exit code 1.
    let o = Command::new(BIN).args(["invoice", "render"]).arg(&invoice).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("--html FILE and/or --pdf FILE"), "{}", text(&o));
    let not_xml = dir.path().join("not.xml");
    std::fs::write(&not_xml, "kein XML").unwrap();
    let o = Command::new(BIN).args(["invoice", "render", "--pdf"]).arg(&pdf).arg(&not_xml).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("kein wohlgeformtes XML"), "{}", text(&o));
}

#[test]
fn invoice_validate_rules_only_lists_the_rules_fired_on_a_fragment() {
    let dir = tempfile::tempdir().unwrap();
    let fragment = dir.path().join("fragment.xml");
    std::fs::write(
        &fragment,
        r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
            xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
            xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
            <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUR">1.001</cbc:PayableAmount></cac:LegalMonetaryTotal>
        </Invoice>"#,
    )
    .unwrap();
    let o = Command::new(BIN).args(["invoice", "validate", "--rules-only", "--json"]).arg(&fragment).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let line = &json_lines(&o)[0];
    assert_eq!(line["scenario"], serde_json::Value::Null);
    let rules: Vec<&str> = line["errors"].as_array().unwrap().iter().map(|e| e["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"BR-DEC-18") && rules.contains(&"BR-01"), "{rules:?}");
    assert!(!rules.contains(&"SCHEMA"), "{rules:?}");
}

#[test]
fn invoice_validate_reads_the_xml_embedded_in_a_zugferd_pdf() {
    let pdf = einvoice_testdata().join("mustang/library-samples/EN16931_Einfach.pdf");
    let dir = tempfile::tempdir().unwrap();
    let printout = dir.path().join("printout.pdf");
    std::fs::write(&printout, einvoice::pdf::build_with_attachments(&[])).unwrap();
    let o = Command::new(BIN).args(["invoice", "validate", "--json"]).arg(&pdf).arg(&printout).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let lines = json_lines(&o);
    assert_eq!((&lines[0]["verdict"], &lines[0]["syntax"]), (&"accept".into(), &"cii".into()), "{}", lines[0]);
    assert_eq!(lines[0]["scenario"], "EN16931 (CII)");
    assert_eq!(lines[1]["verdict"], "reject");
    assert!(lines[1]["errors"][0]["message"].as_str().unwrap().contains("no embedded invoice"), "{}", lines[1]);
}

#[test]
fn invoice_mailbox_says_when_no_mailbox_is_configured_or_it_cannot_be_reached() {
    let dir = tempfile::tempdir().unwrap();
    let o = kreishaus(dir.path(), &["invoice", "mailbox"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("Kein Rechnungspostfach eingerichtet"), "{}", text(&o));
    let closed = testkit::free_port();
    let o = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["invoice", "mailbox"])
        .env("KREISHAUS_LOG", "warn")
        .env("KREISHAUS__INVOICING__MAILBOX_URL", format!("imap://rechnung:geheim@127.0.0.1:{closed}/INBOX"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let said = text(&o);
    assert!(said.contains("invoice mailbox: connect") && !said.contains("geheim"), "{said}");
}
