//! Matching a rule context (an XSLT pattern) against one node, right to left, as an XSLT
//! processor does, so that every pattern is evaluated in one walk over the tree instead of
//! selecting its nodes from the root.
//!
//! Supported: unions, `/`, `//`, child and attribute steps, a leading `/` or `/*`, filters and
//! predicates that are not positional. Anything else (a positional predicate, another axis)
//! falls back to selecting the pattern's nodes from the root once per document.

use crate::xpath::{Axis, Evaluator, Expr, Func, NodeTest, XNode, matches_test};
use std::sync::Arc;

/// What a compiled pattern's last step can match, for indexing contexts by node name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LastStep {
    /// An element or attribute with this interned name ([`NodeTest::Name`]'s id).
    Name { attribute: bool, id: u32 },
    /// An element (or, when `attribute`, an attribute) of any name: `*`, `ram:*`, `@*`.
    AnyOf { attribute: bool },
    /// Anything (a pattern the index cannot narrow).
    Any,
}

/// `true` if `pattern` can be matched right to left by [`Pattern::matches`].
fn supported(pattern: &Expr) -> bool {
    match pattern {
        Expr::Union(a, b) => supported(a) && supported(b),
        Expr::Root => true,
        Expr::Step { axis: Axis::Child | Axis::Attribute, preds, .. } => preds.iter().all(not_positional),
        Expr::Filter { base, preds } => supported(base) && preds.iter().all(not_positional),
        Expr::Path(first, step) => match (&**first, &**step) {
            (Expr::Path(inner, dos), _) if is_descendant_or_self(dos) => supported(inner) && supported(step),
            (_, Expr::Step { axis: Axis::Child | Axis::Attribute, .. }) => supported(first) && supported(step),
            _ => false,
        },
        _ => false,
    }
}

fn is_descendant_or_self(expr: &Expr) -> bool {
    matches!(expr, Expr::Step { axis: Axis::DescendantOrSelf, test: NodeTest::AnyNode, preds } if preds.is_empty())
}

/// A predicate whose value could be a number (and so select by position) is positional.
fn not_positional(pred: &Expr) -> bool {
    match pred {
        // A variable in a context is one of the schematron's boolean switches ($isExtension, $isCVD).
        Expr::Num(_) | Expr::Arith(..) | Expr::Neg(_) => false,
        Expr::Call { name, .. } => !matches!(&**name, "position" | "last" | "count" | "number" | "sum"),
        _ => true,
    }
}

/// The last steps a pattern can end in (for the index).
pub fn last_steps(pattern: &Expr, out: &mut Vec<LastStep>) {
    match pattern {
        Expr::Union(a, b) => {
            last_steps(a, out);
            last_steps(b, out);
        }
        Expr::Path(_, step) => last_steps(step, out),
        Expr::Filter { base, .. } => last_steps(base, out),
        Expr::Step { axis: axis @ (Axis::Child | Axis::Attribute), test: NodeTest::Name { id, .. }, .. } => {
            let attribute = *axis == Axis::Attribute;
            out.push(if *id == 0 { LastStep::AnyOf { attribute } } else { LastStep::Name { attribute, id: *id } });
        }
        _ => out.push(LastStep::Any),
    }
}

/// A rule context that [`supported`] takes, ready to be matched against nodes.
pub struct Pattern {
    expr: Expr,
    /// Whether a step or filter of the pattern has predicates; without any, the names decide.
    predicates: bool,
    /// The names along each branch of the pattern, for the names-only check (`None` when a
    /// branch has a shape [`Chain::of`] does not take).
    chains: Option<Vec<Chain>>,
    /// The largest name id in `chains` (the document index must know it).
    max_id: u32,
}

impl Pattern {
    /// The pattern, if it can be matched right to left.
    pub fn new(expr: Expr) -> Option<Pattern> {
        if !supported(&expr) {
            return None;
        }
        let mut branches = Vec::new();
        union_branches(&expr, &mut branches);
        let chains: Option<Vec<Chain>> = branches.into_iter().map(Chain::of).collect();
        let max_id = chains.iter().flatten().flat_map(|c| &c.links).map(|l| l.id).max().unwrap_or(0);
        Some(Pattern { predicates: has_predicates(&expr), expr, chains, max_id })
    }

    /// The pattern as compiled.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// `true` if `node` matches the pattern. The names along the pattern are checked before any
    /// predicate is evaluated (predicates have no side effects, and an error in one means no
    /// match, so the order does not change the answer).
    pub fn matches<'a, 'i>(&self, eval: &mut Evaluator<'a, 'i>, node: XNode<'a, 'i>) -> bool {
        let names = match &self.chains {
            Some(chains) if eval.names_known(node.node.document()) > self.max_id => {
                chains.iter().any(|chain| chain.matches(eval, &chain.links, node))
            }
            _ => pattern_matches(eval, &self.expr, node, false),
        };
        names && (!self.predicates || pattern_matches(eval, &self.expr, node, true))
    }
}

fn union_branches<'e>(pattern: &'e Expr, out: &mut Vec<&'e Expr>) {
    if let Expr::Union(a, b) = pattern {
        union_branches(a, out);
        union_branches(b, out);
    } else {
        out.push(pattern);
    }
}

/// The names along one branch of a pattern, read right to left with the document index's name
/// ids: what [`pattern_matches`] checks with `predicates` false, without walking the expression.
struct Chain {
    /// The steps from the last (the node matched) to the first.
    links: Vec<Link>,
    anchor: Anchor,
}

struct Link {
    /// The interned name, or 0 for a wildcard (tested by [`matches_test`] on `test`).
    id: u32,
    test: NodeTest,
    attribute: bool,
    /// `//` before this step: the steps to its left match some ancestor, not the parent.
    gap: bool,
}

/// What the first step's node must stand under.
#[derive(Clone, Copy)]
enum Anchor {
    /// A relative pattern (`cac:X/cbc:Y`) or `//cbc:Y`: any parent.
    Parent,
    /// `/ubl:Invoice`: the document node.
    Document,
}

impl Chain {
    /// The chain of one union branch, when it is a path of child and attribute steps (with any
    /// predicates, which this check skips) joined by `/` and `//`, optionally under `/` or `//`.
    fn of(branch: &Expr) -> Option<Chain> {
        let mut links = Vec::new();
        let mut current = branch;
        let anchor = loop {
            let (first, step) = match current {
                Expr::Path(first, step) => (Some(&**first), &**step),
                step => (None, step),
            };
            links.push(Link::of(step)?);
            match first {
                None => break Anchor::Parent,
                Some(Expr::Root) => break Anchor::Document,
                Some(Expr::Path(inner, dos)) if is_descendant_or_self(dos) => {
                    if matches!(**inner, Expr::Root) {
                        break Anchor::Parent;
                    }
                    links.last_mut()?.gap = true;
                    current = inner;
                }
                Some(other) => current = other,
            }
        };
        Some(Chain { links, anchor })
    }

    /// `true` if `node` and its ancestors bear the names of `links` (a suffix of this chain's).
    fn matches<'a, 'i>(&self, eval: &Evaluator<'a, 'i>, links: &[Link], node: XNode<'a, 'i>) -> bool {
        let Some((link, rest)) = links.split_first() else { return true };
        if !link.admits(eval, node) {
            return false;
        }
        let Some(parent) = parent(node) else { return false };
        if rest.is_empty() {
            return match self.anchor {
                Anchor::Parent => true,
                Anchor::Document => parent.attr.is_none() && parent.node.parent().is_none(),
            };
        }
        if !link.gap {
            return self.matches(eval, rest, parent);
        }
        let mut ancestor = Some(parent);
        while let Some(candidate) = ancestor {
            if self.matches(eval, rest, candidate) {
                return true;
            }
            ancestor = self::parent(candidate);
        }
        false
    }
}

impl Link {
    fn of(step: &Expr) -> Option<Link> {
        match step {
            Expr::Filter { base, .. } => Link::of(base),
            Expr::Step {
                axis: axis @ (Axis::Child | Axis::Attribute), test: test @ NodeTest::Name { id, .. }, ..
            } => Some(Link { id: *id, test: test.clone(), attribute: *axis == Axis::Attribute, gap: false }),
            _ => None,
        }
    }

    /// The name test of the step, by interned id where it has one.
    fn admits(&self, eval: &Evaluator<'_, '_>, node: XNode<'_, '_>) -> bool {
        match eval.name_id(&node) {
            Some(id) if self.id != 0 => self.attribute == node.attr.is_some() && id == self.id,
            _ => matches_test(&node, &self.test, self.attribute),
        }
    }
}

fn has_predicates(pattern: &Expr) -> bool {
    match pattern {
        Expr::Union(a, b) | Expr::Path(a, b) => has_predicates(a) || has_predicates(b),
        Expr::Step { preds, .. } => !preds.is_empty(),
        Expr::Filter { base, preds } => !preds.is_empty() || has_predicates(base),
        _ => false,
    }
}

/// Whether `node` matches `pattern`; with `predicates` false every predicate is taken as true
/// (a necessary condition, names only).
fn pattern_matches<'a, 'i>(
    eval: &mut Evaluator<'a, 'i>,
    pattern: &Expr,
    node: XNode<'a, 'i>,
    predicates: bool,
) -> bool {
    let holds = |eval: &mut Evaluator<'a, 'i>, preds: &[Expr]| !predicates || predicates_hold(eval, preds, node);
    match pattern {
        Expr::Union(a, b) => pattern_matches(eval, a, node, predicates) || pattern_matches(eval, b, node, predicates),
        Expr::Root => node.attr.is_none() && node.node.parent().is_none(),
        Expr::Step { axis, test, preds } => {
            // A relative pattern: the step's node must have a parent (an attribute its element).
            let has_parent = node.attr.is_some() || node.node.parent().is_some();
            has_parent && eval.name_test(&node, test, *axis == Axis::Attribute) && holds(eval, preds)
        }
        Expr::Filter { base, preds } => pattern_matches(eval, base, node, predicates) && holds(eval, preds),
        Expr::Path(first, step) => {
            if !pattern_matches(eval, step, node, predicates) {
                return false;
            }
            let Some(parent) = parent(node) else { return false };
            match &**first {
                // `//step`: every node lies below the document node.
                Expr::Path(inner, dos) if is_descendant_or_self(dos) && matches!(**inner, Expr::Root) => true,
                Expr::Path(inner, dos) if is_descendant_or_self(dos) => {
                    // `inner//step`: some ancestor of the node matches `inner`.
                    let mut current = Some(parent);
                    while let Some(ancestor) = current {
                        if pattern_matches(eval, inner, ancestor, predicates) {
                            return true;
                        }
                        current = self::parent(ancestor);
                    }
                    false
                }
                _ => pattern_matches(eval, first, parent, predicates),
            }
        }
        _ => false,
    }
}

/// A condition on a node's expanded name alone, read off a pattern's predicates: the
/// data-type rules' contexts (`//ram:*[ends-with(name(), 'ID')]`) may match an element of any
/// name, so every element is offered to them; one that fails their name test is turned away
/// here without evaluating the pattern.
#[derive(Debug, PartialEq)]
pub enum NameFilter {
    /// `ends-with(name(), 'suffix')`, the suffix without a colon: the local name ends so.
    EndsWith(Arc<str>),
    /// `self::p:name`: an element of that name.
    Is {
        ns: Arc<str>,
        local: Arc<str>,
    },
    Not(Box<NameFilter>),
    And(Box<NameFilter>, Box<NameFilter>),
    Or(Box<NameFilter>, Box<NameFilter>),
}

impl NameFilter {
    /// What a node must satisfy by its name to match `pattern` (beyond the names along the
    /// pattern): the conjuncts of the last step's predicates that test the name only. `None`
    /// when there are none.
    pub fn of_pattern(pattern: &Expr) -> Option<NameFilter> {
        match pattern {
            Expr::Union(a, b) => Some(NameFilter::Or(Box::new(Self::of_pattern(a)?), Box::new(Self::of_pattern(b)?))),
            Expr::Path(_, step) => Self::of_pattern(step),
            Expr::Filter { base, preds } => both(Self::of_pattern(base), conjuncts(preds)),
            Expr::Step { axis: Axis::Child | Axis::Attribute, preds, .. } => conjuncts(preds),
            _ => None,
        }
    }

    /// `expr` as a name condition when it is one exactly.
    fn exact(expr: &Expr) -> Option<NameFilter> {
        match expr {
            Expr::Call { func: Func::EndsWith, args, .. } => match &args[..] {
                [Expr::Call { func: Func::Name, args: none, .. }, Expr::Str(suffix)]
                    if none.is_empty() && !suffix.contains(':') =>
                {
                    Some(NameFilter::EndsWith(suffix.clone()))
                }
                _ => None,
            },
            Expr::Call { func: Func::Not, args, .. } => match &args[..] {
                [arg] => Some(NameFilter::Not(Box::new(Self::exact(arg)?))),
                _ => None,
            },
            Expr::And(a, b) => Some(NameFilter::And(Box::new(Self::exact(a)?), Box::new(Self::exact(b)?))),
            Expr::Or(a, b) => Some(NameFilter::Or(Box::new(Self::exact(a)?), Box::new(Self::exact(b)?))),
            Expr::Step { axis: Axis::Itself, test: NodeTest::Name { ns: Some(ns), local: Some(local), .. }, preds }
                if preds.is_empty() =>
            {
                Some(NameFilter::Is { ns: ns.clone(), local: local.clone() })
            }
            _ => None,
        }
    }

    /// `true` if `node` passes by its kind and expanded name.
    pub fn admits_node(&self, node: XNode<'_, '_>) -> bool {
        let (ns, local) = node.name().unwrap_or_default();
        self.admits(node.attr.is_some(), ns, local)
    }

    /// `true` if a node of this kind and expanded name passes.
    pub fn admits(&self, attribute: bool, ns: &str, local: &str) -> bool {
        match self {
            NameFilter::EndsWith(suffix) => local.ends_with(&**suffix),
            // The self axis holds elements only (its principal node kind).
            NameFilter::Is { ns: n, local: l } => !attribute && **n == *ns && **l == *local,
            NameFilter::Not(f) => !f.admits(attribute, ns, local),
            NameFilter::And(a, b) => a.admits(attribute, ns, local) && b.admits(attribute, ns, local),
            NameFilter::Or(a, b) => a.admits(attribute, ns, local) || b.admits(attribute, ns, local),
        }
    }
}

/// The conjunction of the name conditions among the predicates' `and`-ed parts.
fn conjuncts(preds: &[Expr]) -> Option<NameFilter> {
    fn collect(expr: &Expr, out: &mut Option<NameFilter>) {
        if let Expr::And(a, b) = expr {
            collect(a, out);
            collect(b, out);
        } else if let Some(filter) = NameFilter::exact(expr) {
            *out = both(out.take(), Some(filter));
        }
    }
    let mut out = None;
    preds.iter().for_each(|pred| collect(pred, &mut out));
    out
}

fn both(a: Option<NameFilter>, b: Option<NameFilter>) -> Option<NameFilter> {
    match (a, b) {
        (Some(a), Some(b)) => Some(NameFilter::And(Box::new(a), Box::new(b))),
        (a, b) => a.or(b),
    }
}

fn parent<'a, 'i>(node: XNode<'a, 'i>) -> Option<XNode<'a, 'i>> {
    if node.attr.is_some() { Some(XNode::new(node.node)) } else { node.node.parent().map(XNode::new) }
}

fn predicates_hold<'a, 'i>(eval: &mut Evaluator<'a, 'i>, preds: &[Expr], node: XNode<'a, 'i>) -> bool {
    preds.iter().all(|pred| eval.test(pred, node).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xpath::UBL_NAMESPACES;

    #[test]
    fn a_pattern_matches_exactly_the_nodes_it_selects_from_the_root() {
        let xml = r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
            xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
            xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
            <cac:InvoiceLine><cbc:ID>1</cbc:ID><cac:Item><cbc:Name currencyID="X">A</cbc:Name></cac:Item></cac:InvoiceLine>
            <cac:InvoiceLine><cbc:ID>2</cbc:ID></cac:InvoiceLine><cbc:ID>3</cbc:ID></Invoice>"#;
        let doc = roxmltree::Document::parse(xml).expect("xml");
        let mut eval = Evaluator::new();
        for text in [
            "cac:InvoiceLine/cbc:ID",
            "/ubl:Invoice/cbc:ID | cac:Item",
            "//cac:InvoiceLine[cbc:ID = '2']",
            "/*/cac:InvoiceLine//cbc:Name/@currencyID",
            "cbc:ID[. != '1']",
            "cac:Item//@currencyID | /*//cac:Item/cbc:Name",
            "//*/cbc:Name[../../cbc:ID = '1']",
            "/ubl:Invoice//cac:InvoiceLine//cbc:Name",
        ] {
            let pattern = Pattern::new(Expr::compile_raw(text, UBL_NAMESPACES).expect("compiles")).expect(text);
            assert!(pattern.chains.is_some(), "{text}: names checked by chain");
            let selected =
                eval.eval(&Expr::compile_pattern(text, UBL_NAMESPACES).expect("compiles"), XNode::new(doc.root()));
            let selected: Vec<_> = selected.expect("evaluates").into_iter().collect();
            let mut matched = Vec::new();
            for element in doc.descendants().filter(roxmltree::Node::is_element) {
                let attributes = (0..element.attributes().len()).map(|i| XNode { node: element, attr: Some(i) });
                for node in std::iter::once(XNode::new(element)).chain(attributes) {
                    if pattern.matches(&mut eval, node) {
                        matched.push(node);
                    }
                }
            }
            assert_eq!(
                format!("{selected:?}"),
                format!("{:?}", matched.into_iter().map(crate::xpath::Item::Node).collect::<Vec<_>>()),
                "{text}"
            );
            assert!(!selected.is_empty(), "{text}");
        }
        assert!(!supported(&Expr::compile_raw("cac:InvoiceLine[1]", UBL_NAMESPACES).expect("compiles")));
    }

    #[test]
    fn a_name_filter_is_read_off_name_only_predicates_and_never_turns_away_a_match() {
        let xml = r#"<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
            xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
            xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
            <cbc:TaxAmount>1</cbc:TaxAmount><cbc:PriceAmount>2</cbc:PriceAmount><cbc:Amount a="x">3</cbc:Amount>
            <cac:Price><cac:AllowanceCharge><cbc:Amount>4</cbc:Amount></cac:AllowanceCharge></cac:Price>
            <cbc:TaxTotalAmount>5</cbc:TaxTotalAmount><cac:TaxTotalAmount>6</cac:TaxTotalAmount></Invoice>"#;
        let doc = roxmltree::Document::parse(xml).expect("xml");
        let mut eval = Evaluator::new();
        let cases = [
            // (pattern, has a filter, nodes it admits)
            (
                "//*[ends-with(name(), 'Amount') and not(ends-with(name(),'PriceAmount')) and not(ancestor::cac:Price/cac:AllowanceCharge)]",
                true,
                5,
            ),
            ("//cbc:*[ends-with(name(), 'Amount') and not (self::cbc:TaxTotalAmount)]", true, 5),
            ("//*[ends-with(name(), 'Amount') or self::cac:Price]", true, 7),
            ("//*[ends-with(local-name(), 'Amount')]", false, 0),
            ("cbc:Amount[. = '3'] | cac:Price", false, 0),
        ];
        for (text, has_filter, admitted) in cases {
            let pattern = Pattern::new(Expr::compile_raw(text, UBL_NAMESPACES).expect("compiles")).expect(text);
            let filter = NameFilter::of_pattern(pattern.expr());
            assert_eq!(filter.is_some(), has_filter, "{text}");
            let Some(filter) = filter else { continue };
            let mut count = 0;
            for element in doc.descendants().filter(roxmltree::Node::is_element) {
                let attributes = (0..element.attributes().len()).map(|i| XNode { node: element, attr: Some(i) });
                for node in std::iter::once(XNode::new(element)).chain(attributes) {
                    let (ns, local) = node.name().expect("named");
                    let admits = filter.admits(node.attr.is_some(), ns, local);
                    count += usize::from(admits);
                    assert!(admits || !pattern.matches(&mut eval, node), "{text} turns away a match");
                }
            }
            assert_eq!(count, admitted, "{text}");
        }
    }
}
