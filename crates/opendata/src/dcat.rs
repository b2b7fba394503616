//! The DCAT-AP.de 3.0 catalogue: the published datasets as RDF triples, written as Turtle,
//! RDF/XML or JSON-LD, paged with Hydra for large catalogues. Pure: a small triple model and
//! three writers, no RDF library (the output is all we need, and it is tested against the
//! official SHACL shapes with pyshacl).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use identity::model::{Tenant, TenantKind};
use serde_json::{Map, Value, json};

use crate::model::{self, Dataset, DistributionKind};

const PREFIXES: &[(&str, &str)] = &[
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("dcat", "http://www.w3.org/ns/dcat#"),
    ("dct", "http://purl.org/dc/terms/"),
    ("dcatde", "http://dcat-ap.de/def/dcatde/"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("vcard", "http://www.w3.org/2006/vcard/ns#"),
    ("skos", "http://www.w3.org/2004/02/skos/core#"),
    ("spdx", "http://spdx.org/rdf/terms#"),
    ("hydra", "http://www.w3.org/ns/hydra/core#"),
];

fn iri(prefixed: &str) -> String {
    let (p, local) = prefixed.split_once(':').unwrap_or(("", prefixed));
    let ns = PREFIXES.iter().find(|(x, _)| *x == p).map_or("", |(_, n)| *n);
    format!("{ns}{local}")
}

/// A subject: an IRI or a blank node label.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    Iri(String),
    Blank(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    Node(Node),
    /// A literal with a language tag or a datatype IRI (neither: a plain string).
    Literal {
        value: String,
        lang: Option<&'static str>,
        datatype: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Triple {
    pub s: Node,
    /// The predicate as a prefixed name of [`PREFIXES`] (`dct:title`).
    pub p: &'static str,
    pub o: Object,
}

/// An RDF graph in the order it was built (writers group by subject in that order).
#[derive(Default)]
pub struct Graph {
    pub triples: Vec<Triple>,
    blanks: usize,
    /// Vocabulary concepts referenced, described once at the end: (IRI, scheme, extra class).
    concepts: BTreeSet<(String, String, Option<&'static str>)>,
    /// Agents, places and algorithms already described (each once).
    agents: BTreeSet<String>,
}

impl Graph {
    fn blank(&mut self) -> Node {
        self.blanks += 1;
        Node::Blank(format!("b{}", self.blanks))
    }

    fn add(&mut self, s: &Node, p: &'static str, o: Object) {
        self.triples.push(Triple { s: s.clone(), p, o });
    }

    fn link(&mut self, s: &Node, p: &'static str, o: &Node) {
        self.add(s, p, Object::Node(o.clone()));
    }

    fn link_iri(&mut self, s: &Node, p: &'static str, o: &str) {
        self.add(s, p, Object::Node(Node::Iri(o.to_owned())));
    }

    fn class(&mut self, s: &Node, class: &str) {
        self.add(s, "rdf:type", Object::Node(Node::Iri(iri(class))));
    }

    fn text(&mut self, s: &Node, p: &'static str, value: &str, lang: Option<&'static str>) {
        self.add(s, p, Object::Literal { value: value.to_owned(), lang, datatype: None });
    }

    fn typed(&mut self, s: &Node, p: &'static str, value: &str, datatype: &str) {
        self.add(s, p, Object::Literal { value: value.to_owned(), lang: None, datatype: Some(iri(datatype)) });
    }

    /// Links a vocabulary concept and remembers to say which scheme it is in (the DCAT-AP.de
    /// shapes check `skos:inScheme` of every controlled value).
    fn concept(&mut self, s: &Node, p: &'static str, concept: String, scheme: &str, class: Option<&'static str>) {
        self.link_iri(s, p, &concept);
        self.concepts.insert((concept, scheme.to_owned(), class));
    }

    fn finish_concepts(&mut self) {
        for (c, scheme, class) in std::mem::take(&mut self.concepts) {
            let node = Node::Iri(c);
            self.class(&node, "skos:Concept");
            if let Some(class) = class {
                self.class(&node, class);
            }
            self.link_iri(&node, "skos:inScheme", &scheme);
        }
    }
}

/// A page of the catalogue.
pub struct Page {
    /// 1-based.
    pub number: usize,
    pub size: usize,
    pub total: usize,
}

impl Page {
    pub fn last(&self) -> usize {
        self.total.div_ceil(self.size).max(1)
    }
}

/// What the catalogue is about: where it lives and who publishes it.
pub struct Catalogue<'a> {
    /// The public address of the portal, without a trailing slash.
    pub base: &'a str,
    pub tenants: &'a [Tenant],
    /// The file name the page was asked for (`catalog.ttl`), for the paging links.
    pub file: &'a str,
}

fn date_time(t: kernel::Timestamp) -> String {
    t.rfc3339().trim_end_matches('Z').to_owned() + "Z"
}

impl Catalogue<'_> {
    fn agent(&self, g: &mut Graph, t: &Tenant) -> Node {
        let node = Node::Iri(format!("{}/daten/{}", self.base, t.slug));
        if !g.agents.insert(t.slug.clone()) {
            return node;
        }
        g.class(&node, "foaf:Agent");
        g.text(&node, "foaf:name", &t.name, Some("de"));
        let kind = match t.kind {
            TenantKind::Company => "Company",
            _ => "LocalAuthority",
        };
        g.concept(
            &node,
            "dct:type",
            format!("http://purl.org/adms/publishertype/{kind}"),
            "http://purl.org/adms/publishertype/1.0",
            None,
        );
        node
    }

    /// The graph of one page of datasets (already the page's slice, newest first).
    pub fn graph(&self, sets: &[Dataset], page: &Page) -> Graph {
        let mut g = Graph::default();
        let catalog = Node::Iri(format!("{}/catalog", self.base));
        g.class(&catalog, "dcat:Catalog");
        g.text(&catalog, "dct:title", "Offene Daten des Kreises und seiner Kommunen", Some("de"));
        g.text(
            &catalog,
            "dct:description",
            "Datensätze des Kreises, seiner Städte und Gemeinden und seiner Gesellschaften unter offenen Lizenzen.",
            Some("de"),
        );
        let county = self.tenants.iter().find(|t| t.kind == TenantKind::County).or(self.tenants.first());
        if let Some(t) = county {
            let agent = self.agent(&mut g, t);
            g.link(&catalog, "dct:publisher", &agent);
        }
        g.link_iri(&catalog, "foaf:homepage", &format!("{}/daten", self.base));
        g.concept(
            &catalog,
            "dct:language",
            "http://publications.europa.eu/resource/authority/language/DEU".into(),
            "http://publications.europa.eu/resource/authority/language",
            None,
        );
        if let Some(newest) = sets.iter().map(|d| d.modified_at).max() {
            g.typed(&catalog, "dct:modified", &date_time(newest), "xsd:dateTime");
        }
        for set in sets {
            if let Some(t) = self.tenants.iter().find(|t| t.id == set.tenant) {
                let node = self.dataset(&mut g, t, set);
                g.link(&catalog, "dcat:dataset", &node);
            }
        }
        if page.total > page.size {
            self.paging(&mut g, page);
        }
        g.finish_concepts();
        g
    }

    fn page_url(&self, n: usize) -> String {
        format!("{}/{}?page={n}", self.base, self.file)
    }

    /// Hydra paging as ckanext-dcat writes it, so harvesters follow `hydra:nextPage`.
    fn paging(&self, g: &mut Graph, page: &Page) {
        let node = Node::Iri(self.page_url(page.number));
        g.class(&node, "hydra:PagedCollection");
        g.typed(&node, "hydra:totalItems", &page.total.to_string(), "xsd:integer");
        g.typed(&node, "hydra:itemsPerPage", &page.size.to_string(), "xsd:integer");
        g.text(&node, "hydra:firstPage", &self.page_url(1), None);
        g.text(&node, "hydra:lastPage", &self.page_url(page.last()), None);
        if page.number > 1 {
            g.text(&node, "hydra:previousPage", &self.page_url(page.number - 1), None);
        }
        if page.number < page.last() {
            g.text(&node, "hydra:nextPage", &self.page_url(page.number + 1), None);
        }
    }

    fn dataset(&self, g: &mut Graph, t: &Tenant, set: &Dataset) -> Node {
        let m = &set.meta;
        let url = format!("{}/daten/{}/{}", self.base, t.slug, set.name);
        let node = Node::Iri(url.clone());
        g.class(&node, "dcat:Dataset");
        g.text(&node, "dct:title", &m.title, Some("de"));
        g.text(&node, "dct:description", &m.description, Some("de"));
        g.text(&node, "dct:identifier", &set.uuid, None);
        let agent = self.agent(g, t);
        g.link(&node, "dct:publisher", &agent);
        let contact = g.blank();
        g.class(&contact, "vcard:Kind");
        g.class(&contact, "vcard:Organization");
        g.text(&contact, "vcard:fn", &m.contact_name, None);
        if !m.contact_email.is_empty() {
            g.link_iri(&contact, "vcard:hasEmail", &format!("mailto:{}", m.contact_email));
        }
        if !m.contact_url.is_empty() {
            g.link_iri(&contact, "vcard:hasURL", &m.contact_url);
        }
        g.link(&node, "dcat:contactPoint", &contact);
        for k in &m.keywords {
            g.text(&node, "dcat:keyword", k, Some("de"));
        }
        for theme in &m.themes {
            g.concept(&node, "dcat:theme", format!("{}/{theme}", model::THEME_BASE), model::THEME_BASE, None);
        }
        if let Some((level, list)) = model::geocoding(&m.spatial) {
            let uri = format!("{}/{list}/{}", model::GEOCODING_BASE, m.spatial);
            // DCAT-AP.de 3.0 deprecates dcatde:politicalGeocodingURI: dct:spatial carries the key.
            g.link_iri(&node, "dct:spatial", &uri);
            if g.agents.insert(uri.clone()) {
                g.class(&Node::Iri(uri.clone()), "dct:Location");
            }
            g.concept(
                &node,
                "dcatde:politicalGeocodingLevelURI",
                format!("{}/Level/{level}", model::GEOCODING_BASE),
                &format!("{}/Level", model::GEOCODING_BASE),
                None,
            );
        }
        if !m.temporal_start.is_empty() || !m.temporal_end.is_empty() {
            let period = g.blank();
            g.class(&period, "dct:PeriodOfTime");
            if !m.temporal_start.is_empty() {
                g.typed(&period, "dcat:startDate", &m.temporal_start, "xsd:date");
            }
            if !m.temporal_end.is_empty() {
                g.typed(&period, "dcat:endDate", &m.temporal_end, "xsd:date");
            }
            g.link(&node, "dct:temporal", &period);
        }
        if !m.frequency.is_empty() {
            g.concept(
                &node,
                "dct:accrualPeriodicity",
                format!("{}/{}", model::FREQUENCY_BASE, m.frequency),
                model::FREQUENCY_BASE,
                None,
            );
        }
        match (m.issued.is_empty(), set.published_at) {
            (false, _) => g.typed(&node, "dct:issued", &m.issued, "xsd:date"),
            (true, Some(at)) => g.typed(&node, "dct:issued", &date_time(at), "xsd:dateTime"),
            (true, None) => {}
        }
        g.typed(&node, "dct:modified", &date_time(set.modified_at), "xsd:dateTime");
        if !m.landing_page.is_empty() {
            g.link_iri(&node, "dcat:landingPage", &m.landing_page);
        }
        let licence = model::licence(&m.licence);
        for d in &set.distributions {
            let dn = Node::Iri(format!("{url}/distribution/{}", d.uuid));
            g.class(&dn, "dcat:Distribution");
            g.text(&dn, "dct:title", &d.title, Some("de"));
            if !d.description.is_empty() {
                g.text(&dn, "dct:description", &d.description, Some("de"));
            }
            let access = match (&d.url, d.kind) {
                (Some(u), DistributionKind::Api | DistributionKind::Link) => u.clone(),
                _ => format!("{url}/dateien/{}", d.uuid),
            };
            g.link_iri(&dn, "dcat:accessURL", &access);
            if d.kind != DistributionKind::Api {
                g.link_iri(&dn, "dcat:downloadURL", &access);
            }
            g.concept(&dn, "dct:format", format!("{}/{}", model::FORMAT_BASE, d.format), model::FORMAT_BASE, None);
            if let Some(mt) = model::media_type_of(&d.format) {
                g.link_iri(&dn, "dcat:mediaType", &format!("https://www.iana.org/assignments/media-types/{mt}"));
            }
            if let Some(l) = licence {
                g.concept(
                    &dn,
                    "dct:license",
                    format!("{}/{}", model::LICENCE_BASE, l.id),
                    model::LICENCE_BASE,
                    Some("dct:LicenseDocument"),
                );
                if l.attribution {
                    g.text(&dn, "dcatde:licenseAttributionByText", &t.name, None);
                }
            }
            g.typed(&dn, "dct:issued", &date_time(d.created_at), "xsd:dateTime");
            g.typed(&dn, "dct:modified", &date_time(d.modified_at), "xsd:dateTime");
            if let Some(f) = &d.file {
                g.typed(&dn, "dcat:byteSize", &f.size.to_string(), "xsd:nonNegativeInteger");
                let sum = g.blank();
                g.class(&sum, "spdx:Checksum");
                let sha256 = iri("spdx:checksumAlgorithm_sha256");
                g.link_iri(&sum, "spdx:algorithm", &sha256);
                if g.agents.insert(sha256.clone()) {
                    g.class(&Node::Iri(sha256), "spdx:ChecksumAlgorithm");
                }
                g.typed(&sum, "spdx:checksumValue", &f.sha256, "xsd:hexBinary");
                g.link(&dn, "spdx:checksum", &sum);
            }
            g.link(&node, "dcat:distribution", &dn);
        }
        node
    }
}

// ---- writers ----

fn escape_turtle(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// An IRI inside `<…>`: characters Turtle forbids there are percent-encoded.
fn turtle_iri(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('<');
    for c in s.chars() {
        if c <= ' ' || "<>\"{}|^`\\".contains(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
    out.push('>');
    out
}

/// `dcat:Dataset` for an IRI in a known namespace with a plain local name, else `<…>`.
fn turtle_name(i: &str) -> String {
    for (p, ns) in PREFIXES {
        if let Some(local) = i.strip_prefix(ns)
            && local.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && local.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return format!("{p}:{local}");
        }
    }
    turtle_iri(i)
}

fn turtle_node(n: &Node) -> String {
    match n {
        Node::Iri(i) => turtle_name(i),
        Node::Blank(b) => format!("_:{b}"),
    }
}

/// Subjects in first-seen order, each with its triples.
fn by_subject(g: &Graph) -> Vec<(&Node, Vec<&Triple>)> {
    let mut out: Vec<(&Node, Vec<&Triple>)> = Vec::new();
    let mut at: std::collections::HashMap<&Node, usize> = std::collections::HashMap::new();
    for t in &g.triples {
        match at.get(&t.s) {
            Some(&i) => out[i].1.push(t),
            None => {
                at.insert(&t.s, out.len());
                out.push((&t.s, vec![t]));
            }
        }
    }
    out
}

pub fn turtle(g: &Graph) -> String {
    let mut out = String::new();
    for (p, ns) in PREFIXES {
        let _ = writeln!(out, "@prefix {p}: <{ns}> .");
    }
    for (s, triples) in by_subject(g) {
        let _ = write!(out, "\n{}", turtle_node(s));
        for (i, t) in triples.iter().enumerate() {
            let sep = if i == 0 { " " } else { " ;\n    " };
            let p = if t.p == "rdf:type" { "a" } else { t.p };
            let o = match &t.o {
                Object::Node(n) => turtle_node(n),
                Object::Literal { value, lang: Some(l), .. } => format!("\"{}\"@{l}", escape_turtle(value)),
                Object::Literal { value, datatype: Some(d), .. } => {
                    format!("\"{}\"^^{}", escape_turtle(value), turtle_iri(d))
                }
                Object::Literal { value, .. } => format!("\"{}\"", escape_turtle(value)),
            };
            let _ = write!(out, "{sep}{p} {o}");
        }
        out.push_str(" .\n");
    }
    out
}

fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // Characters XML 1.0 cannot carry at all are left out.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

pub fn rdf_xml(g: &Graph) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rdf:RDF");
    for (p, ns) in PREFIXES {
        let _ = write!(out, "\n    xmlns:{p}=\"{ns}\"");
    }
    out.push_str(">\n");
    for (s, triples) in by_subject(g) {
        let about = match s {
            Node::Iri(i) => format!("rdf:about=\"{}\"", escape_xml(i)),
            Node::Blank(b) => format!("rdf:nodeID=\"{b}\""),
        };
        let _ = writeln!(out, "  <rdf:Description {about}>");
        for t in triples {
            let el = t.p;
            let _ = match &t.o {
                Object::Node(Node::Iri(i)) => writeln!(out, "    <{el} rdf:resource=\"{}\"/>", escape_xml(i)),
                Object::Node(Node::Blank(b)) => writeln!(out, "    <{el} rdf:nodeID=\"{b}\"/>"),
                Object::Literal { value, lang: Some(l), .. } => {
                    writeln!(out, "    <{el} xml:lang=\"{l}\">{}</{el}>", escape_xml(value))
                }
                Object::Literal { value, datatype: Some(d), .. } => {
                    writeln!(out, "    <{el} rdf:datatype=\"{}\">{}</{el}>", escape_xml(d), escape_xml(value))
                }
                Object::Literal { value, .. } => writeln!(out, "    <{el}>{}</{el}>", escape_xml(value)),
            };
        }
        out.push_str("  </rdf:Description>\n");
    }
    out.push_str("</rdf:RDF>\n");
    out
}

fn jsonld_node(n: &Node) -> String {
    match n {
        Node::Iri(i) => i.clone(),
        Node::Blank(b) => format!("_:{b}"),
    }
}

/// JSON-LD in expanded form: full IRIs, no context to fetch, readable by any JSON-LD processor.
pub fn json_ld(g: &Graph) -> Value {
    let mut nodes = Vec::new();
    for (s, triples) in by_subject(g) {
        let mut obj = Map::new();
        obj.insert("@id".into(), Value::String(jsonld_node(s)));
        for t in triples {
            if t.p == "rdf:type" {
                if let Object::Node(n) = &t.o {
                    push(&mut obj, "@type", Value::String(jsonld_node(n)));
                }
                continue;
            }
            let v = match &t.o {
                Object::Node(n) => json!({ "@id": jsonld_node(n) }),
                Object::Literal { value, lang: Some(l), .. } => json!({ "@value": value, "@language": l }),
                Object::Literal { value, datatype: Some(d), .. } => json!({ "@value": value, "@type": d }),
                Object::Literal { value, .. } => json!({ "@value": value }),
            };
            push(&mut obj, &iri(t.p), v);
        }
        nodes.push(Value::Object(obj));
    }
    json!({ "@graph": nodes })
}

fn push(obj: &mut Map<String, Value>, key: &str, v: Value) {
    match obj.get_mut(key) {
        Some(Value::Array(a)) => a.push(v),
        _ => {
            obj.insert(key.to_owned(), Value::Array(vec![v]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turtle_escapes_literals_and_iris() {
        let mut g = Graph::default();
        let s = Node::Iri("http://x.example/a b".into());
        g.text(&s, "dct:title", "Zeile \"eins\"\nzwei\\", Some("de"));
        let ttl = turtle(&g);
        assert!(ttl.contains("<http://x.example/a%20b> dct:title \"Zeile \\\"eins\\\"\\nzwei\\\\\"@de ."), "{ttl}");
    }

    #[test]
    fn rdf_xml_escapes_markup_and_json_ld_uses_full_iris() {
        let mut g = Graph::default();
        let s = Node::Iri("http://x.example/?a=1&b=2".into());
        g.class(&s, "dcat:Dataset");
        g.text(&s, "dct:title", "<b>&</b>", None);
        let xml = rdf_xml(&g);
        assert!(xml.contains("rdf:about=\"http://x.example/?a=1&amp;b=2\""));
        assert!(xml.contains("<dct:title>&lt;b&gt;&amp;&lt;/b&gt;</dct:title>"));
        let j = json_ld(&g);
        assert_eq!(j["@graph"][0]["@type"][0], "http://www.w3.org/ns/dcat#Dataset");
        assert_eq!(j["@graph"][0]["http://purl.org/dc/terms/title"][0]["@value"], "<b>&</b>");
    }

    #[test]
    fn paging_counts_the_last_page() {
        assert_eq!(Page { number: 1, size: 100, total: 0 }.last(), 1);
        assert_eq!(Page { number: 1, size: 100, total: 100 }.last(), 1);
        assert_eq!(Page { number: 1, size: 100, total: 101 }.last(), 2);
    }
}
