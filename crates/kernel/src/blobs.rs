//! The object store for files (uploads, scans, generated PDFs).
//!
//! Objects are addressed by the SHA-256 of their content and written with "create only", so
//! nothing is ever overwritten: storing the same bytes twice is a no-op, and a new version of a
//! document is a new object. The store is a folder under the data dir by default and any
//! S3-compatible service by configuration. Reads check the hash, so a damaged object is found.

use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::{AmazonS3Builder, S3ConditionalPut};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// Where objects are kept. `[storage]` in the config file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// `filesystem` (under the data dir) or `s3`.
    pub backend: Backend,
    /// For `s3`: the bucket, which must exist.
    pub bucket: String,
    /// For `s3`: the endpoint URL of an S3-compatible service; empty for AWS itself.
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
    /// For `s3`: allow an `http://` endpoint (a service on the same host or network).
    pub allow_http: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    #[default]
    Filesystem,
    S3,
}

/// The SHA-256 of an object's content, as 64 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlobHash(String);

impl BlobHash {
    pub fn of(data: &[u8]) -> Self {
        BlobHash(crate::hex(&Sha256::digest(data)))
    }

    /// Accepts only a well-formed hash, so a hash from outside cannot name another path.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
            .then(|| BlobHash(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn path(&self) -> Path {
        Path::from(format!("sha256/{}/{}/{}", &self.0[..2], &self.0[2..4], self.0))
    }
}

#[derive(Debug)]
pub enum BlobError {
    NotFound,
    /// The stored bytes do not match their address: the object was damaged.
    Corrupt,
    Store(object_store::Error),
}

impl std::fmt::Display for BlobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobError::NotFound => f.write_str("object not found"),
            BlobError::Corrupt => f.write_str("object content does not match its hash"),
            BlobError::Store(e) => write!(f, "object store: {e}"),
        }
    }
}

impl std::error::Error for BlobError {}

/// A handle on the object store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
}

impl BlobStore {
    /// Opens the configured store; `data_dir/objects` for the filesystem backend.
    pub fn open(cfg: &StorageConfig, data_dir: &std::path::Path) -> Result<Self, BlobError> {
        let inner: Arc<dyn ObjectStore> = match cfg.backend {
            Backend::Filesystem => {
                let dir = data_dir.join("objects");
                std::fs::create_dir_all(&dir).map_err(|e| {
                    BlobError::Store(object_store::Error::Generic { store: "filesystem", source: Box::new(e) })
                })?;
                Arc::new(LocalFileSystem::new_with_prefix(dir).map_err(BlobError::Store)?)
            }
            Backend::S3 => {
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(&cfg.bucket)
                    .with_region(if cfg.region.is_empty() { "eu-central-1" } else { &cfg.region })
                    .with_access_key_id(&cfg.access_key_id)
                    .with_secret_access_key(cfg.secret_access_key.expose())
                    .with_allow_http(cfg.allow_http)
                    .with_conditional_put(S3ConditionalPut::ETagMatch);
                if !cfg.endpoint.is_empty() {
                    b = b.with_endpoint(&cfg.endpoint).with_virtual_hosted_style_request(false);
                }
                Arc::new(b.build().map_err(BlobError::Store)?)
            }
        };
        Ok(BlobStore { inner })
    }

    /// Stores the bytes and returns their address. Storing existing content changes nothing.
    pub async fn put(&self, data: Bytes) -> Result<BlobHash, BlobError> {
        let hash = BlobHash::of(&data);
        let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
        match self.inner.put_opts(&hash.path(), PutPayload::from_bytes(data), opts).await {
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(hash),
            Err(e) => Err(BlobError::Store(e)),
        }
    }

    /// Reads an object and checks that it still has the content its address names.
    pub async fn get(&self, hash: &BlobHash) -> Result<Bytes, BlobError> {
        let data = match self.inner.get(&hash.path()).await {
            Ok(r) => r.bytes().await.map_err(BlobError::Store)?,
            Err(object_store::Error::NotFound { .. }) => return Err(BlobError::NotFound),
            Err(e) => return Err(BlobError::Store(e)),
        };
        if BlobHash::of(&data) != *hash {
            return Err(BlobError::Corrupt);
        }
        Ok(data)
    }

    pub async fn exists(&self, hash: &BlobHash) -> Result<bool, BlobError> {
        match self.inner.head(&hash.path()).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(BlobError::Store(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_hashes_are_accepted_from_outside() {
        let h = BlobHash::of(b"Bescheid");
        assert!(BlobHash::parse(h.as_str()).is_some());
        assert!(BlobHash::parse("../../etc/passwd").is_none());
        assert!(BlobHash::parse(&h.as_str().to_uppercase()).is_none());
    }

    proptest::proptest! {
        #[test]
        fn only_64_lowercase_hex_digits_pass_as_a_hash(s in "\\PC{0,80}") {
            let ok = s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            proptest::prop_assert_eq!(BlobHash::parse(&s).is_some(), ok);
        }

        #[test]
        fn every_content_hash_is_accepted_back(data in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let h = BlobHash::of(&data);
            proptest::prop_assert_eq!(BlobHash::parse(h.as_str()), Some(h));
        }
    }
}
