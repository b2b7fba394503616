//! The schema step: the document against the official XSDs of its syntax, as KoSIT validates
//! first — UBL 2.1 (`UBL-Invoice-2.1.xsd`, `UBL-CreditNote-2.1.xsd`) and UN/CEFACT CII D16B
//! (`CrossIndustryInvoice_100pD16B.xsd`).
//!
//! The schemas are not read at run time: `tools/gen_schema.py` turns the XSDs into the tables
//! in `data/schema/` (everything reachable from the root elements, derivations resolved), which
//! are compiled in and parsed once. Every element is checked against its declared type:
//! - element content: the children against the content model (sequence, choice, `xsd:any`,
//!   minOccurs/maxOccurs, nested; see `model`), and no text besides whitespace;
//! - attributes: required ones present, undeclared ones refused (namespace declarations are
//!   not attributes), values by their simple type and fixed values; of the `xsi:` attributes
//!   `schemaLocation` and `noNamespaceSchemaLocation` are free, `type` must name the element's
//!   own type and `nil` is refused (no element of these schemas is nillable);
//! - simple content: no child elements, and the value by its simple type (`simple`: the
//!   built-in types' lexical rules and the enumeration/length facets).
//!
//! Content matched by the lax wildcard of UBL's `ext:ExtensionContent` is assessed as XSD's
//! lax processing does: an element the schema declares globally is validated by that
//! declaration, any other one is taken as it is and only its descendants are looked at in the
//! same way (the signature schemas UBL imports for extensions, `ds:`, XAdES, are not in the
//! tables: their elements are taken as undeclared). The walk is iterative and at most as deep
//! as the reader allows; the matcher never backtracks; nothing is allocated per node unless it
//! is wrong.

mod model;
mod simple;
mod table;

use std::borrow::Cow;
use std::sync::OnceLock;

use model::{Matcher, Mismatch};
use table::{ComplexType, Content, Particle, Schema, Type, TypeId};

use crate::reader::Syntax;
use crate::rules::{Finding, Flag, location};
use crate::xpath::XNode;

/// The rule id schema findings carry.
pub const SCHEMA_RULE: &str = "SCHEMA";

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// At most this many names are listed after "expected".
const MAX_EXPECTED_NAMES: usize = 8;
/// The "type" of an element a lax wildcard took that has no declaration: XSD's `anyType`, laxly
/// assessed (any attributes and text; its children are looked at in the same way).
const LAX: TypeId = TypeId::MAX;

fn schema(syntax: Syntax) -> &'static Schema {
    static UBL: OnceLock<Schema> = OnceLock::new();
    static CII: OnceLock<Schema> = OnceLock::new();
    match syntax {
        Syntax::UblInvoice | Syntax::UblCreditNote => {
            UBL.get_or_init(|| Schema::parse(include_str!("../../data/schema/ubl.tsv")))
        }
        Syntax::Cii => CII.get_or_init(|| Schema::parse(include_str!("../../data/schema/cii.tsv"))),
    }
}

/// Checks the document against its syntax's XSD (see the module comment).
pub fn check(doc: &roxmltree::Document<'_>, syntax: Syntax) -> Vec<Finding> {
    let schema = schema(syntax);
    let root = doc.root_element();
    let mut checker = Checker { schema, findings: Vec::new(), matcher: Matcher::default() };
    let Some(root_type) = schema.root_type(root) else {
        let name = checker.display(root);
        checker.report(root, None, format!("{name} is not a root element the schema declares."));
        return checker.findings;
    };
    let mut stack = vec![(root, root_type)];
    while let Some((node, type_id)) = stack.pop() {
        checker.element(node, type_id, &mut stack);
    }
    checker.findings
}

struct Checker {
    schema: &'static Schema,
    findings: Vec<Finding>,
    matcher: Matcher,
}

type Pending<'i, 'd> = Vec<(roxmltree::Node<'i, 'd>, TypeId)>;

impl Checker {
    fn report(&mut self, node: roxmltree::Node<'_, '_>, attribute: Option<usize>, message: String) {
        let location = location(XNode { node, attr: attribute });
        self.findings.push(Finding { rule: SCHEMA_RULE, severity: Flag::Fatal, message, location });
    }

    /// An element's name with the tables' prefix for its namespace (`cbc:ID`).
    fn display(&self, node: roxmltree::Node<'_, '_>) -> String {
        let name = node.tag_name();
        match name.namespace() {
            None => name.name().to_string(),
            Some(namespace) => match self.schema.prefix_of(namespace) {
                Some(prefix) => format!("{prefix}:{}", name.name()),
                None => format!("{{{namespace}}}{}", name.name()),
            },
        }
    }

    /// Checks one element against its type and queues its children with their types.
    fn element<'i, 'd>(&mut self, node: roxmltree::Node<'i, 'd>, type_id: TypeId, pending: &mut Pending<'i, 'd>) {
        if type_id == LAX {
            self.lax_element(node, pending);
            return;
        }
        match &self.schema.types[type_id] {
            Type::Simple(simple) => {
                self.attributes(node, type_id, &[]);
                self.simple_content(node, simple);
            }
            Type::Complex(complex) => {
                self.attributes(node, type_id, &complex.attributes);
                match &complex.content {
                    Content::Simple(simple_id) => {
                        let Type::Simple(simple) = &self.schema.types[*simple_id] else { return };
                        self.simple_content(node, simple);
                    }
                    Content::Empty => self.empty_content(node),
                    Content::Elements(particle) => self.element_content(node, complex, particle, pending),
                }
            }
        }
    }

    /// The element's attributes against the declared ones; of the `xsi:` attributes only the
    /// four XSD defines are exempt from the declarations: `schemaLocation` and
    /// `noNamespaceSchemaLocation` (hints, ignored), `type` (must name the element's own type:
    /// no type of these schemas has a named derivation an element could be given) and `nil`
    /// (refused: no element of these schemas is nillable, the generator checks that).
    fn attributes(&mut self, node: roxmltree::Node<'_, '_>, type_id: TypeId, declared: &[table::Attribute]) {
        for (index, attribute) in node.attributes().enumerate() {
            let namespace = attribute.namespace();
            if namespace == Some(XSI) {
                match attribute.name() {
                    "schemaLocation" | "noNamespaceSchemaLocation" => continue,
                    "type" => {
                        self.xsi_type(node, index, attribute.value(), type_id);
                        continue;
                    }
                    "nil" => {
                        let message = format!(
                            "{}: attribute xsi:nil is not allowed; the element is not nillable.",
                            self.display(node)
                        );
                        self.report(node, Some(index), message);
                        continue;
                    }
                    _ => {}
                }
            }
            let declaration = declared.iter().find(|d| namespace.is_none() && d.name == attribute.name());
            let Some(declaration) = declaration else {
                let allowed = declared.iter().map(|d| d.name).collect::<Vec<_>>().join(", ");
                let allowed = if allowed.is_empty() { "none".to_string() } else { allowed };
                let message = format!(
                    "{}: attribute {} is not allowed; allowed: {allowed}.",
                    self.display(node),
                    attribute_name(&attribute)
                );
                self.report(node, Some(index), message);
                continue;
            };
            let Type::Simple(simple) = &self.schema.types[declaration.simple] else { continue };
            let problem = match simple.problem(attribute.value()) {
                Some(problem) => problem,
                None => match declaration.fixed {
                    Some(fixed) if !simple.is_same_value(attribute.value(), fixed) => {
                        format!("is not the fixed value '{fixed}'")
                    }
                    _ => continue,
                },
            };
            let message = format!(
                "{}: attribute {} value '{}' {problem}.",
                self.display(node),
                attribute.name(),
                shortened(attribute.value())
            );
            self.report(node, Some(index), message);
        }
        for declaration in declared.iter().filter(|d| d.required) {
            if !node.attributes().any(|a| a.namespace().is_none() && a.name() == declaration.name) {
                let message =
                    format!("{}: the required attribute {} is missing.", self.display(node), declaration.name);
                self.report(node, None, message);
            }
        }
    }

    /// `xsi:type` must be a QName naming the element's declared type.
    fn xsi_type(&mut self, node: roxmltree::Node<'_, '_>, index: usize, value: &str, type_id: TypeId) {
        let declared = self.schema.type_names[type_id];
        let (prefix, local) = qname_parts(value);
        let is_ncname =
            |part: &str| !part.is_empty() && !part.contains(':') && !part.bytes().any(|b| b.is_ascii_whitespace());
        let names_declared = prefix.is_none_or(is_ncname)
            && is_ncname(local)
            && declared.is_some_and(|name| {
                name.local == local && node.lookup_namespace_uri(prefix).unwrap_or("") == name.namespace
            });
        if !names_declared {
            let declared = declared.map_or_else(|| "an anonymous type".to_string(), |name| name.to_string());
            let message = format!(
                "{}: attribute xsi:type value '{}' does not name the element's type {declared}.",
                self.display(node),
                shortened(value)
            );
            self.report(node, Some(index), message);
        }
    }

    fn simple_content(&mut self, node: roxmltree::Node<'_, '_>, simple: &simple::SimpleType) {
        if let Some(child) = node.first_element_child() {
            let message = format!(
                "{}: element {} is not allowed; this element holds a value.",
                self.display(node),
                self.display(child)
            );
            self.report(child, None, message);
            return;
        }
        let value = text_of(node);
        if let Some(problem) = simple.problem(&value) {
            let message = format!("{}: value '{}' {problem}.", self.display(node), shortened(&value));
            self.report(node, None, message);
        }
    }

    fn empty_content(&mut self, node: roxmltree::Node<'_, '_>) {
        if node.first_element_child().is_some() || has_text(node) {
            let message = format!("{}: the element must be empty.", self.display(node));
            self.report(node, None, message);
        }
    }

    fn element_content<'i, 'd>(
        &mut self,
        node: roxmltree::Node<'i, 'd>,
        complex: &'static ComplexType,
        particle: &'static Particle,
        pending: &mut Pending<'i, 'd>,
    ) {
        let first = pending.len();
        let mut text_found = false;
        for child in node.children() {
            if child.is_element() {
                if let Some(type_id) = complex.child_type(child) {
                    pending.push((child, type_id));
                } else if complex.admits_laxly(child) {
                    pending.push((child, self.lax_type(child)));
                }
            } else if child.is_text() && !text_found {
                text_found = child.text().is_some_and(|text| !simple::is_xml_whitespace(text));
            }
        }
        if text_found {
            let message = format!(
                "{}: text '{}' is not allowed; this element holds only elements.",
                self.display(node),
                shortened(simple::trim_xml_space(&text_of(node)))
            );
            self.report(node, None, message);
        }
        if let Err(mismatch) = self.matcher.check(particle, node) {
            self.content_mismatch(node, complex, mismatch);
        }
        pending[first..].reverse(); // document order: the first child is checked first
    }

    /// How a lax wildcard validates an element (XSD 1.0 "schema-validity assessment", as Xerces
    /// and libxml2 do it): by the global declaration of its name, else by the type its `xsi:type`
    /// names, else laxly as `anyType` (`LAX`).
    fn lax_type(&self, node: roxmltree::Node<'_, '_>) -> TypeId {
        if let Some(type_id) = self.schema.global_type(node) {
            return type_id;
        }
        let named = node.attribute((XSI, "type")).and_then(|value| {
            let (prefix, local) = qname_parts(value);
            self.schema.type_named(node.lookup_namespace_uri(prefix).unwrap_or(""), local)
        });
        named.unwrap_or(LAX)
    }

    /// An element a lax wildcard took without a declaration: anything is allowed but an
    /// `xsi:type` naming no type the schema has; its child elements are assessed laxly too.
    fn lax_element<'i, 'd>(&mut self, node: roxmltree::Node<'i, 'd>, pending: &mut Pending<'i, 'd>) {
        if let Some(index) = node.attributes().position(|a| a.namespace() == Some(XSI) && a.name() == "type") {
            let value = node.attributes().nth(index).map_or("", |a| a.value());
            let message = format!(
                "{}: attribute xsi:type value '{}' does not name a type of the schema.",
                self.display(node),
                shortened(value)
            );
            self.report(node, Some(index), message);
        }
        let first = pending.len();
        for child in node.children().filter(roxmltree::Node::is_element) {
            pending.push((child, self.lax_type(child)));
        }
        pending[first..].reverse();
    }

    fn content_mismatch(&mut self, parent: roxmltree::Node<'_, '_>, complex: &ComplexType, mismatch: Mismatch<'_, '_>) {
        let parent_name = self.display(parent);
        let (found, detail) = match mismatch {
            Mismatch::Missing { found: None, missing, expected } => {
                let message = format!(
                    "{parent_name}: the mandatory {} is missing; {}.",
                    alternatives(missing),
                    expected_names(&expected)
                );
                self.report(parent, None, message);
                return;
            }
            Mismatch::Missing { found: Some(found), missing, expected } => {
                let comes_later =
                    found.next_siblings().any(|s| s.is_element() && missing.starts_with(table::ElementName::of(s)));
                let detail = if is_repeated(found) && complex.child_type(found).is_some() {
                    format!("occurs more often than allowed; {}", expected_names(&expected))
                } else if comes_later {
                    format!("is out of order: {} must come before it", alternatives(missing))
                } else if complex.child_type(found).is_some() {
                    let message = format!(
                        "{parent_name}: the mandatory {} is missing before {}.",
                        alternatives(missing),
                        self.display(found)
                    );
                    self.report(found, None, message);
                    return;
                } else {
                    format!("is not allowed here; {}", expected_names(&expected))
                };
                (found, detail)
            }
            Mismatch::Unexpected { found, expected } => {
                let reason = match complex.child_type(found) {
                    None => "is not allowed here",
                    Some(_) if is_repeated(found) => "occurs more often than allowed",
                    Some(_) => "is out of order",
                };
                let rest = if expected.is_empty() {
                    "no further element is allowed here".to_string()
                } else {
                    expected_names(&expected)
                };
                (found, format!("{reason}; {rest}"))
            }
        };
        let message = format!("{parent_name}: {} {detail}.", self.display(found));
        self.report(found, None, message);
    }
}

/// The prefix (if any) and local part of a QName value, without the whitespace around it.
fn qname_parts(value: &str) -> (Option<&str>, &str) {
    let qname = simple::trim_xml_space(value);
    qname.split_once(':').map_or((None, qname), |(prefix, local)| (Some(prefix), local))
}

/// An attribute's name as messages show it: `foo`, `xsi:foo`, `xml:lang`, `{urn:x}foo`.
fn attribute_name(attribute: &roxmltree::Attribute<'_, '_>) -> String {
    match attribute.namespace() {
        None => attribute.name().to_string(),
        Some(XSI) => format!("xsi:{}", attribute.name()),
        Some("http://www.w3.org/XML/1998/namespace") => format!("xml:{}", attribute.name()),
        Some(namespace) => format!("{{{namespace}}}{}", attribute.name()),
    }
}

fn is_repeated(node: roxmltree::Node<'_, '_>) -> bool {
    node.prev_sibling_element().is_some_and(|previous| previous.tag_name() == node.tag_name())
}

/// "element cbc:ID", "element udt:DateTimeString or udt:DateTime", "element of another
/// namespace": what a mandatory particle starts with.
fn alternatives(particle: &Particle) -> String {
    let names = particle.first.iter().map(ToString::to_string).collect::<Vec<_>>();
    match particle.first_wildcards.first() {
        Some(wildcard) if names.is_empty() => wildcard.describe().to_string(),
        _ => format!("element {}", names.join(" or ")),
    }
}

/// "expected cac:PartyName, cac:PostalAddress, …" from the particles that could have come.
fn expected_names(particles: &[&'static Particle]) -> String {
    let mut names: Vec<String> = Vec::new();
    for particle in particles {
        for name in &particle.first {
            let name = name.to_string();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        for wildcard in &particle.first_wildcards {
            let any = format!("any {}", wildcard.describe());
            if !names.contains(&any) {
                names.push(any);
            }
        }
    }
    let more = names.len() > MAX_EXPECTED_NAMES;
    names.truncate(MAX_EXPECTED_NAMES);
    format!("expected {}{}", names.join(", "), if more { ", …" } else { "" })
}

/// The element's text: borrowed when it is one text node (the usual case).
fn text_of<'a>(node: roxmltree::Node<'a, '_>) -> Cow<'a, str> {
    let mut texts = node.children().filter(roxmltree::Node::is_text).filter_map(|t| t.text());
    match (texts.next(), texts.next()) {
        (None, _) => Cow::Borrowed(""),
        (Some(only), None) => Cow::Borrowed(only),
        (Some(first), Some(second)) => {
            let mut all = format!("{first}{second}");
            texts.for_each(|t| all.push_str(t));
            Cow::Owned(all)
        }
    }
}

fn has_text(node: roxmltree::Node<'_, '_>) -> bool {
    node.children()
        .filter(roxmltree::Node::is_text)
        .any(|t| t.text().is_some_and(|s| !simple::trim_xml_space(s).is_empty()))
}

/// A value as messages quote it: at most 40 characters.
fn shortened(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(40) {
        Some((end, _)) => Cow::Owned(format!("{}…", &value[..end])),
        None => Cow::Borrowed(value),
    }
}
