//! Tracking ids (Vorgangsnummern) for submissions: ten random symbols of Crockford's base 32
//! (no I, L, O, U: nothing to confuse when read aloud or typed) and a check symbol (mod 37), shown
//! as `7KQ2M-X9D4R-C`. 50 random bits: not guessable, and the status page asks for a second
//! answer besides.

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Crockford's check symbols: the alphabet plus `*~$=U` for the values 32–36.
const CHECK: &[u8; 37] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

/// A new tracking id from ten random bytes (one symbol each).
pub fn new_id(random: [u8; 10]) -> String {
    let symbols: String = random.iter().map(|b| ALPHABET[usize::from(b % 32)] as char).collect();
    format!("{}-{}-{}", &symbols[..5], &symbols[5..], check_symbol(&symbols))
}

fn value(c: char) -> Option<u64> {
    ALPHABET.iter().position(|&a| a as char == c).map(|p| p as u64)
}

fn check_symbol(symbols: &str) -> char {
    let n = symbols.chars().filter_map(value).fold(0u64, |acc, v| (acc * 32 + v) % 37);
    CHECK[n as usize] as char
}

/// Reads a tracking id as people type it: case, spaces and hyphens do not matter, and the
/// letters I/L (one) and O (zero) are read as Crockford says. None when the check symbol does not
/// fit: a typo is caught before anything is looked up.
pub fn normalize(typed: &str) -> Option<String> {
    let cleaned: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            c => c,
        })
        .collect();
    if cleaned.chars().count() != 11 {
        return None;
    }
    let (symbols, check) = cleaned.split_at(10);
    if !symbols.chars().all(|c| value(c).is_some()) || !check.starts_with(check_symbol(symbols)) {
        return None;
    }
    Some(format!("{}-{}-{check}", &symbols[..5], &symbols[5..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_id_reads_back_and_a_typo_is_caught_by_the_check_symbol() {
        let id = new_id([7, 200, 13, 99, 1, 0, 255, 31, 64, 128]);
        assert_eq!(id.len(), 13);
        assert_eq!(normalize(&id).as_deref(), Some(id.as_str()));
        assert_eq!(normalize(&id.to_lowercase().replace('-', " ")).as_deref(), Some(id.as_str()));
        let mut typo: Vec<char> = id.chars().collect();
        typo[2] = if typo[2] == 'A' { 'B' } else { 'A' };
        assert_eq!(normalize(&typo.into_iter().collect::<String>()), None);
        assert_eq!(normalize("ABC"), None);
    }

    #[test]
    fn swapped_neighbours_are_caught_too() {
        let id = new_id([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        let mut swapped: Vec<char> = id.chars().collect();
        swapped.swap(0, 1);
        assert_eq!(normalize(&swapped.into_iter().collect::<String>()), None);
    }

    proptest::proptest! {
        #[test]
        fn every_generated_id_is_valid(bytes in proptest::array::uniform10(proptest::num::u8::ANY)) {
            let id = new_id(bytes);
            proptest::prop_assert_eq!(normalize(&id), Some(id));
        }
    }
}
