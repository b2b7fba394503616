//! German text analysis: how words become index terms.
//!
//! `Führerscheinumtausch`, `fuehrerschein`, `Führerscheine` and `FÜHRERSCHEIN` must meet. Each word
//! is lowercased, `ae/oe/ue` are read as umlauts (as people type them without a German keyboard),
//! stemmed with the Snowball German stemmer, stripped of the nominalising `-ung`
//! (`Zulassung` ↔ `zulassen`), and folded to ASCII (`ä→a`, `ß→ss`), so spelling variants of one
//! word end in one term. Compounds are split elsewhere ([`super::Index`]), because splitting needs
//! the vocabulary.

use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};

/// Words that carry no meaning in a citizen's query or a service description.
const STOPWORDS: &[&str] = &[
    "aber", "alle", "als", "am", "an", "auch", "auf", "aus", "bei", "beim", "bin", "bis", "da", "damit", "das", "dass",
    "dem", "den", "der", "des", "die", "dies", "diese", "dieser", "du", "durch", "ein", "eine", "einem", "einen",
    "einer", "eines", "er", "es", "für", "hat", "habe", "ich", "ihr", "im", "in", "ist", "ja", "kann", "man", "mein",
    "meine", "meinen", "meinem", "meiner", "mich", "mir", "mit", "muss", "nach", "nicht", "noch", "nur", "oder", "ob",
    "sich", "sie", "sind", "so", "soll", "über", "um", "und", "uns", "unter", "vom", "von", "vor", "was", "wenn",
    "wer", "wie", "wir", "will", "wo", "zu", "zum", "zur",
];

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::German))
}

/// The words of a text, lowercased, in order; digits stay (`bf17`, `b96`).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// True for words that never become terms.
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// `ae`, `oe`, `ue` read as `ä`, `ö`, `ü` (not `ue` after `q`, as in `Quelle`), like Snowball's
/// "german2" variant.
pub fn normalize_umlauts(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut prev = '\0';
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let umlaut = match (c, next) {
            ('a', Some('e')) => Some('ä'),
            ('o', Some('e')) => Some('ö'),
            ('u', Some('e')) if prev != 'q' => Some('ü'),
            _ => None,
        };
        match umlaut {
            Some(u) => {
                out.push(u);
                chars.next();
                prev = u;
            }
            None => {
                out.push(c);
                prev = c;
            }
        }
    }
    out
}

/// ASCII folding after stemming: one term for `Bußgeld` and `Bussgeld`, `Führer` and `Fuhrer`.
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    for c in word.chars() {
        match c {
            'ä' => out.push('a'),
            'ö' => out.push('o'),
            'ü' => out.push('u'),
            'ß' => out.push_str("ss"),
            other => out.push(other),
        }
    }
    out
}

/// The index term of one lowercased word.
pub fn term(word: &str) -> String {
    let stem = stemmer().stem(&normalize_umlauts(word)).into_owned();
    // Nominalisations end in -ung (Zulassung, Genehmigung); the verb they come from does not.
    let stem = match stem.strip_suffix("ung") {
        Some(base) if base.chars().count() >= 4 => base.to_owned(),
        _ => stem,
    };
    fold(&stem)
}

/// The terms of a text: its words without stopwords, as terms.
pub fn terms(text: &str) -> Vec<String> {
    words(text).iter().filter(|w| !is_stopword(w)).map(|w| term(w)).collect()
}

/// The Levenshtein distance of two terms, giving up above `max` (then `max + 1`).
pub fn edit_distance(a: &str, b: &str, max: usize) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    edit_distance_chars(&a, &b, max, &mut Vec::new())
}

/// [`edit_distance`] of terms already split into characters, with a reusable buffer for the
/// two rows: the search compares one query word with every term of the vocabulary.
pub fn edit_distance_chars(a: &[char], b: &[char], max: usize, rows: &mut Vec<usize>) -> usize {
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let width = b.len() + 1;
    rows.clear();
    rows.extend(0..width);
    rows.resize(2 * width, 0);
    let (mut prev, mut row) = rows.split_at_mut(width);
    for (i, ca) in a.iter().enumerate() {
        row[0] = i + 1;
        let mut smallest = row[0];
        for (j, cb) in b.iter().enumerate() {
            row[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(row[j] + 1);
            smallest = smallest.min(row[j + 1]);
        }
        if smallest > max {
            return max + 1;
        }
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()].min(max + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_variants_of_one_word_become_one_term() {
        assert_eq!(term("führerschein"), term("fuehrerschein"));
        assert_eq!(term("führerscheine"), term("führerschein"));
        assert_eq!(term("bußgeld"), term("bussgeld"));
        assert_eq!(term("zulassung"), term("zulassen"));
        assert_eq!(term("genehmigung"), term("genehmigen"));
        assert_eq!(term("quelle"), "quell");
    }

    #[test]
    fn stopwords_and_punctuation_vanish_but_digits_stay() {
        assert_eq!(words("BF17 – für Kita-Platz!"), ["bf17", "für", "kita", "platz"]);
        assert_eq!(terms("ich will meinen Ausweis"), [term("ausweis")]);
    }

    #[test]
    fn the_edit_distance_stops_early_above_the_limit() {
        assert_eq!(edit_distance("persnalausweis", "personalausweis", 2), 1);
        assert_eq!(edit_distance("baugenemig", "baugenehmig", 2), 1);
        assert_eq!(edit_distance("hund", "wohngeld", 2), 3);
    }
}
