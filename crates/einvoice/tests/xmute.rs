//! The XRechnung mutation tests (`xrechnung-schematron/EXPECTED-xmute-cases.csv`): every
//! `<?xmute …?>` processing instruction mutates the next element sibling (identity, remove,
//! empty, code with each of its values, whitespace, on the element or one `attribute`); for every id in
//! `schematron_invalid` the rule must fire on the mutated document, for every id in
//! `schematron_valid` it must not. Ids of rules not implemented yet are counted as skipped.
//!
//! Run with `cargo test -p einvoice --test xmute -- --nocapture` to see the table per family.

mod common;

use einvoice::rules::{self, RuleSyntax};
use std::collections::{BTreeMap, HashSet};

/// The pseudo-attributes of a processing instruction's value.
fn pseudo_attributes(value: &str) -> BTreeMap<String, String> {
    let re = regex::Regex::new(r#"([\w-]+)\s*=\s*"([^"]*)""#).expect("regex");
    re.captures_iter(value).map(|c| (c[1].to_string(), c[2].to_string())).collect()
}

/// An `<?xmute …?>` instruction: its pseudo-attributes and its node (the target is the next
/// element sibling).
struct Instruction<'a, 'i> {
    args: BTreeMap<String, String>,
    node: roxmltree::Node<'a, 'i>,
}

/// The instruction on `line` (the CSV's `line`), else the `pi_index`-th of the document. An
/// instruction the source has commented out (`<!--<?xmute …?>-->`) is still listed in the CSV;
/// it is read from the comment and targets the comment's next element sibling.
fn instruction<'a, 'i>(doc: &'a roxmltree::Document<'i>, pi_index: usize, line: u32) -> Instruction<'a, 'i> {
    let instructions: Vec<_> = doc.descendants().filter(|n| n.pi().is_some_and(|p| p.target == "xmute")).collect();
    let on_line = instructions.iter().find(|n| doc.text_pos_at(n.range().start).row == line);
    if let Some(pi) = on_line {
        let args = pseudo_attributes(pi.pi().and_then(|p| p.value).unwrap_or(""));
        return Instruction { args, node: *pi };
    }
    let commented = doc.descendants().filter(roxmltree::Node::is_comment).find(|n| {
        doc.text_pos_at(n.range().start).row == line && n.text().is_some_and(|t| t.trim_start().starts_with("<?xmute"))
    });
    if let Some(comment) = commented {
        return Instruction { args: pseudo_attributes(comment.text().unwrap_or("")), node: comment };
    }
    let Some(pi) = instructions.get(pi_index) else { panic!("no xmute instruction #{pi_index} on line {line}") };
    let args = pseudo_attributes(pi.pi().and_then(|p| p.value).unwrap_or(""));
    Instruction { args, node: *pi }
}

/// The mutated documents one instruction yields (one per `code` value, two for `whitespace`).
fn mutations(text: &str, pi_index: usize, line: u32) -> Vec<String> {
    let doc = roxmltree::Document::parse(text).expect("instance XML");
    let Instruction { args, node } = instruction(&doc, pi_index, line);
    let Some(target) = node.next_siblings().find(|n| n.is_element()) else {
        return vec![text.to_string()];
    };
    let range = target.range();
    let source = &text[range.clone()];
    let open_end = source.find('>').map_or(source.len(), |i| i + 1);
    let close_start = source.rfind("</").unwrap_or(source.len());
    let splice = |from: usize, to: usize, with: &str| format!("{}{with}{}", &text[..from], &text[to..]);
    let attribute = args.get("attribute").and_then(|name| target.attribute_node(name.as_str()));
    let content = (range.start + open_end, range.start + close_start);
    match args.get("mutator").map(String::as_str).unwrap_or("identity") {
        "remove" => match attribute {
            Some(attr) => vec![splice(attr.range().start, attr.range().end, "")],
            None => vec![splice(range.start, range.end, "")],
        },
        "empty" if source.ends_with("/>") => vec![text.to_string()],
        "empty" => vec![splice(content.0, content.1, "")],
        "whitespace" if source.ends_with("/>") => vec![text.to_string()],
        "whitespace" => {
            // White space around the text, and white space inside it.
            let value = &text[content.0..content.1];
            let inside: String = value
                .chars()
                .enumerate()
                .flat_map(|(i, c)| (i > 0 && i % 4 == 0).then_some(' ').into_iter().chain([c]))
                .collect();
            vec![splice(content.0, content.1, &format!(" \n\t{value}\t\n ")), splice(content.0, content.1, &inside)]
        }
        "code" => {
            let separator = args.get("separator").map_or(",", String::as_str);
            let values = args.get("values").map_or(String::new(), String::clone);
            values
                .split(separator)
                .map(str::trim)
                .map(|value| match attribute {
                    Some(attr) => splice(attr.range_value().start, attr.range_value().end, value),
                    None if source.ends_with("/>") => splice(range.start, range.end, source),
                    None => splice(content.0, content.1, value),
                })
                .collect()
        }
        _ => vec![text.to_string()],
    }
}

#[test]
fn the_xrechnung_mutations_fire_exactly_the_expected_rules() {
    let base = common::testdata().join("xrechnung-schematron/test");
    let cases = common::read_csv(&base.join("../EXPECTED-xmute-cases.csv"));
    let mut tally = common::Tally::default();
    for case in &cases {
        let text = std::fs::read_to_string(base.join(&case["file"])).expect("instance");
        let index: usize = case["pi_index"].parse().expect("index");
        let expectations: Vec<(String, RuleSyntax, bool)> = [("schematron_invalid", true), ("schematron_valid", false)]
            .iter()
            .flat_map(|(column, fire)| case[*column].split_whitespace().map(move |id| (id, *fire)))
            .map(|(qualified, fire)| {
                let (prefix, id) = qualified.split_once(':').unwrap_or(("", qualified));
                let syntax = if prefix.ends_with("cii") { RuleSyntax::Cii } else { RuleSyntax::Ubl };
                (id.to_string(), syntax, fire)
            })
            .collect();
        if expectations.iter().all(|(id, syntax, _)| !rules::is_implemented(id, *syntax)) {
            expectations.iter().for_each(|(id, _, _)| tally.skip(id));
            continue;
        }
        let line: u32 = case["line"].parse().expect("line");
        for mutated in mutations(&text, index, line) {
            let doc = roxmltree::Document::parse(&mutated).expect("mutated XML");
            let Ok((_, syntax)) = einvoice::reader::parse(&mutated) else { continue };
            let fired: HashSet<&str> = rules::evaluate(&doc, syntax.into()).iter().map(|f| f.rule).collect();
            for (id, rule_syntax, fire) in &expectations {
                if !rules::is_implemented(id, *rule_syntax) {
                    tally.skip(id);
                } else if fired.contains(id.as_str()) == *fire {
                    tally.pass(id);
                } else {
                    let expected = if *fire { "fire" } else { "hold" };
                    tally.fail(id, format!("{}#{index} {id} should {expected}: {}", case["file"], case["description"]));
                }
            }
        }
    }
    let failures = tally.report("XRechnung mutation cases, per rule family");
    assert_eq!(failures, 0, "mutation cases failed");
}
