//! Matching a rule context (an XSLT pattern) against one node, right to left, as an XSLT
//! processor does, so that every pattern is evaluated in one walk over the tree instead of
//! selecting its nodes from the root.
//!
//! Supported: unions, `/`, `//`, child and attribute steps, a leading `/` or `/*`, filters and
//! predicates that are not positional. Anything else (a positional predicate, another axis)
//! falls back to selecting the pattern's nodes from the root once per document.

use crate::xpath::{Axis, Evaluator, Expr, NodeTest, XNode, matches_test};

/// What a compiled pattern's last step can match, for indexing contexts by element name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LastStep {
    /// An element or attribute with this namespace and local name.
    Name { attribute: bool, ns: String, local: String },
    /// Anything (a wildcard, or a pattern the index cannot narrow).
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
        Expr::Step { axis, test: NodeTest::Name { ns: Some(ns), local: Some(local) }, .. } => out
            .push(LastStep::Name { attribute: *axis == Axis::Attribute, ns: ns.to_string(), local: local.to_string() }),
        _ => out.push(LastStep::Any),
    }
}

/// `true` if `node` matches the (supported) pattern.
pub fn matches<'a, 'i>(eval: &mut Evaluator<'a, 'i>, pattern: &Expr, node: XNode<'a, 'i>) -> bool {
    match pattern {
        Expr::Union(a, b) => matches(eval, a, node) || matches(eval, b, node),
        Expr::Root => node.attr.is_none() && node.node.parent().is_none(),
        Expr::Step { axis, test, preds } => {
            // A relative pattern: the step's node must have a parent (an attribute its element).
            let has_parent = node.attr.is_some() || node.node.parent().is_some();
            has_parent && matches_test(&node, test, *axis == Axis::Attribute) && predicates_hold(eval, preds, node)
        }
        Expr::Filter { base, preds } => matches(eval, base, node) && predicates_hold(eval, preds, node),
        Expr::Path(first, step) => {
            if !matches(eval, step, node) {
                return false;
            }
            let Some(parent) = parent(node) else { return false };
            match &**first {
                Expr::Path(inner, dos) if is_descendant_or_self(dos) => {
                    // `inner//step`: some ancestor of the node matches `inner`.
                    let mut current = Some(parent);
                    while let Some(ancestor) = current {
                        if matches(eval, inner, ancestor) {
                            return true;
                        }
                        current = self::parent(ancestor);
                    }
                    false
                }
                _ => matches(eval, first, parent),
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
