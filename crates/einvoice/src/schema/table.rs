//! The generated schema tables (`data/schema/*.tsv`, written by `tools/gen_schema.py` from the
//! official XSDs) parsed into lookup structures: one `Schema` per syntax, built once.

use std::collections::HashMap;

use super::simple::{Builtin, SimpleType};

/// Index of a type in `Schema::types`.
pub(super) type TypeId = usize;

/// An expanded element name, with the prefix the tables use for it (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Name {
    pub namespace: &'static str,
    pub local: &'static str,
    pub prefix: &'static str,
}

impl Name {
    /// `true` when the element has this expanded name.
    pub fn matches(&self, node: roxmltree::Node<'_, '_>) -> bool {
        self.is(ElementName::of(node))
    }

    /// `true` for this expanded name (local names first: they differ early and cheaply).
    pub fn is(&self, name: ElementName<'_>) -> bool {
        let (ours, theirs) = (self.local.as_bytes(), name.local.as_bytes());
        // Length and last byte first: most names that differ are told apart without memcmp.
        ours.len() == theirs.len() && ours.last() == theirs.last() && ours == theirs && name.namespace == self.namespace
    }
}

/// A document element's expanded name, read once per element (no namespace is "").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ElementName<'a> {
    pub namespace: &'a str,
    pub local: &'a str,
}

impl<'a> ElementName<'a> {
    pub fn of(node: roxmltree::Node<'a, '_>) -> ElementName<'a> {
        let name = node.tag_name();
        ElementName { namespace: name.namespace().unwrap_or(""), local: name.name() }
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.prefix, self.local)
    }
}

/// A declared type: complex (attributes and content) or simple (a value).
#[derive(Debug)]
pub(super) enum Type {
    Complex(ComplexType),
    Simple(SimpleType),
}

/// A complex type with its attributes, its content and, for element content, the type of each
/// child element it declares (XSD's "element declarations consistent": one type per name).
#[derive(Debug)]
pub(super) struct ComplexType {
    pub attributes: Vec<Attribute>,
    pub content: Content,
    pub children: Vec<(Name, TypeId)>,
    /// The wildcards of the content model whose elements are assessed laxly (`processContents="lax"`).
    pub lax: Vec<Wildcard>,
}

impl ComplexType {
    /// The declared type of a child element, if this type declares one of that name.
    pub fn child_type(&self, node: roxmltree::Node<'_, '_>) -> Option<TypeId> {
        let element = ElementName::of(node);
        self.children.iter().find(|(name, _)| name.is(element)).map(|(_, id)| *id)
    }

    /// `true` when a lax wildcard of this type admits the (undeclared) child.
    pub fn admits_laxly(&self, node: roxmltree::Node<'_, '_>) -> bool {
        let element = ElementName::of(node);
        self.lax.iter().any(|wildcard| wildcard.admits(element))
    }
}

#[derive(Debug)]
pub(super) enum Content {
    Elements(Particle),
    Simple(TypeId),
    Empty,
}

/// An attribute declaration (all attributes of these schemas are unqualified), with the value
/// it must have if the schema fixes one.
#[derive(Debug)]
pub(super) struct Attribute {
    pub name: &'static str,
    pub required: bool,
    pub simple: TypeId,
    pub fixed: Option<&'static str>,
}

/// A particle: a term with its occurrence bounds, and what it can start with.
#[derive(Debug)]
pub(super) struct Particle {
    pub min: u32,
    pub max: u32,
    pub term: Term,
    /// The element names one repetition of the term can start with.
    pub first: Vec<Name>,
    /// The wildcards one repetition of the term can start with.
    pub first_wildcards: Vec<Wildcard>,
    /// `true` when one repetition of the term can be empty.
    pub term_nullable: bool,
}

#[derive(Debug)]
pub(super) enum Term {
    Element(Name),
    Sequence(Vec<Particle>),
    Choice(Vec<Particle>),
    Any(Wildcard),
}

/// `xsd:any`: which namespaces it admits. An element a `lax` wildcard takes is validated by the
/// global declaration of its name if the schema has one (see `Checker::lax_type`), else only its
/// descendants are looked at in the same way; `skip` takes anything unchecked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Wildcard {
    Any,
    /// `##other`: any namespace except this one (and except no namespace).
    Other(&'static str),
    List(Vec<&'static str>),
}

impl Wildcard {
    /// What the wildcard admits, for messages: "element of another namespace".
    pub fn describe(&self) -> &'static str {
        match self {
            Wildcard::Any => "element of any namespace",
            Wildcard::Other(_) => "element of another namespace",
            Wildcard::List(_) => "element of the namespaces the schema lists",
        }
    }

    pub fn admits(&self, name: ElementName<'_>) -> bool {
        let namespace = name.namespace;
        match self {
            Wildcard::Any => true,
            Wildcard::Other(target) => !namespace.is_empty() && namespace != *target,
            Wildcard::List(namespaces) => namespaces.contains(&namespace),
        }
    }
}

impl Particle {
    /// `true` when one repetition of this particle can start with the element.
    pub fn starts_with(&self, element: ElementName<'_>) -> bool {
        self.first.iter().any(|name| name.is(element)) || self.first_wildcards.iter().any(|w| w.admits(element))
    }

    fn new(min: u32, max: u32, term: Term) -> Particle {
        let (first, first_wildcards, term_nullable) = match &term {
            Term::Element(name) => (vec![*name], Vec::new(), false),
            Term::Any(wildcard) => (Vec::new(), vec![wildcard.clone()], false),
            Term::Sequence(items) => first_of_sequence(items),
            Term::Choice(items) => first_of_choice(items),
        };
        Particle { min, max, term, first, first_wildcards, term_nullable }
    }

    fn nullable(&self) -> bool {
        self.min == 0 || self.term_nullable
    }
}

fn first_of_sequence(items: &[Particle]) -> (Vec<Name>, Vec<Wildcard>, bool) {
    let (mut names, mut wildcards) = (Vec::new(), Vec::new());
    for item in items {
        names.extend_from_slice(&item.first);
        wildcards.extend_from_slice(&item.first_wildcards);
        if !item.nullable() {
            return (names, wildcards, false);
        }
    }
    (names, wildcards, true)
}

fn first_of_choice(items: &[Particle]) -> (Vec<Name>, Vec<Wildcard>, bool) {
    let (mut names, mut wildcards) = (Vec::new(), Vec::new());
    for item in items {
        names.extend_from_slice(&item.first);
        wildcards.extend_from_slice(&item.first_wildcards);
    }
    (names, wildcards, items.iter().any(Particle::nullable))
}

/// One syntax's schema: its root elements and every type reachable from them.
#[derive(Debug)]
pub(super) struct Schema {
    pub roots: Vec<(Name, TypeId)>,
    /// The global element declarations a lax wildcard validates an element by.
    pub globals: Vec<(Name, TypeId)>,
    pub types: Vec<Type>,
    /// The name of each type (by `TypeId`), `None` for an anonymous one.
    pub type_names: Vec<Option<Name>>,
    prefixes: Vec<(&'static str, &'static str)>,
}

impl Schema {
    /// The declared type of a root element.
    pub fn root_type(&self, node: roxmltree::Node<'_, '_>) -> Option<TypeId> {
        self.roots.iter().find(|(name, _)| name.matches(node)).map(|(_, id)| *id)
    }

    /// The type of a global element declaration of this name, if there is one.
    pub fn global_type(&self, node: roxmltree::Node<'_, '_>) -> Option<TypeId> {
        self.globals.iter().find(|(name, _)| name.matches(node)).map(|(_, id)| *id)
    }

    /// The type of this expanded name, if the tables have it.
    pub fn type_named(&self, namespace: &str, local: &str) -> Option<TypeId> {
        self.type_names.iter().position(|name| name.is_some_and(|n| n.namespace == namespace && n.local == local))
    }

    /// The table's prefix for a namespace (for messages), if it has one.
    pub fn prefix_of(&self, namespace: &str) -> Option<&'static str> {
        self.prefixes.iter().find(|(_, uri)| *uri == namespace).map(|(prefix, _)| *prefix)
    }

    /// Parses a generated table. The tables are committed and tested, so a malformed line is a
    /// build defect: it panics with the line.
    pub fn parse(table: &'static str) -> Schema {
        let lines: Vec<Vec<&'static str>> = table
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| line.split('\t').collect())
            .collect();
        let prefixes: Vec<(&str, &str)> = lines.iter().filter(|f| f[0] == "ns").map(|f| (f[1], f[2])).collect();
        let ids: HashMap<&str, TypeId> = lines
            .iter()
            .filter(|f| f[0] == "complex" || f[0] == "simple")
            .enumerate()
            .map(|(id, f)| (f[1], id))
            .collect();
        let mut reader = TableReader { prefixes: &prefixes, ids: &ids, lines: &lines, at: 0 };
        let mut schema = Schema {
            roots: Vec::new(),
            globals: Vec::new(),
            types: Vec::new(),
            type_names: Vec::new(),
            prefixes: prefixes.clone(),
        };
        while let Some(fields) = reader.next_line() {
            if matches!(fields[0], "simple" | "complex") {
                let prefix = fields[1].split_once(':').map_or("", |(prefix, _)| prefix);
                let named = prefixes.iter().any(|(known, _)| *known == prefix);
                schema.type_names.push(named.then(|| reader.name(fields[1])));
            }
            match fields[0] {
                "ns" => {}
                "root" => schema.roots.push((reader.name(fields[1]), reader.id(fields[2]))),
                "global" => schema.globals.push((reader.name(fields[1]), reader.id(fields[2]))),
                "simple" => schema.types.push(Type::Simple(reader.simple_type(fields))),
                "complex" => schema.types.push(Type::Complex(reader.complex_type(fields))),
                other => panic!("schema table: unexpected record {other:?} in {fields:?}"),
            }
        }
        schema
    }
}

/// A cursor over the table's records that resolves names and type keys.
struct TableReader<'t> {
    prefixes: &'t [(&'static str, &'static str)],
    ids: &'t HashMap<&'static str, TypeId>,
    lines: &'t [Vec<&'static str>],
    at: usize,
}

impl<'t> TableReader<'t> {
    fn next_line(&mut self) -> Option<&'t [&'static str]> {
        let lines: &'t [Vec<&'static str>] = self.lines;
        let line = lines.get(self.at)?;
        self.at += 1;
        Some(line)
    }

    fn peek(&self, kinds: &[&str]) -> Option<&'t [&'static str]> {
        let lines: &'t [Vec<&'static str>] = self.lines;
        lines.get(self.at).filter(|f| kinds.contains(&f[0])).map(Vec::as_slice)
    }

    fn namespace(&self, prefix: &str) -> &'static str {
        let found = self.prefixes.iter().find(|(p, _)| *p == prefix);
        found.unwrap_or_else(|| panic!("schema table: unknown prefix {prefix}")).1
    }

    fn name(&self, qualified: &'static str) -> Name {
        let (prefix, local) = qualified.split_once(':').expect("schema table: a name is PREFIX:LOCAL");
        let (prefix, _) = self.prefixes.iter().find(|(p, _)| *p == prefix).copied().unwrap_or(("", ""));
        Name { namespace: self.namespace(prefix), local, prefix }
    }

    fn id(&self, key: &str) -> TypeId {
        *self.ids.get(key).unwrap_or_else(|| panic!("schema table: type {key} is not defined"))
    }

    fn simple_type(&mut self, fields: &[&'static str]) -> SimpleType {
        let builtin = Builtin::from_name(fields[2]).unwrap_or_else(|| panic!("schema table: {fields:?}"));
        let mut simple = SimpleType::new(builtin);
        while let Some(facet) = self.peek(&["facet"]) {
            let (kind, value) = (facet[1], facet[2]);
            self.at += 1;
            simple.add_facet(kind, value);
        }
        simple
    }

    fn complex_type(&mut self, fields: &[&'static str]) -> ComplexType {
        let mut attributes = Vec::new();
        while let Some(attribute) = self.peek(&["attr"]) {
            let (name, required, simple) = (attribute[1], attribute[2] == "required", self.id(attribute[3]));
            let fixed = attribute.get(4).copied();
            self.at += 1;
            attributes.push(Attribute { name, required, simple, fixed });
        }
        let (mut children, mut lax) = (Vec::new(), Vec::new());
        let content = match fields[2] {
            "elements" => Content::Elements(self.particle(&mut children, &mut lax)),
            "simple" => Content::Simple(self.id(fields[3])),
            "empty" => Content::Empty,
            other => panic!("schema table: unknown content {other}"),
        };
        ComplexType { attributes, content, children, lax }
    }

    /// Reads one particle and, for a group, its items (the lines one level deeper that follow),
    /// collecting the declared children and the lax wildcards.
    fn particle(&mut self, children: &mut Vec<(Name, TypeId)>, lax: &mut Vec<Wildcard>) -> Particle {
        let lines: &'t [Vec<&'static str>] = self.lines;
        let fields = &lines[self.at];
        self.at += 1;
        let depth: usize = fields[1].parse().expect("schema table: depth");
        let min = fields[2].parse().expect("schema table: minOccurs");
        let max = if fields[3] == "u" { u32::MAX } else { fields[3].parse().expect("schema table: maxOccurs") };
        let term = match fields[0] {
            "el" => {
                let name = self.name(fields[4]);
                if !children.iter().any(|(known, _)| *known == name) {
                    children.push((name, self.id(fields[5])));
                }
                Term::Element(name)
            }
            "any" => {
                let wildcard = self.wildcard(fields[5]);
                match fields[4] {
                    "lax" => lax.push(wildcard.clone()),
                    "skip" => {}
                    other => panic!("schema table: unsupported processContents {other}"),
                }
                Term::Any(wildcard)
            }
            group => {
                let mut items = Vec::new();
                while self.lines.get(self.at).is_some_and(|f| is_particle(f) && f[1].parse() == Ok(depth + 1)) {
                    items.push(self.particle(children, lax));
                }
                if group == "seq" { Term::Sequence(items) } else { Term::Choice(items) }
            }
        };
        Particle::new(min, max, term)
    }

    fn wildcard(&self, namespaces: &'static str) -> Wildcard {
        match namespaces {
            "##any" => Wildcard::Any,
            other => match other.strip_prefix("##other:") {
                Some(prefix) => Wildcard::Other(self.namespace(prefix)),
                None => Wildcard::List(other.split(' ').map(|p| self.namespace(p)).collect()),
            },
        }
    }
}

fn is_particle(fields: &[&str]) -> bool {
    matches!(fields[0], "seq" | "choice" | "el" | "any")
}
