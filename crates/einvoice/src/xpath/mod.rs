//! A small XPath 2.0 evaluator over `roxmltree`, covering what the EN 16931 and XRechnung
//! schematron asserts use: paths on the child, attribute, parent, self, ancestor, sibling and
//! descendant axes with predicates; general and value comparisons; `and`/`or`; arithmetic on
//! decimals and doubles; `for`/`some`/`every`/`if`; casts; and the string, number, sequence and regular
//! expression functions of the rule sets.
//!
//! Rules are compiled once (see [`Expr::compile`]) and evaluated on any node, so a rule reads
//! exactly like its schematron `<assert test="…">` and works on fragments as well as on whole
//! invoices. Literals, `xs:decimal()` and `xs:integer()` values are exact decimals, unbounded
//! up to 4,000 digits ([`crate::decimal::XsDecimal`]); as in XPath, arithmetic and `sum()` on
//! untyped values (a node's text) are `xs:double`, so that the edge cases
//! (`xs:decimal(cbc:TaxableAmount - 1)`, `round(1.005 * 100)`) come out as in Saxon.
//! `bench/differential.py` compares the rules' results with Saxon's on mutated invoices.
//!
//! How it stays fast (every shortcut gives exactly the answer of the plain evaluation):
//! - Names are interned when an expression is compiled, and an [`Evaluator`] indexes each
//!   document once (`index.rs`): a name test compares two integers, a name the document lacks
//!   ends a step at once, descendant steps and `//@name` read per-name lists of the nodes in
//!   document order, and a child step reads them when they are fewer than the children.
//! - A path with a step whose name the document lacks selects nothing, answered before it is
//!   evaluated when no predicate would run before that step (the "shall not be used" rules).
//! - In a boolean context (`not()`, `and`, predicates, asserts) paths are walked lazily up to the
//!   first node, and connectives, comparisons and the string predicates build no sequences;
//!   comparisons with a literal, `sum()`, `xs:decimal()`, `string-length()`,
//!   `substring-after()`/`-before()` and `normalize-space(…) = '…'` read a node's text in place.
//! - Absolute paths without variables, and their prefixes, are computed once per document and
//!   shared by every expression that spells them alike; regular expressions are compiled once
//!   per process; `name()` is computed once per element and `contains()` on a long code list
//!   once per looked-up string.

mod eval;
mod index;
mod parse;

pub use eval::{Evaluator, Item, Value, XNode, holds_when_absent, matches_test, string_value};
pub use index::WORK_LIMIT;
pub(crate) use index::interned_names;
pub use parse::{Axis, Expr, Func, NodeTest};

/// XML whitespace (the `S` production: space, tab, carriage return, line feed), which XPath's
/// `normalize-space()` and the XSD whitespace facet remove; other Unicode spaces (no-break
/// space, em space) are characters like any other.
pub fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// `text` without XML whitespace at either end.
pub(crate) fn xml_trim(text: &str) -> &str {
    text.trim_matches(is_xml_space)
}

/// A failure to compile or evaluate an expression, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XPathError(pub String);

impl std::fmt::Display for XPathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for XPathError {}

/// Prefix → namespace bindings used when compiling expressions.
pub type Namespaces = [(&'static str, &'static str)];

/// Prefixes of the UBL schematron.
pub const UBL_NAMESPACES: &Namespaces = &[
    ("ubl", crate::reader::ns::UBL_INVOICE),
    ("cn", crate::reader::ns::UBL_CREDIT_NOTE),
    ("ubl-invoice", crate::reader::ns::UBL_INVOICE),
    ("ubl-creditnote", crate::reader::ns::UBL_CREDIT_NOTE),
    ("cac", crate::reader::ns::CAC),
    ("cbc", crate::reader::ns::CBC),
    ("ext", crate::reader::ns::EXT),
    ("qdt", "urn:oasis:names:specification:ubl:schema:xsd:QualifiedDataTypes-2"),
    ("udt", "urn:oasis:names:specification:ubl:schema:xsd:UnqualifiedDataTypes-2"),
    ("xs", "http://www.w3.org/2001/XMLSchema"),
];

/// Prefixes of the CII schematron.
pub const CII_NAMESPACES: &Namespaces = &[
    ("rsm", crate::reader::ns::CII),
    ("ram", crate::reader::ns::RAM),
    ("udt", crate::reader::ns::UDT),
    ("qdt", crate::reader::ns::QDT),
    ("ccts", "urn:un:unece:uncefact:documentation:standard:CoreComponentsTechnicalSpecification:2"),
    ("xs", "http://www.w3.org/2001/XMLSchema"),
];

#[cfg(test)]
mod tests;
