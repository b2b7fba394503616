//! German first, English second. Each crate ships `messages/de.toml` and `messages/en.toml`
//! (flat or nested keys); the server joins them into one [`I18n`] at start. A test checks that
//! both languages have the same keys.

use std::collections::HashMap;

/// The interface languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("de") => Some(Lang::De),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported language of an `Accept-Language` header, in the client's order.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut ranges: Vec<(f32, &str)> = header
            .split(',')
            .map(|part| {
                let mut it = part.split(';');
                let tag = it.next().unwrap_or_default().trim();
                let q = it.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse().ok()).unwrap_or(1.0);
                (q, tag)
            })
            .collect();
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranges.into_iter().find_map(|(_, tag)| Lang::parse(tag))
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::De => Lang::En,
            Lang::En => Lang::De,
        }
    }

    /// The language's name in itself, for the switch.
    pub fn endonym(self) -> &'static str {
        match self {
            Lang::De => "Deutsch",
            Lang::En => "English",
        }
    }
}

/// One crate's message files.
#[derive(Clone, Copy, Debug)]
pub struct Messages {
    pub de: &'static str,
    pub en: &'static str,
}

/// This crate's messages: layout, navigation, error pages.
pub const MESSAGES: Messages =
    Messages { de: include_str!("../messages/de.toml"), en: include_str!("../messages/en.toml") };

/// The message catalogue of all crates.
#[derive(Debug, Default)]
pub struct I18n {
    de: HashMap<String, String>,
    en: HashMap<String, String>,
}

impl I18n {
    /// Joins message files; a malformed file or a key defined twice is a start-up error.
    pub fn new(sources: &[Messages]) -> Result<I18n, String> {
        let mut i = I18n::default();
        for s in sources {
            flatten_into(&mut i.de, s.de)?;
            flatten_into(&mut i.en, s.en)?;
        }
        Ok(i)
    }

    /// The message for `key`; the key itself when missing, so a gap is visible, not fatal.
    pub fn t<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        let table = match lang {
            Lang::De => &self.de,
            Lang::En => &self.en,
        };
        table.get(key).map(String::as_str).unwrap_or(key)
    }

    pub fn has(&self, lang: Lang, key: &str) -> bool {
        match lang {
            Lang::De => self.de.contains_key(key),
            Lang::En => self.en.contains_key(key),
        }
    }

    /// Keys present in one language but not the other.
    pub fn missing_keys(&self) -> Vec<String> {
        let mut missing: Vec<String> = self
            .de
            .keys()
            .filter(|k| !self.en.contains_key(*k))
            .chain(self.en.keys().filter(|k| !self.de.contains_key(*k)))
            .cloned()
            .collect();
        missing.sort();
        missing
    }
}

fn flatten_into(map: &mut HashMap<String, String>, source: &str) -> Result<(), String> {
    let table: toml::Table = source.parse().map_err(|e| format!("message file: {e}"))?;
    fn walk(map: &mut HashMap<String, String>, prefix: &str, table: &toml::Table) -> Result<(), String> {
        for (k, v) in table {
            let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            match v {
                toml::Value::String(s) => {
                    if map.insert(key.clone(), s.clone()).is_some() {
                        return Err(format!("message key {key} is defined twice"));
                    }
                }
                toml::Value::Table(t) => walk(map, &key, t)?,
                _ => return Err(format!("message {key} must be a string")),
            }
        }
        Ok(())
    }
    walk(map, "", &table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_first_supported_language_by_quality() {
        assert_eq!(Lang::from_accept_language("fr-FR, en;q=0.8, de;q=0.9"), Some(Lang::De));
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr, it"), None);
    }

    #[test]
    fn both_languages_of_the_web_messages_have_the_same_keys() {
        let i = I18n::new(&[MESSAGES]).expect("messages parse");
        assert_eq!(i.missing_keys(), Vec::<String>::new());
    }

    #[test]
    fn every_reason_of_the_csv_reader_has_a_german_and_an_english_text() {
        let i = I18n::new(&[MESSAGES]).expect("messages parse");
        for code in kernel::csv::ERRORS {
            assert!(i.has(Lang::De, code) && i.has(Lang::En, code), "{code}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_accept_language_header_is_read_without_panicking(header in "\\PC{0,300}") {
            let _ = Lang::from_accept_language(&header);
            let _ = Lang::parse(&header);
        }
    }
}
