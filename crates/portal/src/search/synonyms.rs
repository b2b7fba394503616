//! Synonyms of real usage: what citizens type, and the words the services use.
//!
//! One rule a line, `what people type => what the services say`. The left side may list
//! alternatives separated by commas; each alternative is one or more words that must all occur in
//! the query, in any order. Editors maintain the list; the default is `data/synonyms.txt`.

use super::analyze::{fold, normalize_umlauts, term, words};

/// The synonym list the portal starts with.
pub const DEFAULT: &str = include_str!("../../data/synonyms.txt");

#[derive(Clone)]
struct Rule {
    /// The terms that must all be in the query.
    when: Vec<String>,
    /// The same, as folded words (known words for compound splitting).
    when_words: Vec<String>,
    /// The words added to the query.
    add: Vec<String>,
}

/// A parsed synonym list.
#[derive(Clone, Default)]
pub struct Synonyms {
    rules: Vec<Rule>,
}

/// A line of a synonym list that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynonymError {
    /// 1-based.
    pub line: usize,
    /// `portal.synonyms_missing_arrow`, `…_nothing_added` or `…_empty_alternative`.
    pub code: &'static str,
}

impl std::fmt::Display for SynonymError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let problem = match self.code {
            "portal.synonyms_missing_arrow" => "missing `=>`",
            "portal.synonyms_nothing_added" => "nothing after `=>`",
            _ => "an empty alternative before `=>`",
        };
        write!(f, "synonyms line {}: {problem}", self.line)
    }
}

impl Synonyms {
    /// Parses the list; a bad line is an error naming its number.
    pub fn parse(text: &str) -> Result<Synonyms, SynonymError> {
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let error = |code| SynonymError { line: n + 1, code };
            let (left, right) = line.split_once("=>").ok_or(error("portal.synonyms_missing_arrow"))?;
            let add = words(right);
            if add.is_empty() {
                return Err(error("portal.synonyms_nothing_added"));
            }
            for alternative in left.split(',') {
                let when_words: Vec<String> = words(alternative);
                if when_words.is_empty() {
                    return Err(error("portal.synonyms_empty_alternative"));
                }
                let when = when_words.iter().map(|w| term(w)).collect();
                let when_words = when_words.iter().map(|w| fold(&normalize_umlauts(w))).collect();
                rules.push(Rule { when, when_words, add: add.clone() });
            }
        }
        Ok(Synonyms { rules })
    }

    /// The default list.
    pub fn default_list() -> Synonyms {
        // The default list is part of the binary and covered by a test, so it always parses.
        Synonyms::parse(DEFAULT).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Every word of the list (folded, and the left sides' terms): known words for compound
    /// splitting (`kfz` in `Kfzzulassung`).
    pub fn words(&self) -> impl Iterator<Item = String> + '_ {
        self.rules.iter().flat_map(|r| {
            r.add
                .iter()
                .map(|w| fold(&normalize_umlauts(w)))
                .chain(r.when.iter().cloned())
                .chain(r.when_words.iter().cloned())
        })
    }

    /// For every rule that applies to the query terms: which query words it covers and which
    /// words it adds.
    pub fn expand(&self, query_terms: &[String]) -> Vec<(Vec<usize>, Vec<String>)> {
        self.rules
            .iter()
            .filter_map(|r| {
                let covers: Option<Vec<usize>> =
                    r.when.iter().map(|t| query_terms.iter().position(|q| q == t)).collect();
                covers.map(|c| (c, r.add.clone()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_list_parses() {
        let s = Synonyms::parse(DEFAULT).expect("default synonyms parse");
        assert!(s.len() > 50);
    }

    #[test]
    fn a_rule_applies_only_when_all_its_words_are_in_the_query() {
        let s = Synonyms::parse("auto abmelden, kfz stilllegen => außerbetriebsetzung").expect("valid");
        let q = |text: &str| words(text).iter().map(|w| term(w)).collect::<Vec<_>>();
        assert_eq!(s.expand(&q("mein auto abmelden")).len(), 1);
        assert_eq!(s.expand(&q("abmelden auto"))[0].0, vec![1, 0]);
        assert!(s.expand(&q("auto kaufen")).is_empty());
    }

    #[test]
    fn a_malformed_line_is_reported_with_its_number() {
        let error = Synonyms::parse("a => b\nkaputt").err().expect("line 2 is bad");
        assert_eq!(error.to_string(), "synonyms line 2: missing `=>`");
        assert_eq!(Synonyms::parse("a =>").err().map(|e| e.code), Some("portal.synonyms_nothing_added"));
        assert_eq!(
            Synonyms::parse("a, => b").err().map(|e| (e.line, e.code)),
            Some((1, "portal.synonyms_empty_alternative"))
        );
    }
}
