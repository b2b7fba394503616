//! Search over services (later also news, events and pages): an in-memory inverted index that
//! each node builds from the database, so it is derived data and never needs a backup.
//!
//! Ranking is BM25F over the name, the summary and the life situations, with German analysis
//! ([`analyze`]), compound splitting against the vocabulary (`Führerscheinumtausch` ↔
//! `Führerschein umtauschen`), editor-maintained synonyms of real usage ([`Synonyms`]: `perso` →
//! `Personalausweis`), tolerance for typos (edit distance 1, 2 for long words) and for compounds
//! missing a middle part (`Kinderpass` ↔ `Kinderreisepass`). Documents that answer more of the
//! query's words rank higher.

pub mod analyze;
pub mod synonyms;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

pub use synonyms::Synonyms;

use analyze::{edit_distance_chars, fold, is_stopword, term, words};

/// A searchable document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub id: String,
    pub name: String,
    pub summary: String,
    /// Life situations and other keywords.
    pub keywords: Vec<String>,
}

/// One result.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f32,
}

/// How much a match in each field counts.
const NAME_WEIGHT: f32 = 2.5;
const SUMMARY_WEIGHT: f32 = 1.0;
const KEYWORD_WEIGHT: f32 = 0.6;
/// A part of a split compound counts less than the word itself.
const PART_WEIGHT: f32 = 0.7;
/// BM25 parameters: term-frequency saturation and length normalisation.
const K1: f32 = 1.2;
const B: f32 = 0.5;

/// Weights of the ways a query word can find a term.
const EXACT: f32 = 1.0;
const SYNONYM: f32 = 0.9;
const COMPOUND_PART: f32 = 0.8;
const TYPO: f32 = 0.7;
const INFIX: f32 = 0.7;
const PREFIX: f32 = 0.5;
const PARTIAL: f32 = 0.6;

/// The smallest compound part (`kfz`, `amt`).
const MIN_PART: usize = 3;
/// Longer "words" are no German words (the longest common compounds have about 40 letters):
/// they are looked up as they are, never split, which keeps absurd input cheap.
const MAX_COMPOUND: usize = 48;
/// A query is read up to this many characters.
const MAX_QUERY: usize = 500;

/// The index. Build it once, query it from many threads.
pub struct Index {
    ids: Vec<String>,
    /// term → (document, saturated weighted term frequency)
    postings: HashMap<String, Vec<(u32, f32)>>,
    /// All terms, sorted, for typo and prefix lookups.
    vocabulary: Vec<String>,
    /// The same terms as characters, for the edit distance.
    vocabulary_chars: Vec<Vec<char>>,
    /// Folded words and terms that compounds may be split into.
    parts: HashSet<String>,
    synonyms: Synonyms,
    /// The analyses of recent queries: a repeated query skips stemming, compound splitting,
    /// synonyms and the typo scan over the vocabulary, and is only scored.
    analyses: Mutex<HashMap<String, Arc<Analysis>>>,
}

/// How many analysed queries an index keeps; when full it starts afresh.
const ANALYSES_KEPT: usize = 4096;

/// A query as groups of alternative terms, and how many words it has.
struct Analysis {
    groups: Vec<Group>,
    words: usize,
}

/// One unit of a query: the terms that may answer it and the query words it stands for.
struct Group {
    alternatives: Vec<(String, f32)>,
    covers: Vec<usize>,
}

impl Index {
    pub fn build(docs: &[Document], synonyms: Synonyms) -> Index {
        let mut parts = HashSet::new();
        let fields = |d: &Document| -> Vec<(String, f32)> {
            let mut f = vec![(d.name.clone(), NAME_WEIGHT), (d.summary.clone(), SUMMARY_WEIGHT)];
            f.extend(d.keywords.iter().map(|k| (k.clone(), KEYWORD_WEIGHT)));
            f
        };
        for d in docs {
            for (text, _) in fields(d) {
                for w in words(&text).iter().filter(|w| !is_stopword(w) && w.chars().count() >= MIN_PART) {
                    parts.insert(fold(&analyze::normalize_umlauts(w)));
                    parts.insert(term(w));
                }
            }
        }
        parts.extend(synonyms.words().filter(|w| w.chars().count() >= MIN_PART));

        // Catalogues repeat their words: analyse each distinct word once.
        let mut analysed: HashMap<String, (String, Vec<String>)> = HashMap::new();
        let mut weighted: Vec<HashMap<String, f32>> = Vec::with_capacity(docs.len());
        let mut lengths = Vec::with_capacity(docs.len());
        for d in docs {
            let mut tf: HashMap<String, f32> = HashMap::new();
            let mut length = 0.0;
            for (text, weight) in fields(d) {
                for w in words(&text).into_iter().filter(|w| !is_stopword(w)) {
                    let (t, split) = analysed.entry(w).or_insert_with_key(|w| {
                        let split = split_compound(&fold(&analyze::normalize_umlauts(w)), &parts, false);
                        (term(w), split.unwrap_or_default())
                    });
                    *tf.entry(t.clone()).or_default() += weight;
                    length += weight;
                    for p in split.iter() {
                        *tf.entry(p.clone()).or_default() += weight * PART_WEIGHT;
                    }
                }
            }
            weighted.push(tf);
            lengths.push(length);
        }
        let avg = lengths.iter().sum::<f32>() / lengths.len().max(1) as f32;
        let mut postings: HashMap<String, Vec<(u32, f32)>> = HashMap::new();
        for (doc, tf) in weighted.into_iter().enumerate() {
            let norm = 1.0 - B + B * lengths[doc] / avg.max(f32::EPSILON);
            for (t, f) in tf {
                postings.entry(t).or_default().push((doc as u32, f * (K1 + 1.0) / (f + K1 * norm)));
            }
        }
        let mut vocabulary: Vec<String> = postings.keys().cloned().collect();
        vocabulary.sort();
        let vocabulary_chars = vocabulary.iter().map(|v| v.chars().collect()).collect();
        let ids = docs.iter().map(|d| d.id.clone()).collect();
        Index { ids, postings, vocabulary, vocabulary_chars, parts, synonyms, analyses: Mutex::default() }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn idf(&self, t: &str) -> f32 {
        let df = self.postings.get(t).map_or(0, Vec::len) as f32;
        let n = self.ids.len() as f32;
        ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
    }

    /// The ways one query word finds terms, as groups that must each match: the word itself
    /// (or its near spellings) is one group; a compound is one group per part.
    fn expansions(&self, word: &str) -> Vec<Vec<(String, f32)>> {
        let t = term(word);
        if self.postings.contains_key(&t) {
            let mut alts = vec![(t.clone(), EXACT)];
            if t.chars().count() >= 5 {
                // The vocabulary is sorted: the terms starting with `t` follow `t` itself.
                let from = self.vocabulary.partition_point(|v| v.as_str() < t.as_str());
                alts.extend(
                    self.vocabulary[from..]
                        .iter()
                        .take_while(|v| v.starts_with(&t))
                        .filter(|v| **v != t)
                        .map(|v| (v.clone(), PREFIX)),
                );
            }
            return vec![alts];
        }
        let folded = fold(&analyze::normalize_umlauts(word));
        if let Some(parts) = split_compound(&folded, &self.parts, true) {
            return parts.into_iter().map(|p| vec![(p, COMPOUND_PART)]).collect();
        }
        let len = t.chars().count();
        let max = match len {
            0..=3 => 0,
            4..=7 => 1,
            _ => 2,
        };
        let (mut typos, mut near) = (Vec::new(), Vec::new());
        let (chars, mut rows): (Vec<char>, Vec<usize>) = (t.chars().collect(), Vec::new());
        for (v, v_chars) in self.vocabulary.iter().zip(&self.vocabulary_chars) {
            let d = if max > 0 { edit_distance_chars(&chars, v_chars, max, &mut rows) } else { max + 1 };
            if d <= max {
                typos.push((v.clone(), TYPO - 0.1 * d as f32));
            } else if len >= 2 * MIN_PART && infix_compound(&chars, v_chars) {
                near.push((v.clone(), INFIX));
            } else if len >= 4 && v.starts_with(&t) {
                near.push((v.clone(), PREFIX));
            }
        }
        // A near spelling explains the word best; only without one is it read as a compound
        // of which one part is known.
        if typos.is_empty() {
            let affixes = known_affixes(&folded, &self.parts);
            if !affixes.is_empty() {
                return affixes.into_iter().map(|p| vec![(p, PARTIAL)]).collect();
            }
        }
        typos.extend(near);
        vec![typos]
    }

    /// The analysis of a query, from the recent ones when it was asked before.
    fn analyse(&self, query: &str) -> Arc<Analysis> {
        let query: String = query.chars().take(MAX_QUERY).collect();
        if let Some(known) = self.analyses.lock().unwrap_or_else(PoisonError::into_inner).get(&query) {
            return known.clone();
        }
        let (groups, words) = self.groups(&query);
        let analysis = Arc::new(Analysis { groups, words });
        let mut analyses = self.analyses.lock().unwrap_or_else(PoisonError::into_inner);
        if analyses.len() >= ANALYSES_KEPT {
            analyses.clear();
        }
        analyses.insert(query, analysis.clone());
        analysis
    }

    /// The query (at most [`MAX_QUERY`] characters) as groups of alternative terms.
    fn groups(&self, query: &str) -> (Vec<Group>, usize) {
        let qwords: Vec<String> = words(query).into_iter().filter(|w| !is_stopword(w)).take(32).collect();
        let mut groups: Vec<Group> = Vec::new();
        for (i, w) in qwords.iter().enumerate() {
            groups.extend(self.expansions(w).into_iter().map(|alternatives| Group { alternatives, covers: vec![i] }));
        }
        let qterms: Vec<String> = qwords.iter().map(|w| term(w)).collect();
        for (covers, replacement) in self.synonyms.expand(&qterms) {
            for w in replacement {
                for mut alternatives in self.expansions(&w) {
                    alternatives.iter_mut().for_each(|a| a.1 *= SYNONYM);
                    groups.push(Group { alternatives, covers: covers.clone() });
                }
            }
        }
        (groups, qwords.len())
    }

    /// The best `limit` documents for a query, best first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let analysis = self.analyse(query);
        let Analysis { groups, words } = analysis.as_ref();
        if *words == 0 || limit == 0 {
            return Vec::new();
        }
        // This thread's working memory; taken out while in use, so a panic midway drops it
        // instead of leaving it dirty.
        let mut scratch = SCRATCH.with(|s| s.borrow_mut().take()).unwrap_or_default();
        let hits = self.score(groups, *words, limit, &mut scratch);
        scratch.clean();
        SCRATCH.with(|s| *s.borrow_mut() = Some(scratch));
        hits
    }

    /// Scores the documents that match `groups` and returns the best `limit`.
    fn score(&self, groups: &[Group], words: usize, limit: usize, scratch: &mut Scratch) -> Vec<Hit> {
        scratch.fit(self.ids.len());
        let Scratch { score, mask, best, touched, in_group } = scratch;
        for g in groups {
            for (t, weight) in &g.alternatives {
                let idf = self.idf(t);
                for &(doc, s) in self.postings.get(t).into_iter().flatten() {
                    let d = doc as usize;
                    let v = idf * s * weight;
                    if best[d] == 0.0 {
                        in_group.push(doc);
                    }
                    best[d] = best[d].max(v);
                }
            }
            let group_mask = g.covers.iter().fold(0_u64, |m, i| m | (1 << i));
            for doc in in_group.drain(..) {
                let d = doc as usize;
                if mask[d] == 0 {
                    touched.push(doc);
                }
                score[d] += best[d];
                mask[d] |= group_mask;
                best[d] = 0.0;
            }
        }
        let order = |a: &(f32, u32), b: &(f32, u32)| {
            b.0.total_cmp(&a.0).then_with(|| self.ids[a.1 as usize].cmp(&self.ids[b.1 as usize]))
        };
        // The best `limit` in one pass (scores, then ids, order them totally): a candidate only
        // has to beat the worst of those kept so far, which most documents do not.
        let mut best_hits: Vec<(f32, u32)> = Vec::with_capacity(limit);
        let mut worst = 0;
        for &doc in touched.iter() {
            let coverage = mask[doc as usize].count_ones() as f32 / words as f32;
            let hit = (score[doc as usize] * (0.2 + 0.8 * coverage * coverage), doc);
            if best_hits.len() < limit {
                best_hits.push(hit);
            } else if order(&hit, &best_hits[worst]).is_lt() {
                best_hits[worst] = hit;
            } else {
                continue;
            }
            if best_hits.len() == limit {
                worst = (0..limit).max_by(|a, b| order(&best_hits[*a], &best_hits[*b])).unwrap_or(0);
            }
        }
        best_hits.sort_by(order);
        best_hits.into_iter().map(|(score, doc)| Hit { id: self.ids[doc as usize].clone(), score }).collect()
    }
}

/// Dense per-document arrays and the list of the documents touched: no hashing in the inner
/// loop, only touched documents are visited afterwards, and the arrays are kept between
/// queries (allocating and zeroing them for 100,000 documents cost more than the scoring).
/// Between queries every entry is zero and both lists are empty.
#[derive(Default)]
struct Scratch {
    score: Vec<f32>,
    mask: Vec<u64>,
    best: Vec<f32>,
    touched: Vec<u32>,
    in_group: Vec<u32>,
}

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

impl Scratch {
    /// Room for `n` documents.
    fn fit(&mut self, n: usize) {
        if self.score.len() < n {
            self.score.resize(n, 0.0);
            self.mask.resize(n, 0);
            self.best.resize(n, 0.0);
        }
    }

    /// Zeroes what a query touched (`best` is zeroed as each group is summed up).
    fn clean(&mut self) {
        for doc in self.touched.drain(..) {
            self.score[doc as usize] = 0.0;
            self.mask[doc as usize] = 0;
        }
        self.in_group.clear();
    }
}

/// Splits a folded word into known parts (at least two), allowing the German linking elements
/// (`Unterhalt-s-vorschuss`); returns the parts as terms. Prefers few, long parts. With
/// `inflected`, a part may also be a known word in another form (`zulassung` for the known
/// `zulassen`): dearer, so only for query words, not for every word of every document.
fn split_compound(word: &str, known: &HashSet<String>, inflected: bool) -> Option<Vec<String>> {
    let chars: Vec<char> = word.chars().collect();
    let n = chars.len();
    if !(2 * MIN_PART..=MAX_COMPOUND).contains(&n) {
        return None;
    }
    // best[i]: the fewest parts covering chars[..i], with where the last part started.
    let mut best: Vec<Option<(usize, usize, usize)>> = vec![None; n + 1];
    best[0] = Some((0, 0, 0));
    for end in MIN_PART..=n {
        for start in 0..=end - MIN_PART {
            let Some((count, _, _)) = best[start] else { continue };
            if start == 0 && end == n {
                continue; // the word itself is no split
            }
            let part: String = chars[start..end].iter().collect();
            let found = known.contains(&part)
                || (inflected && end - start >= 4 && known.contains(&term(&part)))
                || (end < n
                    && ["s", "es", "n", "en", "e"].iter().any(|l| {
                        part.strip_suffix(l).is_some_and(|p| p.chars().count() >= MIN_PART && known.contains(p))
                    }));
            if found && best[end].is_none_or(|(c, _, _)| count + 1 < c) {
                best[end] = Some((count + 1, start, end));
            }
        }
    }
    let (count, _, _) = best[n]?;
    if count < 2 {
        return None;
    }
    let mut parts = Vec::new();
    let mut end = n;
    while end > 0 {
        let (_, start, _) = best[end]?;
        let part: String = chars[start..end].iter().collect();
        let stripped = ["es", "en", "s", "n", "e"]
            .iter()
            .find_map(|l| part.strip_suffix(l).filter(|p| end < n && !known.contains(&part) && known.contains(*p)))
            .unwrap_or(&part);
        parts.push(term(stripped));
        end = start;
    }
    parts.reverse();
    Some(parts)
}

/// For a compound that does not split wholly: its longest known first part (the modifier, at
/// least five letters) and its longest known last part (the head, at least four), as terms.
/// `Heilpraktikerprüfung` still finds the `Heilpraktiker`.
fn known_affixes(word: &str, known: &HashSet<String>) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let n = chars.len();
    let mut found = Vec::new();
    if n > MAX_COMPOUND {
        return found;
    }
    if let Some(p) =
        (5..n.saturating_sub(2)).rev().map(|i| chars[..i].iter().collect::<String>()).find(|p| known.contains(p))
    {
        found.push(term(&p));
    }
    if let Some(s) = (3..n.saturating_sub(3)).map(|i| chars[i..].iter().collect::<String>()).find(|s| known.contains(s))
    {
        found.push(term(&s));
    }
    found
}

/// True when `query` is `candidate` without a middle part: `kinderpass` in `kinderreisepass`.
fn infix_compound(q: &[char], c: &[char]) -> bool {
    if c.len() < q.len() + MIN_PART {
        return false;
    }
    (MIN_PART..=q.len() - MIN_PART).any(|cut| c.starts_with(&q[..cut]) && c.ends_with(&q[cut..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, name: &str, summary: &str) -> Document {
        Document { id: id.into(), name: name.into(), summary: summary.into(), keywords: Vec::new() }
    }

    fn index() -> &'static Index {
        static INDEX: std::sync::LazyLock<Index> = std::sync::LazyLock::new(build_index);
        &INDEX
    }

    fn build_index() -> Index {
        let docs = [
            doc(
                "fuehrerschein-umtausch",
                "Führerschein umtauschen",
                "Alten Führerschein in den neuen EU-Kartenführerschein umtauschen.",
            ),
            doc("reisepass", "Reisepass beantragen", "Einen Reisepass für Reisen ins Ausland beantragen."),
            doc("kinderreisepass", "Kinderreisepass beantragen", "Ein Reisedokument für Kinder unter zwölf Jahren."),
            doc("kfz-neuzulassung", "Fahrzeug zulassen (Neuzulassung)", "Ein neues Kraftfahrzeug anmelden."),
            doc("personalausweis", "Personalausweis beantragen", "Den Personalausweis beantragen oder verlängern."),
        ];
        let synonyms = Synonyms::parse("perso => personalausweis\nkfz, auto => fahrzeug").expect("valid");
        Index::build(&docs, synonyms)
    }

    fn top(q: &str) -> String {
        index().search(q, 1).first().map(|h| h.id.clone()).unwrap_or_default()
    }

    #[test]
    fn compounds_meet_their_parts_both_ways() {
        assert_eq!(top("Führerscheinumtausch"), "fuehrerschein-umtausch");
        assert_eq!(top("kfzzulassung"), "kfz-neuzulassung");
    }

    #[test]
    fn a_compound_without_its_middle_part_is_found() {
        assert_eq!(top("kinderpass"), "kinderreisepass");
    }

    #[test]
    fn typos_and_spellings_without_umlauts_are_forgiven() {
        assert_eq!(top("persnalausweis"), "personalausweis");
        assert_eq!(top("fuehrerschein umtauschen"), "fuehrerschein-umtausch");
    }

    #[test]
    fn synonyms_of_real_usage_lead_to_the_official_name() {
        assert_eq!(top("perso"), "personalausweis");
        assert_eq!(top("auto anmelden"), "kfz-neuzulassung");
    }

    #[test]
    fn empty_and_absurd_queries_return_nothing_without_failing() {
        let idx = index();
        for q in ["", "   ", "!!!???", "' OR 1=1 --", "<script>alert(1)</script>", &"x".repeat(10_000)] {
            assert!(idx.search(q, 10).len() <= 10);
        }
        assert!(idx.search("", 10).is_empty());
    }

    #[test]
    fn a_compound_with_an_unknown_part_is_found_by_its_known_part() {
        assert_eq!(top("Personalausweisverlängerung"), "personalausweis");
    }

    #[test]
    fn compound_splitting_keeps_linking_elements_out_of_the_parts() {
        let known: HashSet<String> =
            ["unterhalt", "vorschuss", "kfz", "zulassung"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            split_compound("unterhaltsvorschuss", &known, false),
            Some(vec![term("unterhalt"), term("vorschuss")])
        );
        assert_eq!(split_compound("kfzzulassung", &known, false), Some(vec![term("kfz"), term("zulassung")]));
        assert_eq!(split_compound("vorschuss", &known, false), None);
    }

    proptest::proptest! {
        #[test]
        fn any_query_is_answered_without_panicking(q in "\\PC{0,200}") {
            let hits = index().search(&q, 5);
            proptest::prop_assert!(hits.len() <= 5);
        }
    }
}
