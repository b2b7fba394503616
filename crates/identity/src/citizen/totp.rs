//! Time-based one-time passwords (RFC 6238 on RFC 4226 HOTP, HMAC-SHA-1, 6 digits, 30-second
//! steps) as authenticator apps compute them, and the base32 of their secrets (RFC 4648).

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// The length of a step in seconds.
pub const STEP_SECS: i64 = 30;
const DIGITS: u32 = 6;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Base32 without padding, as authenticator apps expect secrets.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Reads base32, ignoring case, spaces and padding; None for any other character.
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in s.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = BASE32.iter().position(|&b| b as char == c.to_ascii_uppercase())? as u32;
        buffer = ((buffer << 5) | v) & 0xFFFF;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// A fresh 160-bit secret, in base32.
pub fn new_secret() -> String {
    let token = kernel::random_token();
    let bytes: Vec<u8> = (0..20).filter_map(|i| u8::from_str_radix(token.get(i * 2..i * 2 + 2)?, 16).ok()).collect();
    base32_encode(&bytes)
}

/// The HOTP value of `counter` (RFC 4226), with `digits` digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(secret) else { return 0 };
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let code = u32::from_be_bytes([hash[offset] & 0x7f, hash[offset + 1], hash[offset + 2], hash[offset + 3]]);
    code % 10u32.pow(digits)
}

/// The step a time (seconds since the epoch) falls in.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The 6-digit code of one step, zero-padded.
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    format!("{:06}", hotp(secret, step as u64, DIGITS))
}

/// Checks a typed code against the steps around `unix_secs` (one step either way, for clocks
/// that drift) and returns the step it matched. A step at or before `last_used` is refused,
/// so a code cannot be used twice.
pub fn verify(secret_b32: &str, code: &str, unix_secs: i64, last_used: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secret = base32_decode(secret_b32)?;
    let now = step_of(unix_secs);
    [now - 1, now, now + 1].into_iter().filter(|s| last_used.is_none_or(|l| *s > l)).find(|s| {
        let expected = code_at_step(&secret, *s);
        expected.bytes().zip(code.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    })
}

/// The `otpauth://` address an authenticator app reads (typed in, or from a QR code).
pub fn provisioning_uri(secret_b32: &str, account: &str, issuer: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SHA-1 test vectors of RFC 6238, appendix B (8 digits).
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (t, expected) in [
            (59, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(secret, step_of(t) as u64, 8), expected, "t = {t}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_way_and_never_twice() {
        let secret = base32_encode(b"12345678901234567890");
        assert_eq!(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let code = code_at_step(b"12345678901234567890", step_of(1_000_000));
        assert_eq!(verify(&secret, &code, 1_000_000, None), Some(step_of(1_000_000)));
        assert!(verify(&secret, &code, 1_000_000 + 30, None).is_some());
        assert!(verify(&secret, &code, 1_000_000 + 90, None).is_none());
        assert!(verify(&secret, &code, 1_000_000, Some(step_of(1_000_000))).is_none());
        assert!(verify(&secret, "12a456", 1_000_000, None).is_none());
    }

    proptest::proptest! {
        #[test]
        fn base32_round_trips(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            proptest::prop_assert_eq!(base32_decode(&base32_encode(&bytes)), Some(bytes));
        }

        #[test]
        fn any_input_is_checked_without_panicking(secret in "\\PC{0,40}", code in "\\PC{0,10}") {
            let _ = verify(&secret, &code, 1_700_000_000, None);
        }
    }
}
