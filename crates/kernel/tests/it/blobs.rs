//! The content-addressed object store, on disk and on a real S3-compatible server.
//!
//! The S3 tests use the server at `KREISHAUS_TEST_S3_ENDPOINT` (an `http://` URL of a server
//! that, like moto, accepts the credentials `test`/`test` and unsigned requests for set-up),
//! or start moto themselves (`pip install 'moto[server]'`).

use std::process::Stdio;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kernel::Secret;
use kernel::blobs::{Backend, BlobError, BlobHash, BlobStore, StorageConfig};
use object_store::aws::AmazonS3Builder;
use object_store::{ObjectStoreExt, PutPayload};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::free_port;

/// The environment variable naming an S3-compatible server for the tests.
const S3_ENV: &str = "KREISHAUS_TEST_S3_ENDPOINT";

/// "abc" and its SHA-256 from FIPS 180-2, so the address is checked against an outside value.
const ABC: &[u8] = b"abc";
const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

/// A filesystem store in a temporary data dir.
fn filesystem_store() -> (BlobStore, TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = BlobStore::open(&StorageConfig::default(), dir.path()).expect("open filesystem store");
    (store, dir)
}

/// The object's path below the store's root: `sha256/ab/cd/<hash>`.
fn object_key(hash: &str) -> String {
    format!("sha256/{}/{}/{hash}", &hash[..2], &hash[2..4])
}

async fn assert_stored_bytes_come_back_under_their_sha256(store: &BlobStore) {
    let hash = store.put(Bytes::from_static(ABC)).await.expect("put");
    assert_eq!(hash.as_str(), ABC_SHA256);
    assert_eq!(store.get(&hash).await.expect("get"), Bytes::from_static(ABC));
    assert!(store.exists(&hash).await.expect("exists"));
}

async fn assert_storing_the_same_bytes_twice_is_harmless(store: &BlobStore) {
    let content = Bytes::from_static(b"Bescheid ueber Wohngeld, Aktenzeichen 42");
    let first = store.put(content.clone()).await.expect("first put");
    let second = store.put(content.clone()).await.expect("second put of the same bytes");
    assert_eq!(first, second);
    assert_eq!(store.get(&first).await.expect("get"), content);
}

async fn assert_an_unknown_hash_is_not_found(store: &BlobStore) {
    let unknown = BlobHash::of(b"never stored");
    assert!(!store.exists(&unknown).await.expect("exists"));
    let got = store.get(&unknown).await;
    assert!(matches!(got, Err(BlobError::NotFound)), "{got:?}");
}

#[tokio::test]
async fn stored_bytes_come_back_under_their_sha256() {
    let (store, _dir) = filesystem_store();
    assert_stored_bytes_come_back_under_their_sha256(&store).await;
}

#[tokio::test]
async fn storing_the_same_bytes_twice_yields_the_same_address() {
    let (store, _dir) = filesystem_store();
    assert_storing_the_same_bytes_twice_is_harmless(&store).await;
}

#[tokio::test]
async fn an_unknown_hash_is_not_found() {
    let (store, _dir) = filesystem_store();
    assert_an_unknown_hash_is_not_found(&store).await;
}

#[tokio::test]
async fn a_damaged_object_on_disk_is_reported_as_corrupt() {
    let (store, dir) = filesystem_store();
    let hash = store.put(Bytes::from_static(ABC)).await.expect("put");
    let file = dir.path().join("objects").join(object_key(hash.as_str()));
    assert_eq!(std::fs::read(&file).expect("the object's file"), ABC);

    std::fs::write(&file, b"abd").expect("damage the file");

    let got = store.get(&hash).await;
    assert!(matches!(got, Err(BlobError::Corrupt)), "{got:?}");
}

/// An S3-compatible server: the one named in the environment, or moto started for this test.
struct S3Server {
    endpoint: String,
    /// `host:port`, for the raw HTTP requests of the set-up.
    addr: String,
    _moto: Option<Child>,
}

impl S3Server {
    async fn start() -> S3Server {
        if let Some(endpoint) = std::env::var(S3_ENV).ok().filter(|e| !e.is_empty()) {
            let addr = endpoint
                .strip_prefix("http://")
                .unwrap_or_else(|| panic!("{S3_ENV} must be an http:// URL: {endpoint}"))
                .trim_end_matches('/')
                .to_owned();
            return S3Server { endpoint, addr, _moto: None };
        }
        let port = free_port();
        let moto = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start moto (pip install 'moto[server]') or set KREISHAUS_TEST_S3_ENDPOINT");
        let addr = format!("127.0.0.1:{port}");
        S3Server { endpoint: format!("http://{addr}"), addr, _moto: Some(moto) }
    }

    /// Creates a fresh bucket, waiting for the server to answer first, and opens a store on it.
    async fn store(&self) -> (BlobStore, String) {
        let bucket = format!("kh-test-{}", &kernel::random_token()[..12]);
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            match http(&self.addr, "PUT", &format!("/{bucket}"), b"").await {
                Ok(status) => break status,
                Err(e) if Instant::now() > deadline => panic!("no S3 server at {} after 60 s: {e}", self.endpoint),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        assert_eq!(status, 200, "create bucket {bucket}");
        let cfg = StorageConfig {
            backend: Backend::S3,
            bucket: bucket.clone(),
            endpoint: self.endpoint.clone(),
            region: "eu-central-1".into(),
            access_key_id: "test".into(),
            secret_access_key: Secret::new("test"),
            allow_http: true,
        };
        // The data dir is used by the filesystem backend only.
        let store = BlobStore::open(&cfg, std::path::Path::new("/nonexistent")).expect("open S3 store");
        (store, bucket)
    }
}

/// Sends a minimal HTTP/1.1 request and returns the response status.
async fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    status.ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {text:.200}")))
}

#[tokio::test]
async fn the_s3_backend_stores_and_returns_objects_by_their_sha256() {
    let server = S3Server::start().await;
    let (store, _bucket) = server.store().await;
    assert_stored_bytes_come_back_under_their_sha256(&store).await;
    assert_storing_the_same_bytes_twice_is_harmless(&store).await;
    assert_an_unknown_hash_is_not_found(&store).await;
}

#[tokio::test]
async fn a_damaged_object_in_s3_is_reported_as_corrupt() {
    let server = S3Server::start().await;
    let (store, bucket) = server.store().await;
    let hash = store.put(Bytes::from_static(ABC)).await.expect("put");

    // Overwritten behind the store's back: a plain signed PUT to the same key. (moto refuses
    // an unsigned overwrite of an existing object, so the raw HTTP helper cannot do this.)
    let raw = AmazonS3Builder::new()
        .with_bucket_name(&bucket)
        .with_region("eu-central-1")
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .with_allow_http(true)
        .with_endpoint(&server.endpoint)
        .with_virtual_hosted_style_request(false)
        .build()
        .expect("raw S3 client");
    let key = object_store::path::Path::from(object_key(hash.as_str()));
    raw.put(&key, PutPayload::from_static(b"abd")).await.expect("overwrite the object");

    let got = store.get(&hash).await;
    assert!(matches!(got, Err(BlobError::Corrupt)), "{got:?}");
}
