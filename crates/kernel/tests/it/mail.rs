//! The mail outbox against a real SMTP server: testkit's Python `aiosmtpd` sink.

use kernel::jobs::{JobStatus, Ran, Runner};
use kernel::mail::{self, Mail, MailConfig};
use kernel::{JobId, Secret};
use testkit::SmtpSink;

use crate::{Setup, free_port, setup};

const FROM: &str = "Kreis Auenthal <noreply@kreis-auenthal.example>";

fn config(smtp_url: String) -> MailConfig {
    MailConfig { smtp_url: Secret::new(smtp_url), from: FROM.into() }
}

fn notice() -> Mail {
    Mail {
        to: "buerger@example.org".into(),
        subject: "Ihr Antrag ist eingegangen".into(),
        body: "Guten Tag,\n\nIhr Antrag auf Wohngeld ist am 22.11.2026 eingegangen.\n\nKreis Auenthal\n".into(),
    }
}

/// Puts a mail into the outbox in a transaction, as a service would.
async fn enqueue(s: &Setup, mail: &Mail) -> JobId {
    let mut tx = s.db().begin().await.expect("begin");
    let id = mail::enqueue(&mut tx, s.clock().now(), None, mail, None).await.expect("enqueue").expect("a new job");
    tx.commit().await.expect("commit");
    id
}

/// Enqueues the notice and runs the outbox once with the given configuration.
async fn send_notice(s: &Setup, cfg: &MailConfig) -> (JobId, Ran) {
    let id = enqueue(s, &notice()).await;
    let mut runner = Runner::default();
    mail::register(&mut runner, cfg).expect("valid mail config");
    let ran = runner.run_next(&s.kernel, "worker-1").await.expect("run_next");
    (id, ran)
}

#[tokio::test]
async fn an_enqueued_mail_is_delivered_over_smtp_with_its_job_message_id() {
    let sink = SmtpSink::start().await;
    let s = setup().await;

    let (id, ran) = send_notice(&s, &config(sink.url())).await;

    assert_eq!(ran, Ran::Done(id));
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let m = &messages[0];
    for expected in [
        "X-Envelope-From: noreply@kreis-auenthal.example",
        "X-Envelope-To: buerger@example.org",
        "To: buerger@example.org",
        "Subject: Ihr Antrag ist eingegangen",
        "Ihr Antrag auf Wohngeld ist am 22.11.2026 eingegangen.",
        &format!("Message-ID: <job-{id}@kreishaus>"),
        "Auto-Submitted: auto-generated",
    ] {
        assert!(m.contains(expected), "message lacks {expected:?}:\n{m}");
    }
    assert!(m.contains("Kreis Auenthal") && m.contains("<noreply@kreis-auenthal.example>"), "sender:\n{m}");
    let j = kernel::jobs::get(s.db(), id).await.expect("get").expect("job");
    assert_eq!(j.status, JobStatus::Done);
}

#[tokio::test]
async fn a_mail_is_kept_for_another_attempt_when_the_smtp_server_is_unreachable() {
    let s = setup().await;
    let closed = free_port();

    let (id, ran) = send_notice(&s, &config(format!("smtp://127.0.0.1:{closed}"))).await;

    assert_eq!(ran, Ran::Failed(id, JobStatus::Queued));
    let j = kernel::jobs::get(s.db(), id).await.expect("get").expect("the mail is not lost");
    assert_eq!((j.status, j.attempts), (JobStatus::Queued, 1));
    assert!(j.last_error.as_deref().is_some_and(|e| !e.is_empty()), "{:?}", j.last_error);
    assert_eq!(j.run_at, s.clock().now().plus_secs(10));
}

#[tokio::test]
async fn a_mail_fails_permanently_with_a_note_when_smtp_is_not_configured() {
    let s = setup().await;

    let (id, ran) = send_notice(&s, &config(String::new())).await;

    assert_eq!(ran, Ran::Failed(id, JobStatus::Failed));
    let j = kernel::jobs::get(s.db(), id).await.expect("get").expect("job");
    assert_eq!((j.status, j.attempts), (JobStatus::Failed, 1));
    assert!(j.last_error.as_deref().is_some_and(|e| e.contains("SMTP")), "{:?}", j.last_error);
}

#[tokio::test]
async fn a_malformed_smtp_url_or_sender_is_refused_when_the_sender_is_registered() {
    let mut runner = Runner::default();
    let bad_url = mail::register(&mut runner, &config("ftp://mail.example".into()));
    assert!(bad_url.is_err_and(|e| e.contains("mail.smtp_url")));
    let bad_from = MailConfig { from: "not an address".into(), ..config("smtp://127.0.0.1:25".into()) };
    assert!(mail::register(&mut runner, &bad_from).is_err_and(|e| e.contains("mail.from")));
}
