//! Secrets that must be read back (the TOTP secret) sealed at rest with AES-256-GCM (`ring`)
//! under the configured `identity.secret_key`. Stored as `v1:<nonce hex><ciphertext+tag hex>`;
//! a value without the prefix is a secret stored in clear (before a key was configured, or
//! without one) and is read as it is.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

const PREFIX: &str = "v1:";
/// Binds the ciphertext to its use: a sealed TOTP secret cannot pass for another sealed value.
const AAD: &[u8] = b"kreishaus citizen totp secret";

/// Reads the configured key: 64 hex digits (32 bytes), or empty for none.
pub fn parse_key(hex: &str) -> Result<Option<LessSafeKey>, String> {
    if hex.is_empty() {
        return Ok(None);
    }
    let bytes = decode_hex(hex).filter(|b| b.len() == 32).ok_or_else(|| {
        "identity.secret_key must be 64 hex digits (32 random bytes, e.g. `openssl rand -hex 32`)".to_owned()
    })?;
    let key = UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| "identity.secret_key is unusable".to_owned())?;
    Ok(Some(LessSafeKey::new(key)))
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

/// Seals `plain` with a fresh random nonce; without a key it stays as it is.
pub fn seal(key: Option<&LessSafeKey>, plain: &str) -> String {
    let Some(key) = key else { return plain.to_owned() };
    let mut nonce = [0u8; NONCE_LEN];
    // The OS random source failing is not recoverable; better to stop than to reuse a nonce.
    getrandom::fill(&mut nonce).expect("operating system random source");
    let mut data = plain.as_bytes().to_vec();
    // Sealing in place only fails for inputs beyond AES-GCM's limit (64 GiB).
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(AAD), &mut data)
        .expect("a TOTP secret is far below the AES-GCM input limit");
    format!("{PREFIX}{}{}", kernel::hex(&nonce), kernel::hex(&data))
}

/// Opens a stored value: a sealed one with the key (None when the key is missing or wrong, or
/// the value was altered), a clear one as it is.
pub fn open(key: Option<&LessSafeKey>, stored: &str) -> Option<String> {
    let Some(sealed) = stored.strip_prefix(PREFIX) else { return Some(stored.to_owned()) };
    let bytes = decode_hex(sealed)?;
    if bytes.len() < NONCE_LEN {
        return None;
    }
    let (nonce, data) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut data = data.to_vec();
    let plain = key?.open_in_place(nonce, Aad::from(AAD), &mut data).ok()?;
    String::from_utf8(plain.to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn a_sealed_secret_opens_with_the_key_only_and_never_shows_in_clear() {
        let key = parse_key(KEY).expect("key").expect("some");
        let stored = seal(Some(&key), "JBSWY3DPEHPK3PXP");
        assert!(stored.starts_with("v1:") && !stored.contains("JBSWY3DPEHPK3PXP"));
        assert_ne!(stored, seal(Some(&key), "JBSWY3DPEHPK3PXP"), "a fresh nonce each time");
        assert_eq!(open(Some(&key), &stored).as_deref(), Some("JBSWY3DPEHPK3PXP"));
        let other = parse_key(&KEY.replace("00", "ff")).expect("key").expect("some");
        assert_eq!(open(Some(&other), &stored), None);
        assert_eq!(open(None, &stored), None);
        let mut altered = stored.clone();
        altered.replace_range(stored.len() - 2.., "00");
        assert_eq!(open(Some(&key), &altered), None);
    }

    #[test]
    fn without_a_key_secrets_stay_clear_and_clear_ones_are_read_as_they_are() {
        assert_eq!(seal(None, "ABC"), "ABC");
        let key = parse_key(KEY).expect("key").expect("some");
        assert_eq!(open(Some(&key), "JBSWY3DPEHPK3PXP").as_deref(), Some("JBSWY3DPEHPK3PXP"));
    }

    #[test]
    fn a_malformed_key_is_refused_with_how_to_make_one() {
        assert!(parse_key("").expect("empty is none").is_none());
        assert!(parse_key("abc").expect_err("short").contains("64 hex digits"));
        assert!(parse_key(&"zz".repeat(32)).is_err());
    }
}
