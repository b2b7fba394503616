//! The invoice mailbox against a real IMAP server: Dovecot (Debian's `dovecot-imapd`), started
//! by each test on free ports with its own mail directory. Messages arrive by IMAP APPEND, as
//! a mail server's delivery would put them there.

use std::process::Stdio;
use std::time::{Duration, Instant};

use invoicing::mailbox::{FOLDER_DONE, FOLDER_REFUSED, MailboxConfig};
use invoicing::service::{self, MailboxReport};
use kernel::Secret;
use tempfile::TempDir;

use crate::{KREIS_LEITWEG, setup, suite_invoice};

/// With the characters a URL must encode (Dovecot's static passdb takes no spaces or `%`).
const PASSWORD: &str = "Geheim/7+8:@x";
const USER: &str = "rechnungseingang@kreis-auenthal.example";

/// A running Dovecot; killed when dropped.
struct Dovecot {
    imap: u16,
    imaps: u16,
    dir: TempDir,
    _child: tokio::process::Child,
}

/// The user the mail processes run as: Dovecot refuses root, so as root `dovenull`.
fn mail_user() -> String {
    let id = |flag: &str| {
        let out = std::process::Command::new("id").arg(flag).output().expect("id");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    if id("-u") == "0" { "dovenull".into() } else { id("-un") }
}

/// A county CA (`ca.pem`) and the server's certificate for 127.0.0.1 and localhost signed by
/// it: `(cert.pem, key.pem)` in `dir`.
fn certificate(dir: &std::path::Path) -> (String, String) {
    let openssl = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(Stdio::null())
            .status()
            .expect("openssl must be installed");
        assert!(status.success(), "openssl {args:?}");
    };
    let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[&["req", "-x509"], &key[..], &["-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=Kreis-CA", "-days", "2"]]
            .concat(),
    );
    openssl(&[&["req"], &key[..], &["-keyout", "key.pem", "-out", "server.csr", "-subj", "/CN=localhost"]].concat());
    std::fs::write(dir.join("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
        .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "cert.pem",
    ]);
    (dir.join("cert.pem").display().to_string(), dir.join("key.pem").display().to_string())
}

/// Dovecot with `extra` lines of configuration.
async fn start_dovecot(extra: &str) -> Dovecot {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for sub in ["run", "state", "mail"] {
        std::fs::create_dir(root.join(sub)).unwrap();
    }
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(root.join("mail"), std::fs::Permissions::from_mode(0o777)).unwrap();
    let (cert, key) = certificate(root);
    let (imap, imaps) = (testkit::free_port(), testkit::free_port());
    let user = mail_user();
    let r = root.display();
    let config = format!(
        "protocols = imap\nlisten = 127.0.0.1\nbase_dir = {r}/run\nstate_dir = {r}/state\nlog_path = {r}/log\n\
         default_internal_user = {user}\ndefault_login_user = {user}\nfirst_valid_uid = 1\n\
         ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\ndisable_plaintext_auth = no\n\
         mail_location = maildir:{r}/mail/%u\n\
         passdb {{\n  driver = static\n  args = password={PASSWORD}\n}}\n\
         userdb {{\n  driver = static\n  args = uid={user} gid={user} home={r}/mail/%u\n}}\n\
         service imap-login {{\n  inet_listener imap {{\n    port = {imap}\n  }}\n  \
         inet_listener imaps {{\n    port = {imaps}\n    ssl = yes\n  }}\n}}\n{extra}\n"
    );
    std::fs::write(root.join("dovecot.conf"), config).unwrap();
    let child = tokio::process::Command::new("dovecot")
        .arg("-F")
        .arg("-c")
        .arg(root.join("dovecot.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("Dovecot must be installed: apt-get install dovecot-imapd");
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", imaps)).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "Dovecot did not start: {}",
            std::fs::read_to_string(root.join("log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Dovecot { imap, imaps, dir, _child: child }
}

impl Dovecot {
    /// The mailbox URL, user and password percent-encoded.
    fn url(&self, scheme: &str, port: u16, query: &str) -> Secret {
        let password: String = url::form_urlencoded::byte_serialize(PASSWORD.as_bytes()).collect();
        let user: String = url::form_urlencoded::byte_serialize(USER.as_bytes()).collect();
        Secret::new(format!("{scheme}://{user}:{password}@127.0.0.1:{port}/INBOX{query}"))
    }

    fn plain(&self) -> MailboxConfig {
        MailboxConfig { url: self.url("imap", self.imap, ""), ..Default::default() }
    }

    fn ca_file(&self) -> String {
        self.dir.path().join("ca.pem").display().to_string()
    }

    async fn session(&self) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imap)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap();
        client.login(USER, PASSWORD).await.map_err(|(e, _)| e).unwrap()
    }

    /// Delivers messages into the inbox.
    async fn deliver(&self, messages: &[String]) {
        let mut session = self.session().await;
        for message in messages {
            session.append("INBOX", None, None, message.as_bytes()).await.unwrap();
        }
        session.logout().await.unwrap();
    }

    /// How many messages each folder holds (0 for one that does not exist).
    async fn count(&self, folder: &str) -> u32 {
        let mut session = self.session().await;
        let n = match session.status(folder, "(MESSAGES)").await {
            Ok(mailbox) => mailbox.exists,
            Err(_) => 0,
        };
        session.logout().await.unwrap();
        n
    }
}

/// A message from `from` with these attachments `(file name, MIME type, content)`.
fn message(from: &str, extra_headers: &str, subject: &str, attachments: &[(&str, &str, &[u8])]) -> String {
    use base64::Engine;
    let mut m = format!(
        "From: {from}\r\nTo: {USER}\r\n{extra_headers}Subject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"grenze\"\r\n\r\n\
         --grenze\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSehr geehrte Damen und Herren,\r\nanbei.\r\n"
    );
    for (name, mime, content) in attachments {
        let encoded = base64::engine::general_purpose::STANDARD.encode(content);
        let lines: Vec<&str> = encoded.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
        m.push_str(&format!(
            "--grenze\r\nContent-Type: {mime}\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            lines.join("\r\n")
        ));
    }
    m.push_str("--grenze--\r\n");
    m
}

/// The mails in the outbox addressed to `to`.
async fn answers(s: &crate::Setup, to: &str) -> Vec<kernel::mail::Mail> {
    crate::outbox(&s.app).await.into_iter().filter(|m| m.to == to).collect()
}

#[tokio::test]
async fn invoices_arrive_by_mail_and_every_refusal_is_answered_once() {
    let s = setup().await;
    let dovecot = start_dovecot("").await;
    let good = suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG);
    let forwarded_invoice = suite_invoice("01.02a-INVOICE_ubl.xml", KREIS_LEITWEG);
    let unknown_route = suite_invoice("01.03a-INVOICE_ubl.xml", "04011000-12345-03");
    let supplier = message(
        "Buchhaltung <Rechnung@Backhaus.example>",
        "Reply-To: Debitoren <debitoren@backhaus.example>\r\n",
        "Rechnung 1",
        &[("rechnung.xml", "application/xml", good.as_bytes())],
    );
    let forward = format!(
        "From: poststelle@kreis-auenthal.example\r\nSubject: WG: Rechnung\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"aussen\"\r\n\r\n--aussen\r\nContent-Type: text/plain\r\n\r\n\
         Zur Bearbeitung.\r\n--aussen\r\nContent-Type: message/rfc822\r\n\r\n{}\r\n--aussen--\r\n",
        message(
            "kasse@muehle.example",
            "",
            "Rechnung 2",
            &[("r.dat", "application/octet-stream; name=\"x.xml\"", forwarded_invoice.as_bytes(),)]
        )
    );
    let wrong = message(
        "info@druckerei.example",
        "Reply-To: Rechnungen <rechnungen@druckerei.example>\r\n",
        "Rechnung 3",
        &[("R3.XML", "application/octet-stream", unknown_route.as_bytes())],
    );
    let empty = message("frage@firma.example", "", "Zahlung?", &[]);
    let robot = message("urlaub@firma.example", "Auto-Submitted: auto-replied\r\n", "Abwesend", &[]);
    dovecot.deliver(&[supplier.clone(), forward, wrong.clone(), empty, robot]).await;
    // `kreishaus invoice mailbox` sees them waiting.
    assert_eq!(service::check_mailbox(&dovecot.plain()).await.unwrap(), 5);

    let report = service::scan_mailbox(&s.app.kernel, &dovecot.plain()).await.unwrap();
    assert_eq!(report, MailboxReport { messages: 5, received: 2, refused: 3, known: 0 });
    assert_eq!(dovecot.count("INBOX").await, 0);
    assert_eq!(dovecot.count(FOLDER_DONE).await, 2);
    assert_eq!(dovecot.count(FOLDER_REFUSED).await, 3);

    let county = s.app.tenant_id("kreis").await;
    let stored = invoicing::store::list(&s.app.kernel.db, county, None, None, 10).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|i| i.channel == invoicing::model::Channel::Mail));
    let mut senders: Vec<&str> = stored.iter().map(|i| i.sender.as_str()).collect();
    senders.sort();
    // The sender is the address answers go to (Reply-To, else From); a forwarded invoice counts
    // as sent by whoever forwarded it.
    assert_eq!(senders, ["mail:debitoren@backhaus.example", "mail:poststelle@kreis-auenthal.example"]);

    // The answers: to the Reply-To address, with the reason per file; none to the machine.
    let to_printer = answers(&s, "rechnungen@druckerei.example").await;
    assert_eq!(to_printer.len(), 1);
    assert_eq!(to_printer[0].subject, "Rechnung nicht angenommen: Rechnung 3");
    let body = &to_printer[0].body;
    assert!(body.contains("Datei „R3.XML“") && body.contains("04011000-12345-03"), "{body}");
    let to_asker = answers(&s, "frage@firma.example").await;
    assert!(to_asker[0].body.contains("keine Rechnung als Anhang"));
    assert!(answers(&s, "urlaub@firma.example").await.is_empty());
    assert!(answers(&s, "rechnung@backhaus.example").await.is_empty());

    // The same messages again (a scan broken off before the move, or a sender sending twice):
    // nothing stored twice, nobody answered twice.
    dovecot.deliver(&[supplier, wrong]).await;
    let report = service::scan_mailbox(&s.app.kernel, &dovecot.plain()).await.unwrap();
    assert_eq!(report, MailboxReport { messages: 2, received: 0, refused: 1, known: 1 });
    assert_eq!(invoicing::store::list(&s.app.kernel.db, county, None, None, 10).await.unwrap().len(), 2);
    assert_eq!(answers(&s, "rechnungen@druckerei.example").await.len(), 1);
    assert_eq!(dovecot.count(FOLDER_DONE).await, 3);

    // A message beyond the limit is not fetched; its sender learns the limit from its header.
    let line = "x".repeat(998);
    let lines = service::MAX_MESSAGE_BYTES as usize / 1000 + 1;
    let huge = format!("From: scanner@firma.example\r\nSubject: Scans\r\n\r\n{}", format!("{line}\r\n").repeat(lines));
    dovecot.deliver(&[huge]).await;
    let report = service::scan_mailbox(&s.app.kernel, &dovecot.plain()).await.unwrap();
    assert_eq!(report, MailboxReport { messages: 1, received: 0, refused: 1, known: 0 });
    let answer = &answers(&s, "scanner@firma.example").await[0];
    assert_eq!(answer.subject, "Rechnung nicht angenommen: Scans");
    assert!(answer.body.contains("angenommen werden E-Mails bis 32 MB"), "{answer:?}");
    assert_eq!(dovecot.count(FOLDER_REFUSED).await, 5);
}

#[tokio::test]
async fn the_mailbox_is_reached_over_tls_or_starttls_and_a_wrong_login_says_so() {
    let s = setup().await;
    let dovecot = start_dovecot("").await;
    let k = &s.app.kernel;
    let tls = MailboxConfig {
        url: dovecot.url("imaps", dovecot.imaps, ""),
        ca_file: dovecot.ca_file(),
        ..Default::default()
    };
    assert_eq!(service::scan_mailbox(k, &tls).await.unwrap(), MailboxReport::default());
    assert_eq!(service::check_mailbox(&tls).await.unwrap(), 0);
    let starttls = MailboxConfig {
        url: dovecot.url("imap", dovecot.imap, "?tls=required"),
        ca_file: dovecot.ca_file(),
        ..Default::default()
    };
    assert_eq!(service::scan_mailbox(k, &starttls).await.unwrap(), MailboxReport::default());

    // Without the county's CA the self-signed certificate is not trusted.
    let untrusted = MailboxConfig { ca_file: String::new(), ..tls };
    let e = service::scan_mailbox(k, &untrusted).await.unwrap_err().to_string();
    assert!(e.contains("TLS handshake") && e.contains("certificate"), "{e}");

    let wrong = MailboxConfig {
        url: Secret::new(format!("imap://{USER}:falsch@127.0.0.1:{}/INBOX", dovecot.imap)),
        ..Default::default()
    };
    let e = service::scan_mailbox(k, &wrong).await.unwrap_err().to_string();
    assert!(e.contains("login as rechnungseingang@kreis-auenthal.example") && !e.contains("falsch"), "{e}");
}

#[tokio::test]
async fn the_mailbox_job_runs_on_the_jobs_runner_also_on_a_server_without_move() {
    let s = setup().await;
    // Without MOVE (RFC 6851) a message is copied, flagged deleted and expunged by its UID.
    let dovecot = start_dovecot("imap_capability = IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE UIDPLUS").await;
    let invoice = suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG);
    dovecot.deliver(&[message("a@b.example", "", "R", &[("r.xml", "text/xml", invoice.as_bytes())])]).await;
    // A message a person flagged deleted is left alone.
    let mut session = dovecot.session().await;
    session.append("INBOX", Some("(\\Deleted)"), None, message("c@d.example", "", "Alt", &[])).await.unwrap();
    session.logout().await.unwrap();
    let cfg = invoicing::jobs::InvoicingConfig { mailbox_url: dovecot.plain().url, ..Default::default() };
    let mut runner = kernel::jobs::Runner::default();
    invoicing::jobs::register(&mut runner, &cfg);
    invoicing::jobs::enqueue_periodic(&s.app.kernel, &cfg).await.unwrap();
    while !matches!(runner.run_next(&s.app.kernel, "node-a").await.unwrap(), kernel::jobs::Ran::Nothing) {}
    assert_eq!(dovecot.count(FOLDER_DONE).await, 1);
    assert_eq!(dovecot.count("INBOX").await, 1);
    assert_eq!(dovecot.count(FOLDER_REFUSED).await, 0);
    let county = s.app.tenant_id("kreis").await;
    assert_eq!(invoicing::store::list(&s.app.kernel.db, county, None, None, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_folders_are_named_as_the_server_wants_them() {
    let s = setup().await;
    // Courier and older Cyrus keep every folder below the inbox: `INBOX.Erledigt`.
    let dovecot = start_dovecot("namespace inbox {\n  inbox = yes\n  prefix = INBOX.\n  separator = .\n}").await;
    let invoice = suite_invoice("01.01a-INVOICE_ubl.xml", KREIS_LEITWEG);
    let mail = [message("a@b.example", "", "R", &[("r.xml", "application/xml", invoice.as_bytes())])];
    dovecot.deliver(&mail).await;
    // With the default names the server refuses to create the folder, and the message stays.
    let e = service::scan_mailbox(&s.app.kernel, &dovecot.plain()).await.unwrap_err().to_string();
    assert!(e.contains("create Erledigt"), "{e}");
    assert_eq!(dovecot.count("INBOX").await, 1);
    let below_inbox = MailboxConfig {
        done_folder: "INBOX.Erledigt".into(),
        refused_folder: "INBOX.Abgewiesen".into(),
        ..dovecot.plain()
    };
    let report = service::scan_mailbox(&s.app.kernel, &below_inbox).await.unwrap();
    assert_eq!(report, MailboxReport { messages: 1, received: 0, refused: 0, known: 1 });
    assert_eq!(dovecot.count("INBOX.Erledigt").await, 1);
    assert_eq!(dovecot.count("INBOX").await, 0);
}
