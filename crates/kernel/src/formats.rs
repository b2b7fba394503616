//! Checks of formats several domains take in: the IBAN (ISO 13616) and the media type of an
//! uploaded file told by its content, never by its name.

/// An identifier as people type it (`de89 3704 0044 …`) in its written form: upper case,
/// without white space (IBANs, VAT identification numbers).
pub fn compact(typed: &str) -> String {
    typed.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase()
}

/// ISO 13616: country, check digits, account; the rearranged number mod 97 is 1. German IBANs
/// have 22 characters.
pub fn is_iban(iban: &str) -> bool {
    if !(15..=34).contains(&iban.len()) || !iban.is_ascii() || (iban.starts_with("DE") && iban.len() != 22) {
        return false;
    }
    let (head, tail) = iban.split_at(4);
    if !head[..2].bytes().all(|b| b.is_ascii_uppercase()) || !head[2..].bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut rest: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let n = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return false,
        };
        rest = if n >= 10 { (rest * 100 + n) % 97 } else { (rest * 10 + n) % 97 };
    }
    rest == 1
}

/// The media type of uploaded bytes by their first bytes: PDF, PNG, JPEG or TIFF; None for
/// anything else.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [b'%', b'P', b'D', b'F', b'-', ..] => Some("application/pdf"),
        [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', ..] => Some("image/png"),
        [0xff, 0xd8, 0xff, ..] => Some("image/jpeg"),
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => Some("image/tiff"),
        _ => None,
    }
}

/// The usual file extension of a media type [`sniff`] tells, and of XML; `bin` for others.
pub fn extension(media_type: &str) -> &'static str {
    match media_type {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/tiff" => "tif",
        "application/xml" => "xml",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_are_checked_by_their_check_digits() {
        assert!(is_iban("DE89370400440532013000") && is_iban("GB82WEST12345698765432"));
        assert!(!is_iban("DE89370400440532013001") && !is_iban("DE8937040044053201300"));
        assert!(!is_iban("de89370400440532013000") && !is_iban("DE89 3704 0044 0532 0130 00"));
        assert!(is_iban(&compact(" de89 3704\t0044 0532 0130 00 ")));
    }

    #[test]
    fn uploads_are_told_by_their_first_bytes() {
        let cases: [(&[u8], Option<&str>, &str); 7] = [
            (b"%PDF-1.7\n", Some("application/pdf"), "pdf"),
            (b"\x89PNG\r\n\x1a\n....", Some("image/png"), "png"),
            (b"\xff\xd8\xff\xe0", Some("image/jpeg"), "jpg"),
            (b"II*\0", Some("image/tiff"), "tif"),
            (b"MM\0*", Some("image/tiff"), "tif"),
            (b"\x89PN", None, "bin"),
            (b"<?xml version='1.0'?>", None, "bin"),
        ];
        for (bytes, media_type, ext) in cases {
            assert_eq!(sniff(bytes), media_type);
            assert_eq!(extension(media_type.unwrap_or("text/plain")), ext);
        }
        assert_eq!(extension("application/xml"), "xml");
    }
}
