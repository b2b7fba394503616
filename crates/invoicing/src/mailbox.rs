//! The invoice mailbox (E-Mail-Eingang): an IMAP client for the county's invoice address
//! (e.g. `rechnungseingang@kreis.de`), and the reading of one message into the invoice files it
//! carries. The use case that takes them in is `service::scan_mailbox`.
//!
//! A message is never deleted: once handled it is moved out of the watched folder into
//! `Erledigt` or `Abgewiesen` (configurable), so the mailbox itself shows what happened, and a
//! message whose handling broke off is simply handled again (intake is idempotent by hash).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use futures_util::TryStreamExt;
use kernel::Secret;
use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// Where handled messages go by default: every file in them taken in.
pub const FOLDER_DONE: &str = "Erledigt";
/// Where handled messages go by default: something in them refused or rejected (the sender got
/// an answer).
pub const FOLDER_REFUSED: &str = "Abgewiesen";
/// How long one IMAP exchange (connect, login, a command and its answer) may take.
const TIMEOUT: Duration = Duration::from_secs(60);
/// How deep forwarded messages (`message/rfc822`) inside a message are searched for invoices.
const MAX_FORWARD_DEPTH: usize = 4;

/// Where the mailbox is and how to log in.
#[derive(Clone, Debug)]
pub struct MailboxConfig {
    /// `imaps://user:password@host[:993][/FOLDER]` (TLS), `imap://…?tls=required` (STARTTLS),
    /// or `imap://…` (no encryption: only for a server on the same machine). User and
    /// password are percent-encoded; the folder defaults to `INBOX`.
    pub url: Secret,
    /// PEM file of further root certificates (a county's own CA), besides the public ones.
    pub ca_file: String,
    /// The folders handled messages are moved to, as the server names them (a server whose
    /// folders all live below the inbox wants e.g. `INBOX.Erledigt`).
    pub done_folder: String,
    pub refused_folder: String,
}

impl Default for MailboxConfig {
    fn default() -> Self {
        MailboxConfig {
            url: Secret::default(),
            ca_file: String::new(),
            done_folder: FOLDER_DONE.into(),
            refused_folder: FOLDER_REFUSED.into(),
        }
    }
}

/// A failure to reach or use the mailbox, with the reason (never the password).
#[derive(Debug)]
pub struct MailboxError(pub String);

impl std::fmt::Display for MailboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invoice mailbox: {}", self.0)
    }
}

fn error(what: &str, e: impl std::fmt::Display) -> MailboxError {
    MailboxError(format!("{what}: {e}"))
}

/// How the connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Security {
    Tls,
    StartTls,
    None,
}

/// The parts of [`MailboxConfig::url`].
#[derive(Debug, PartialEq, Eq)]
struct Address {
    host: String,
    port: u16,
    security: Security,
    user: String,
    password: String,
    folder: String,
}

/// A percent-encoded part of the URL, decoded.
fn decoded(part: &str) -> Result<String, MailboxError> {
    percent_encoding::percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| MailboxError("the mailbox URL has a user, password or folder that is not UTF-8".into()))
}

impl Address {
    fn parse(url: &str) -> Result<Address, MailboxError> {
        // The URL holds the password: errors name the part, never echo the URL.
        let parsed = url::Url::parse(url).map_err(|e| error("the mailbox URL is not a valid URL", e))?;
        let tls_required = parsed.query_pairs().any(|(k, v)| k == "tls" && v == "required");
        let (security, default_port) = match (parsed.scheme(), tls_required) {
            ("imaps", _) => (Security::Tls, 993),
            ("imap", true) => (Security::StartTls, 143),
            ("imap", false) => (Security::None, 143),
            (other, _) => {
                return Err(MailboxError(format!(
                    "the mailbox URL must start with imaps:// or imap://, not {other}://"
                )));
            }
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| MailboxError("the mailbox URL names no host".into()))?;
        let user = decoded(parsed.username())?;
        if user.is_empty() {
            return Err(MailboxError("the mailbox URL names no user".into()));
        }
        let folder = decoded(parsed.path().trim_start_matches('/'))?;
        Ok(Address {
            host: host.trim_start_matches('[').trim_end_matches(']').to_owned(),
            port: parsed.port().unwrap_or(default_port),
            security,
            user,
            password: decoded(parsed.password().unwrap_or_default())?,
            folder: if folder.is_empty() { "INBOX".to_owned() } else { folder },
        })
    }
}

/// The byte stream under the IMAP session: plain TCP or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

/// A logged-in session on the watched folder.
pub struct Mailbox {
    session: Session<Box<dyn Io>>,
    /// `UID MOVE` (RFC 6851) is offered; else copy, flag deleted and expunge.
    can_move: bool,
    /// The folders known to exist.
    folders: HashSet<String>,
}

/// One message as fetched.
pub enum Fetched {
    Message(Vec<u8>),
    /// Larger than the limit: only its header was fetched (to answer the sender).
    TooLarge {
        size: u64,
        header: Vec<u8>,
    },
    /// No longer there (a scan running at the same time took it).
    Gone,
}

async fn within<T, E: std::fmt::Display>(what: &str, f: impl Future<Output = Result<T, E>>) -> Result<T, MailboxError> {
    match tokio::time::timeout(TIMEOUT, f).await {
        Ok(result) => result.map_err(|e| error(what, e)),
        Err(_) => Err(MailboxError(format!("{what}: no answer within {} s", TIMEOUT.as_secs()))),
    }
}

fn tls_connector(ca_file: &str) -> Result<TlsConnector, MailboxError> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if !ca_file.is_empty() {
        for cert in CertificateDer::pem_file_iter(ca_file).map_err(|e| error(&format!("CA file {ca_file}"), e))? {
            let cert = cert.map_err(|e| error(&format!("CA file {ca_file}"), e))?;
            roots.add(cert).map_err(|e| error(&format!("CA file {ca_file}"), e))?;
        }
    }
    // Explicitly ring: the process links two crypto providers, so there is no default one.
    let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| error("TLS", e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

async fn secure(stream: TcpStream, address: &Address, ca_file: &str) -> Result<Box<dyn Io>, MailboxError> {
    let name = ServerName::try_from(address.host.clone()).map_err(|e| error("host name", e))?;
    let tls = within("TLS handshake", tls_connector(ca_file)?.connect(name, stream)).await?;
    Ok(Box::new(tls))
}

impl Mailbox {
    /// Connects, secures the connection as the URL says, logs in and selects the folder.
    pub async fn open(cfg: &MailboxConfig) -> Result<Mailbox, MailboxError> {
        let address = Address::parse(cfg.url.expose())?;
        let tcp = within("connect", TcpStream::connect((address.host.as_str(), address.port))).await?;
        let stream: Box<dyn Io> = match address.security {
            Security::Tls => secure(tcp, &address, &cfg.ca_file).await?,
            Security::None => Box::new(tcp),
            Security::StartTls => {
                let mut client = async_imap::Client::new(tcp);
                within("greeting", client.read_response()).await?;
                within("STARTTLS", client.run_command_and_check_ok("STARTTLS", None)).await?;
                secure(client.into_inner(), &address, &cfg.ca_file).await?
            }
        };
        let mut client = async_imap::Client::new(stream);
        if address.security != Security::StartTls {
            within("greeting", client.read_response()).await?;
        }
        let login = tokio::time::timeout(TIMEOUT, client.login(&address.user, &address.password)).await;
        let mut session = match login {
            Ok(Ok(session)) => session,
            Ok(Err((e, _))) => return Err(error(&format!("login as {}", address.user), e)),
            Err(_) => return Err(MailboxError("login: no answer".into())),
        };
        let capabilities = within("CAPABILITY", session.capabilities()).await?;
        within(&format!("select {}", address.folder), session.select(&address.folder)).await?;
        Ok(Mailbox { can_move: capabilities.has_str("MOVE"), session, folders: HashSet::new() })
    }

    /// The UIDs of the messages in the folder (but those a person flagged deleted), oldest
    /// first, at most `limit`.
    pub async fn waiting(&mut self, limit: usize) -> Result<Vec<u32>, MailboxError> {
        let mut uids: Vec<u32> = within("search", self.session.uid_search("UNDELETED")).await?.into_iter().collect();
        uids.sort_unstable();
        uids.truncate(limit);
        Ok(uids)
    }

    /// The message with this UID, unless it is larger than `limit` bytes. Fetched with PEEK:
    /// fetching marks nothing.
    pub async fn fetch(&mut self, uid: u32, limit: u64) -> Result<Fetched, MailboxError> {
        let Some(size) = self.fetch_one(uid, "RFC822.SIZE").await?.and_then(|f| f.size) else {
            return Ok(Fetched::Gone);
        };
        let too_large = u64::from(size) > limit;
        let query = if too_large { "BODY.PEEK[HEADER]" } else { "BODY.PEEK[]" };
        let Some(fetched) = self.fetch_one(uid, query).await? else { return Ok(Fetched::Gone) };
        let bytes = if too_large { fetched.header() } else { fetched.body() }.unwrap_or_default().to_vec();
        Ok(if too_large { Fetched::TooLarge { size: size.into(), header: bytes } } else { Fetched::Message(bytes) })
    }

    async fn fetch_one(&mut self, uid: u32, query: &str) -> Result<Option<async_imap::types::Fetch>, MailboxError> {
        let fetches = within("fetch", async {
            let stream = self.session.uid_fetch(uid.to_string(), query).await?;
            stream.try_collect::<Vec<_>>().await
        })
        .await?;
        Ok(fetches.into_iter().find(|f| f.uid == Some(uid)))
    }

    /// Moves the message into `folder`, creating the folder the first time.
    pub async fn file(&mut self, uid: u32, folder: &str) -> Result<(), MailboxError> {
        if !self.folders.contains(folder) {
            let exists = within("list", async {
                let stream = self.session.list(None, Some(folder)).await?;
                stream.try_collect::<Vec<_>>().await
            })
            .await?
            .iter()
            .any(|name| name.name() == folder);
            if !exists {
                within(&format!("create {folder}"), self.session.create(folder)).await?;
            }
            self.folders.insert(folder.to_owned());
        }
        let uid = uid.to_string();
        if self.can_move {
            return within(&format!("move to {folder}"), self.session.uid_mv(&uid, folder)).await;
        }
        within(&format!("copy to {folder}"), self.session.uid_copy(&uid, folder)).await?;
        within("flag deleted", async {
            let stream = self.session.uid_store(&uid, "+FLAGS.SILENT (\\Deleted)").await?;
            stream.try_collect::<Vec<_>>().await
        })
        .await?;
        within("expunge", async {
            let stream = self.session.uid_expunge(&uid).await?;
            stream.try_collect::<Vec<_>>().await
        })
        .await?;
        Ok(())
    }

    pub async fn logout(mut self) -> Result<(), MailboxError> {
        within("logout", self.session.logout()).await
    }
}

/// One file a message carries that may be an invoice.
#[derive(Debug)]
pub struct InvoiceFile {
    /// The attachment's file name, or `Rechnung.xml` / `Rechnung.pdf` when it has none.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What the intake needs of one message.
#[derive(Debug)]
pub struct Letter {
    /// Whom to answer: Reply-To, else From (lower case); none when neither has an address.
    pub reply_to: Option<String>,
    /// The sender as shown to clerks (From's address).
    pub from: String,
    pub subject: String,
    /// Sent by a machine (an auto-reply, a bounce, a mailing list): never answered, so two
    /// robots cannot mail each other forever (RFC 3834).
    pub automatic: bool,
    /// XML and PDF files, from attachments and forwarded messages.
    pub files: Vec<InvoiceFile>,
}

impl Letter {
    /// Reads a message (RFC 5322 with MIME); `None` if it is no message at all.
    pub fn parse(raw: &[u8]) -> Option<Letter> {
        let message = MessageParser::default().parse(raw)?;
        let address = |a: Option<&mail_parser::Address<'_>>| {
            a.and_then(|a| a.first())
                .and_then(|a| a.address())
                .map(|a| a.trim().to_lowercase())
                .filter(|a| a.contains('@'))
        };
        let from = address(message.from());
        let mut files = Vec::new();
        collect_files(&message, 0, &mut files);
        let letter = Letter {
            reply_to: address(message.reply_to()).or_else(|| from.clone()),
            from: from.unwrap_or_default(),
            subject: message.subject().unwrap_or_default().trim().to_owned(),
            automatic: is_automatic(&message),
            files,
        };
        drop_flat(message);
        Some(letter)
    }
}

/// Drops a message without recursion. The parser reads nested messages (`message/rfc822`)
/// without recursion, but the message it returns holds them nested, and dropping that
/// recursively overflows the stack from some 100,000 levels, 3 MB of mail: each nested message
/// is taken out of its part first.
fn drop_flat(message: Message<'_>) {
    let mut pending = vec![message];
    while let Some(mut message) = pending.pop() {
        for part in &mut message.parts {
            if let PartType::Message(inner) = std::mem::take(&mut part.body) {
                pending.push(inner);
            }
        }
    }
}

/// RFC 3834 (`Auto-Submitted` other than `no`), bulk and list mail, and bounces (empty
/// return path, mailer daemons).
fn is_automatic(message: &Message<'_>) -> bool {
    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    let auto_submitted = header("Auto-Submitted").is_some_and(|v| v != "no");
    let bulk = header("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "list" | "junk"));
    let list = message.header_raw("List-Id").is_some();
    let bounce = header("Return-Path").is_some_and(|v| v == "<>")
        || message
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .is_some_and(|a| a.to_ascii_lowercase().starts_with("mailer-daemon@"));
    auto_submitted || bulk || list || bounce
}

/// The XML and PDF parts of `message` (by MIME type or file name), and those of the messages
/// forwarded in it.
fn collect_files(message: &Message<'_>, depth: usize, files: &mut Vec<InvoiceFile>) {
    for (index, part) in message.parts.iter().enumerate() {
        match &part.body {
            PartType::Message(inner) if depth < MAX_FORWARD_DEPTH => collect_files(inner, depth + 1, files),
            PartType::Message(_) | PartType::Multipart(_) => {}
            // The message's own text (index 0 of a single-part message) is a body, not a file,
            // unless it is XML.
            _ => {
                // The disposition's file name, else the type's `name` (older mail programs).
                let name = part.attachment_name().map(str::to_owned);
                let type_name = part.content_type().and_then(|c| c.attribute("name"));
                let kind = part
                    .content_type()
                    .map(|c| (c.ctype().to_ascii_lowercase(), c.subtype().unwrap_or_default().to_ascii_lowercase()));
                let extension =
                    invoice_extension(name.as_deref(), kind.as_ref()).or_else(|| invoice_extension(type_name, None));
                if let Some(extension) = extension {
                    let name = name.unwrap_or_else(|| format!("Rechnung-{index}.{extension}"));
                    files.push(InvoiceFile { name, bytes: part.contents().to_vec() });
                }
            }
        }
    }
}

/// `xml` or `pdf` when the part may be an invoice: by its MIME type, or by its file name when
/// the sender's program gave a generic type (`application/octet-stream`).
fn invoice_extension(name: Option<&str>, kind: Option<&(String, String)>) -> Option<&'static str> {
    let by_name = name.map(str::to_ascii_lowercase).and_then(|n| {
        if n.ends_with(".xml") {
            Some("xml")
        } else if n.ends_with(".pdf") {
            Some("pdf")
        } else {
            None
        }
    });
    let by_type = kind.and_then(|(ctype, subtype)| match (ctype.as_str(), subtype.as_str()) {
        ("application" | "text", "xml") => Some("xml"),
        ("application", s) if s.ends_with("+xml") => Some("xml"),
        ("application", "pdf") => Some("pdf"),
        _ => None,
    });
    by_type.or(by_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mailbox_url_says_host_security_user_password_and_folder() {
        let a = Address::parse("imaps://rechnung%40kreis.de:ge%2Fh%20eim+@mail.kreis.de/Rechnungen%2FEingang")
            .expect("reads");
        assert_eq!(
            a,
            Address {
                host: "mail.kreis.de".into(),
                port: 993,
                security: Security::Tls,
                user: "rechnung@kreis.de".into(),
                password: "ge/h eim+".into(),
                folder: "Rechnungen/Eingang".into(),
            }
        );
        let a = Address::parse("imap://u:p@127.0.0.1:1143?tls=required").expect("reads");
        assert_eq!((a.port, a.security, a.folder.as_str()), (1143, Security::StartTls, "INBOX"));
        assert_eq!(Address::parse("imap://u@[::1]").expect("reads").host, "::1");
        for bad in ["pop3://u:p@h", "imap://h", "no url", "imaps://u:p@/x"] {
            let e = Address::parse(bad).expect_err("refused").0;
            assert!(!e.contains(":p@"), "{e} shows the password");
        }
    }

    const INVOICE_MAIL: &str = "From: Buchhaltung <Buchhaltung@Baeckerei.example>\r\n\
        To: rechnungseingang@kreis.example\r\nSubject: Rechnung 4711\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
        --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAnbei unsere Rechnung.\r\n\
        --b\r\nContent-Type: application/octet-stream\r\n\
        Content-Disposition: attachment; filename=\"rechnung.XML\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
        PEludm9pY2UvPg==\r\n\
        --b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"logo.png\"\r\n\r\nPNG\r\n\
        --b--\r\n";

    #[test]
    fn a_message_gives_its_xml_and_pdf_attachments_and_whom_to_answer() {
        let letter = Letter::parse(INVOICE_MAIL.as_bytes()).expect("reads");
        assert_eq!(letter.from, "buchhaltung@baeckerei.example");
        assert_eq!(letter.reply_to.as_deref(), Some("buchhaltung@baeckerei.example"));
        assert_eq!(letter.subject, "Rechnung 4711");
        assert!(!letter.automatic);
        assert_eq!(letter.files.len(), 1);
        assert_eq!(letter.files[0].name, "rechnung.XML");
        assert_eq!(letter.files[0].bytes, b"<Invoice/>");
    }

    #[test]
    fn invoices_in_a_forwarded_message_are_found_and_reply_to_wins() {
        let forwarded = format!(
            "From: a@kreis.example\r\nReply-To: Kasse <kasse@baeckerei.example>\r\nSubject: WG: Rechnung\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
             --outer\r\nContent-Type: text/plain\r\n\r\nSiehe unten.\r\n\
             --outer\r\nContent-Type: message/rfc822\r\n\r\n{INVOICE_MAIL}\r\n--outer--\r\n"
        );
        let letter = Letter::parse(forwarded.as_bytes()).expect("reads");
        assert_eq!(letter.reply_to.as_deref(), Some("kasse@baeckerei.example"));
        assert_eq!(letter.files.len(), 1);
        assert_eq!(letter.files[0].bytes, b"<Invoice/>");
    }

    #[test]
    fn a_message_that_is_an_xml_body_is_one_file_and_a_plain_text_is_none() {
        let xml = "From: x@y.example\r\nSubject: R\r\nContent-Type: application/xml\r\n\r\n<Invoice/>\r\n";
        let letter = Letter::parse(xml.as_bytes()).expect("reads");
        assert_eq!(letter.files.len(), 1);
        assert_eq!(letter.files[0].name, "Rechnung-0.xml");
        let text = "From: x@y.example\r\nSubject: Frage\r\n\r\nWo ist meine Zahlung?\r\n";
        assert!(Letter::parse(text.as_bytes()).expect("reads").files.is_empty());
    }

    #[test]
    fn deeply_nested_messages_neither_overflow_the_stack_nor_hide_an_invoice_deep_down() {
        let level = "Content-Type: message/rfc822\r\n\r\n";
        let raw = level.repeat(300_000) + INVOICE_MAIL;
        let letter = Letter::parse(raw.as_bytes()).expect("reads");
        assert!(letter.files.is_empty(), "searched {MAX_FORWARD_DEPTH} levels deep only");
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_read_without_a_panic(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..2000)) {
            let _ = Letter::parse(&raw);
        }

        #[test]
        fn a_mutated_invoice_mail_is_read_without_a_panic(
            at in 0usize..800,
            byte in proptest::num::u8::ANY,
            cut in 0usize..800,
        ) {
            let mut raw = INVOICE_MAIL.as_bytes().to_vec();
            let at = at % raw.len();
            raw[at] = byte;
            raw.truncate(raw.len() - cut % raw.len());
            let _ = Letter::parse(&raw);
        }
    }

    #[test]
    fn machines_are_recognised_so_they_get_no_answer() {
        for header in [
            "Auto-Submitted: auto-replied",
            "Precedence: bulk",
            "List-Id: <x.y>",
            "Return-Path: <>",
            "From: MAILER-DAEMON@x.example",
        ] {
            let from = if header.starts_with("From:") { "" } else { "From: x@y.example\r\n" };
            let raw = format!("{header}\r\n{from}Subject: s\r\n\r\nText\r\n");
            assert!(Letter::parse(raw.as_bytes()).expect("reads").automatic, "{header}");
        }
        let human = "Auto-Submitted: no\r\nFrom: x@y.example\r\nSubject: s\r\n\r\nText\r\n";
        assert!(!Letter::parse(human.as_bytes()).expect("reads").automatic);
    }
}
