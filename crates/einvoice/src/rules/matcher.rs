//! Matching a rule context (an XSLT pattern) against one node, right to left, as an XSLT
//! processor does, so that every pattern is evaluated in one walk over the tree instead of
//! selecting its nodes from the root.
//!
//! Supported: unions, `/`, `//`, child and attribute steps, a leading `/` or `/*`, filters and
//! predicates that are not positional. Anything else (a positional predicate, another axis)
//! falls back to selecting the pattern's nodes from the root once per document.

use crate::xpath::{Axis, Evaluator, Expr, NodeTest, XNode};

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

/// `true` if `pattern` can be matched right to left by [`matches`].
pub fn supported(pattern: &Expr) -> bool {
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

/// `true` if `node` matches the (supported) pattern. The names along the pattern are checked
/// before any predicate is evaluated (predicates have no side effects, and an error in one
/// means no match, so the order does not change the answer).
pub fn matches<'a, 'i>(eval: &mut Evaluator<'a, 'i>, pattern: &Expr, node: XNode<'a, 'i>) -> bool {
    pattern_matches(eval, pattern, node, false) && pattern_matches(eval, pattern, node, true)
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
        ] {
            let raw = Expr::compile_raw(text, UBL_NAMESPACES).expect("compiles");
            assert!(supported(&raw), "{text}");
            let selected =
                eval.eval(&Expr::compile_pattern(text, UBL_NAMESPACES).expect("compiles"), XNode::new(doc.root()));
            let selected: Vec<_> = selected.expect("evaluates").into_iter().collect();
            let mut matched = Vec::new();
            for element in doc.descendants().filter(roxmltree::Node::is_element) {
                let attributes = (0..element.attributes().len()).map(|i| XNode { node: element, attr: Some(i) });
                for node in std::iter::once(XNode::new(element)).chain(attributes) {
                    if matches(&mut eval, &raw, node) {
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
}
