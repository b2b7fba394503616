//! The business-rule engine: the schematron rules of EN 16931 (CEN) and XRechnung, evaluated
//! natively on the XML tree with the XPath evaluator of [`crate::xpath`].
//!
//! A rule family is one table `data/rules/NAME.tsv` of [`RuleDef`]s, generated from the
//! schematron by `tools/gen_rules.py`, and one line in [`FAMILIES`]. The engine keeps
//! schematron's semantics: a rule context is an XSLT pattern that matches anywhere in the tree;
//! within one pattern each node is handled by the first rule whose context matches it; an assert
//! fires when its test is false, a report when it is true. Because evaluation starts from the
//! tree, not from a complete invoice, the rules work on the fragments of the CEN unit tests.

use crate::reader::Syntax;
use crate::xpath::{CII_NAMESPACES, Expr, Item, UBL_NAMESPACES, XNode, XPathError};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

/// A rule family: a name and its table of asserts (`data/rules/NAME.tsv`).
pub struct Family {
    pub name: &'static str,
    pub table: &'static str,
}

const fn family(name: &'static str, table: &'static str) -> Family {
    Family { name, table }
}

/// The registry: every rule family. Add a family with one line here (the generator prints it).
pub static FAMILIES: &[Family] = &[
    family("br_core", include_str!("../../data/rules/br_core.tsv")),
    family("br_co", include_str!("../../data/rules/br_co.tsv")),
    family("br_dec", include_str!("../../data/rules/br_dec.tsv")),
    family("br_s", include_str!("../../data/rules/br_s.tsv")),
    family("br_z", include_str!("../../data/rules/br_z.tsv")),
    family("br_e", include_str!("../../data/rules/br_e.tsv")),
    family("br_ae", include_str!("../../data/rules/br_ae.tsv")),
    family("br_ic", include_str!("../../data/rules/br_ic.tsv")),
    family("br_g", include_str!("../../data/rules/br_g.tsv")),
    family("br_o", include_str!("../../data/rules/br_o.tsv")),
    family("br_af", include_str!("../../data/rules/br_af.tsv")),
    family("br_ag", include_str!("../../data/rules/br_ag.tsv")),
    family("br_b", include_str!("../../data/rules/br_b.tsv")),
];

/// A rule's severity as the schematron flags it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    /// An error: the invoice is rejected.
    Fatal,
    /// A warning: reported, the invoice is still accepted.
    Warning,
    /// Information only.
    Information,
}

impl Flag {
    /// Stable lower-case name (`fatal`, `warning`, `information`).
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Fatal => "fatal",
            Flag::Warning => "warning",
            Flag::Information => "information",
        }
    }
}

/// Which schematron a rule was written for: the two UBL roots share one, CII has its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleSyntax {
    Ubl,
    Cii,
}

impl From<Syntax> for RuleSyntax {
    fn from(syntax: Syntax) -> Self {
        if syntax.is_ubl() { RuleSyntax::Ubl } else { RuleSyntax::Cii }
    }
}

/// One schematron assert (or report), as generated into a family table.
#[derive(Debug)]
pub struct RuleDef {
    /// The rule id, e.g. `BR-CO-15`.
    pub id: &'static str,
    pub syntax: RuleSyntax,
    /// The rule set it comes from, e.g. `CEN-EN16931-1.3.16`.
    pub source: &'static str,
    /// The schematron pattern; first-match semantics apply within one pattern.
    pub pattern: &'static str,
    /// Position of the rule (context) within its pattern.
    pub order: u32,
    /// The rule context, an XSLT match pattern.
    pub context: &'static str,
    /// Schematron `<let>` variables of the rule, in order.
    pub lets: Vec<(&'static str, &'static str)>,
    pub flag: Flag,
    /// `true` for a `<report>` (fires when the test holds), `false` for an `<assert>`.
    pub report: bool,
    /// The XPath test, verbatim.
    pub test: &'static str,
    /// The message shown when the rule fires.
    pub message: &'static str,
}

impl RuleDef {
    /// Parses one line of a family table (tab-separated, columns as in the header).
    fn parse(line: &'static str) -> Result<RuleDef, String> {
        let fields: Vec<&'static str> = line.split('\t').collect();
        let [id, syntax, source, pattern, order, context, lets, flag, kind, test, message] = fields[..] else {
            return Err(format!("{} columns instead of 11: {line}", fields.len()));
        };
        let syntax = match syntax {
            "Ubl" => RuleSyntax::Ubl,
            "Cii" => RuleSyntax::Cii,
            other => return Err(format!("unknown syntax {other}")),
        };
        let flag = match flag {
            "Fatal" => Flag::Fatal,
            "Warning" => Flag::Warning,
            "Information" => Flag::Information,
            other => return Err(format!("unknown flag {other}")),
        };
        let lets = lets
            .split('\u{1f}')
            .filter(|l| !l.is_empty())
            .map(|l| l.split_once('\u{1e}').ok_or_else(|| format!("bad let {l}")))
            .collect::<Result<_, _>>()?;
        Ok(RuleDef {
            id,
            syntax,
            source,
            pattern,
            order: order.parse().map_err(|_| format!("bad order {order}"))?,
            context,
            lets,
            flag,
            report: kind == "report",
            test,
            message,
        })
    }
}

/// The rows of every family table that are not comments or headers.
fn table_lines() -> impl Iterator<Item = &'static str> {
    FAMILIES
        .iter()
        .flat_map(|f| f.table.lines())
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with("id\t"))
}

/// Every registered rule definition, parsed once.
pub fn definitions() -> &'static [RuleDef] {
    static DEFINITIONS: OnceLock<Vec<RuleDef>> = OnceLock::new();
    // Malformed lines are caught by a unit test; at run time they are left out.
    DEFINITIONS.get_or_init(|| table_lines().filter_map(|line| RuleDef::parse(line).ok()).collect())
}

/// A rule as reported: id, severity and message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub flag: Flag,
    pub message: &'static str,
}

/// A rule that fired on a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Flag,
    pub message: String,
    /// An XPath-like path to the context node, e.g.
    /// `/Invoice/cac:LegalMonetaryTotal[1]/cbc:PayableAmount[1]`.
    pub location: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}) at {}: {}", self.rule, self.severity.as_str(), self.location, self.message)
    }
}

struct CompiledAssert {
    def: &'static RuleDef,
    test: Expr,
}

struct CompiledContext {
    pattern: &'static str,
    matcher: Expr,
    lets: Vec<(&'static str, Expr)>,
    asserts: Vec<CompiledAssert>,
}

/// All rules of one syntax, compiled once.
pub struct RuleSet {
    contexts: Vec<CompiledContext>,
}

impl RuleSet {
    /// Compiles the rules of every registered family for `syntax`.
    pub fn compile(syntax: RuleSyntax) -> Result<RuleSet, XPathError> {
        let namespaces = match syntax {
            RuleSyntax::Ubl => UBL_NAMESPACES,
            RuleSyntax::Cii => CII_NAMESPACES,
        };
        let compile = |what: &str, text: &str, id: &str| {
            Expr::compile(text, namespaces).map_err(|e| XPathError(format!("{id} {what}: {e}")))
        };
        // Group asserts by (source, pattern, order): the schematron rule they belong to.
        let mut groups: BTreeMap<(&str, &str, u32), Vec<&'static RuleDef>> = BTreeMap::new();
        for def in definitions().iter().filter(|d| d.syntax == syntax) {
            groups.entry((def.source, def.pattern, def.order)).or_default().push(def);
        }
        let mut contexts = Vec::with_capacity(groups.len());
        for ((_, pattern, _), defs) in groups {
            let first = defs[0];
            let matcher = Expr::compile_pattern(first.context, namespaces)
                .map_err(|e| XPathError(format!("{} context: {e}", first.id)))?;
            let lets = first
                .lets
                .iter()
                .map(|(name, value)| Ok((*name, compile("let", value, first.id)?)))
                .collect::<Result<_, XPathError>>()?;
            let asserts = defs
                .into_iter()
                .map(|def| Ok(CompiledAssert { def, test: compile("test", def.test, def.id)? }))
                .collect::<Result<_, XPathError>>()?;
            contexts.push(CompiledContext { pattern, matcher, lets, asserts });
        }
        Ok(RuleSet { contexts })
    }

    /// The compiled rules of a syntax, shared by every evaluation.
    pub fn of(syntax: RuleSyntax) -> &'static RuleSet {
        static UBL: OnceLock<RuleSet> = OnceLock::new();
        static CII: OnceLock<RuleSet> = OnceLock::new();
        let cell = match syntax {
            RuleSyntax::Ubl => &UBL,
            RuleSyntax::Cii => &CII,
        };
        // The tables are generated from the schematron and compiled by a unit test, so a
        // failure here is a build defect; an empty set keeps the reader usable meanwhile.
        cell.get_or_init(|| RuleSet::compile(syntax).unwrap_or(RuleSet { contexts: Vec::new() }))
    }

    /// Evaluates every rule on the tree below `doc`'s root and returns the fired rules in the
    /// order of the schematron: pattern by pattern, node by node.
    pub fn evaluate(&self, doc: &roxmltree::Document<'_>) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut claimed: HashSet<(&str, (usize, usize))> = HashSet::new();
        let mut eval = crate::xpath::Evaluator::new();
        let root = XNode::new(doc.root());
        for context in &self.contexts {
            let matched = match eval.eval(&context.matcher, root) {
                Ok(nodes) => nodes,
                Err(_) => continue,
            };
            for item in matched {
                let Item::Node(node) = item else { continue };
                if !claimed.insert((context.pattern, node.order_key())) {
                    continue;
                }
                let mut bound = 0;
                for (name, value) in &context.lets {
                    let value = eval.eval(value, node).unwrap_or_default();
                    eval.bind(name, value);
                    bound += 1;
                }
                for assert in &context.asserts {
                    let fired = match eval.test(&assert.test, node) {
                        Ok(holds) => holds == assert.def.report,
                        // A dynamic error (e.g. a non-numeric amount) means the rule cannot hold.
                        Err(_) => true,
                    };
                    if fired {
                        findings.push(Finding {
                            rule: assert.def.id,
                            severity: assert.def.flag,
                            message: assert.def.message.to_string(),
                            location: location(node),
                        });
                    }
                }
                eval.unbind(bound);
            }
        }
        findings
    }
}

/// Evaluates all registered rules of `syntax` on a parsed document or fragment.
pub fn evaluate(doc: &roxmltree::Document<'_>, syntax: RuleSyntax) -> Vec<Finding> {
    RuleSet::of(syntax).evaluate(doc)
}

/// Every registered rule of `syntax`, one entry per rule id (the first definition wins).
pub fn rules(syntax: RuleSyntax) -> Vec<Rule> {
    let mut seen = HashSet::new();
    definitions()
        .iter()
        .filter(|d| d.syntax == syntax && seen.insert(d.id))
        .map(|d| Rule { id: d.id, flag: d.flag, message: d.message })
        .collect()
}

/// `true` if a rule with this id is implemented for `syntax`.
pub fn is_implemented(id: &str, syntax: RuleSyntax) -> bool {
    definitions().iter().any(|d| d.syntax == syntax && d.id == id)
}

/// The XPath-like location of a node: `/Invoice/cac:TaxTotal[1]/cbc:TaxAmount[1]`, with
/// `/@attr` for attributes.
pub fn location(node: XNode<'_, '_>) -> String {
    let mut steps = Vec::new();
    let mut current = Some(node.node);
    if let Some(attr) = node.attr.and_then(|i| node.node.attributes().nth(i)) {
        steps.push(format!("@{}", attr.name()));
    }
    while let Some(n) = current {
        if n.is_element() {
            let name = XNode::new(n).qualified_name();
            if n.parent().is_some_and(|p| p.is_element()) {
                let index = 1 + n.prev_siblings().skip(1).filter(|s| s.tag_name() == n.tag_name()).count();
                steps.push(format!("{name}[{index}]"));
            } else {
                steps.push(name);
            }
        }
        current = n.parent();
    }
    steps.reverse();
    format!("/{}", steps.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_table_line_parses() {
        for line in table_lines() {
            if let Err(e) = RuleDef::parse(line) {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn every_registered_rule_compiles() {
        for syntax in [RuleSyntax::Ubl, RuleSyntax::Cii] {
            if let Err(e) = RuleSet::compile(syntax) {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn a_fired_rule_names_its_location() {
        let xml = r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
            xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
            xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
            <cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUR">1.001</cbc:PayableAmount></cac:LegalMonetaryTotal>
            </Invoice>"#;
        let doc = roxmltree::Document::parse(xml).expect("xml");
        let findings = evaluate(&doc, RuleSyntax::Ubl);
        let dec = findings.iter().find(|f| f.rule == "BR-DEC-18").expect("BR-DEC-18 fires");
        assert_eq!(dec.location, "/Invoice/cac:LegalMonetaryTotal[1]");
        assert!(findings.iter().any(|f| f.rule == "BR-01" && f.location == "/Invoice"));
    }
}
