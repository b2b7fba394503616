//! Nothing lost: the server process is killed (SIGKILL) while applications stream in; after a
//! restart every acknowledged application is there, complete with its file.

use std::time::Duration;

use server::bench;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::start_node;

/// Sends application `n`; its tracking id when the server acknowledged it (201).
async fn send(addr: &str, n: u64, tail: &str) -> Option<String> {
    let body = bench::application(n, tail);
    let request = format!(
        "POST /api/v1/forms/bench/submissions?tenant=kreis HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nAccept: application/json\r\nIdempotency-Key: kill-{n}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.ok()?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.1 201") {
        return None;
    }
    let receipt: serde_json::Value = serde_json::from_str(body).ok()?;
    receipt["tracking_id"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn a_killed_server_keeps_every_acknowledged_application_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    // The demo county and the benchmark's form (ten fields and a PDF), published.
    let mut config = server::config::Config::default();
    config.server.data_dir = dir.path().to_path_buf();
    {
        let kernel = server::app::open(&config, kernel::Clock::System).await.unwrap();
        server::demo::load(&kernel).await.unwrap();
        let (_, proof) = server::demo::county_forms_editor(&kernel).await.unwrap();
        forms::service::save_draft(&kernel, &proof, bench::FORM).await.unwrap();
        forms::service::publish(&kernel, &proof, "bench").await.unwrap();
        kernel.db.close().await;
    }
    let args = ["serve", "--listen", "127.0.0.1:0", "--data-dir", &data];
    let (mut child, addr, _, _) = start_node(&args, &[]).await;

    // Eight clients stream applications; the server is killed in the middle.
    let tail = std::sync::Arc::new(bench::pdf_tail_base64());
    let mut clients = Vec::new();
    for c in 0..8u64 {
        let (addr, tail) = (addr.clone(), tail.clone());
        clients.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0.. {
                match send(&addr, c * 1_000_000 + i, &tail).await {
                    Some(tracking_id) => acknowledged.push(tracking_id),
                    None if i > 0 => break,
                    None => {}
                }
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let mut acknowledged = Vec::new();
    for c in clients {
        acknowledged.extend(c.await.unwrap());
    }
    assert!(acknowledged.len() >= 8, "too few applications before the kill: {}", acknowledged.len());

    // Restarted on the same data, every acknowledged application is there with its PDF.
    let (_again, addr, _, _) = start_node(&args, &[]).await;
    let kernel = server::app::open(&config, kernel::Clock::System).await.unwrap();
    for tracking_id in &acknowledged {
        let row = kernel
            .db
            .fetch_optional(
                kernel::query(
                    "SELECT f.blob_sha256 FROM submissions s JOIN submission_files f ON f.submission_id = s.id \
                     WHERE s.tracking_id = $1",
                )
                .bind(tracking_id.as_str()),
            )
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged application {tracking_id} is missing after the restart"));
        let hash = kernel::blobs::BlobHash::parse(&row.get::<String>("blob_sha256").unwrap()).unwrap();
        let pdf = kernel.blobs.get(&hash).await.unwrap();
        assert!(pdf.starts_with(b"%PDF-1.4") && pdf.len() > 100_000, "{tracking_id}: its file is incomplete");
    }
    let status = crate::scale_out::http(&addr, "GET", "/healthz", "", "").await;
    assert_eq!(status.0, 200);
}
