//! Reads XDatenfelder 2.0 and 3.0.0 messages into [`Schema`]: strictly (unknown elements,
//! repeated single values, missing identification and invalid codes are refused), bounded (input
//! size, node count, nesting depth).

use std::collections::BTreeMap;

use roxmltree::{Document, Node, ParsingOptions};

use super::model::{
    Cardinality, Child, CodeListRef, Common, Constraints, DataField, DataType, Element, FieldKind, Group, Rule, Schema,
    Value, XdfVersion,
};
use super::xml::{Kids, Reader};
use super::{FimError, MAX_BYTES};

pub const NS_V2: &str = "urn:xoev-de:fim:standard:xdatenfelder_2";
pub const NS_V3: &str = "urn:xoev-de:fim:standard:xdatenfelder_3.0.0";

/// At most this many XML nodes (elements, texts, attributes …) in a file.
const MAX_NODES: u32 = 500_000;
/// Groups nest at most this deep.
const MAX_DEPTH: usize = 24;

const V2_COMMON: &[&str] = &[
    "identifikation",
    "name",
    "bezeichnungEingabe",
    "bezeichnungAusgabe",
    "beschreibung",
    "definition",
    "bezug",
    "status",
    "gueltigAb",
    "gueltigBis",
    "fachlicherErsteller",
    "versionshinweis",
    "freigabedatum",
    "veroeffentlichungsdatum",
];
const V3_COMMON: &[&str] = &[
    "identifikation",
    "name",
    "beschreibung",
    "definition",
    "freigabestatus",
    "statusGesetztAm",
    "statusGesetztDurch",
    "gueltigAb",
    "gueltigBis",
    "versionshinweis",
    "veroeffentlichungsdatum",
    "letzteAenderung",
    "fachlicherErsteller",
];
const V3_COMMON_MANY: &[&str] = &["bezug", "relation", "stichwort"];
const ELEMENT: &[&str] =
    &["bezeichnungEingabe", "bezeichnungAusgabe", "schemaelementart", "hilfetextEingabe", "hilfetextAusgabe"];

/// The element lists (single-valued, repeatable) of one kind of element in one version.
struct Shape {
    single: Vec<&'static str>,
    many: Vec<&'static str>,
}

fn shape(xdf: XdfVersion, own: &[&'static str], own_many: &[&'static str]) -> Shape {
    let (common, common_many): (&[&str], &[&str]) = match xdf {
        XdfVersion::V2 => (V2_COMMON, &[]),
        XdfVersion::V3 => (V3_COMMON, V3_COMMON_MANY),
    };
    let mut single: Vec<&str> = common.to_vec();
    single.extend(own.iter().filter(|o| !common.contains(o)));
    let mut many: Vec<&str> = common_many.to_vec();
    many.extend(own_many);
    single.retain(|s| !many.contains(s));
    Shape { single, many }
}

/// Reads a message. The error names the first thing wrong.
pub fn parse(xml: &str) -> Result<Schema, FimError> {
    if xml.len() > MAX_BYTES {
        return Err(FimError(format!("File too large: at most {} MB", MAX_BYTES / 1_048_576)));
    }
    let options = ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES, ..ParsingOptions::default() };
    let doc = Document::parse_with_options(xml, options).map_err(|e| FimError(format!("Not well-formed XML: {e}")))?;
    let root = doc.root_element();
    let ns = root.tag_name().namespace().unwrap_or_default();
    let xdf = match ns {
        NS_V2 => XdfVersion::V2,
        NS_V3 => XdfVersion::V3,
        "" => {
            let name = root.tag_name().name();
            return Err(FimError(format!("Not an XDatenfelder message: <{name}> has no namespace")));
        }
        other => return Err(FimError(format!("Unknown namespace {other}"))),
    };
    let r = Reader { doc: &doc, ns };
    let mut p = Parser { r, xdf, rules: BTreeMap::new() };
    let mut remarks = Vec::new();
    let (content, is_schema) = match root.tag_name().name() {
        "xdatenfelder.stammdatenschema.0102" => ("stammdatenschema", true),
        "xdatenfelder.datenfeldgruppe.0103" => ("datenfeldgruppe", false),
        _ => return Err(p.r.error("Unsupported message (expected a Stammdatenschema or a Datenfeldgruppe)", root)),
    };
    let kids = p.r.kids(root, &["header", content], &[], &mut remarks, &[])?;
    kids.one("header").ok_or_else(|| p.r.error("Missing <header>", root))?;
    let node = kids.one(content).ok_or_else(|| p.r.error(&format!("Missing <{content}>"), root))?;
    let (common, rules, children) = if is_schema {
        p.schema(node)?
    } else {
        let g = p.group(node, 0)?;
        (g.common, g.rules, g.children)
    };
    Ok(Schema { xdf, common, rules, children, all_rules: p.rules })
}

struct Parser<'a, 'input> {
    r: Reader<'a, 'input>,
    xdf: XdfVersion,
    rules: BTreeMap<String, Rule>,
}

type SchemaParts = (Common, Vec<String>, Vec<Child>);

impl<'a, 'input> Parser<'a, 'input> {
    fn common(&self, node: Node, kids: &Kids, help: &str) -> Result<Common, FimError> {
        let r = &self.r;
        let ident = kids.one("identifikation").ok_or_else(|| r.error("Missing <identifikation>", node))?;
        let (id, version) = self.identification(ident)?;
        if let Some(status) = kids.one("freigabestatus") {
            let code = r.code(status)?;
            if !matches!(code.as_str(), "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8") {
                return Err(r.error(&format!("Invalid FreigabeStatus: {code}"), status));
            }
        }
        if let Some(art) = kids.one("schemaelementart") {
            let code = r.code(art)?;
            if !matches!(code.as_str(), "ABS" | "HAR" | "RNG") {
                return Err(r.error(&format!("Invalid SchemaElementArt: {code}"), art));
            }
        }
        Ok(Common {
            id,
            version,
            name: r.required(node, kids, "name")?,
            input_label: r.opt_text(kids.one("bezeichnungEingabe"))?,
            description: r.opt_text(kids.one("beschreibung"))?,
            definition: r.opt_text(kids.one("definition"))?,
            input_help: r.opt_text(kids.one(help))?,
        })
    }

    fn identification(&self, node: Node) -> Result<(String, Option<String>), FimError> {
        let kids = self.r.kids(node, &["id", "version"], &[], &mut Vec::new(), &[])?;
        let id = self.r.required(node, &kids, "id")?;
        Ok((id, self.r.opt_text(kids.one("version"))?))
    }

    fn schema(&mut self, node: Node) -> Result<SchemaParts, FimError> {
        let own: &[&str] = &[
            "hilfetext",
            "bezeichnung",
            "ableitungsmodifikationenStruktur",
            "ableitungsmodifikationenRepraesentation",
            "dokumentsteckbrief",
        ];
        let s = shape(self.xdf, own, &["regel", "struktur"]);
        let kids = self.r.kids(node, &s.single, &s.many, &mut Vec::new(), &[])?;
        let mut common = self.common(node, &kids, "hilfetext")?;
        if common.input_label.is_none() {
            common.input_label = self.r.opt_text(kids.one("bezeichnung"))?;
        }
        let rules = self.rules_of(&kids)?;
        let children = self.structures(&kids, 0)?;
        Ok((common, rules, children))
    }

    fn group(&mut self, node: Node, depth: usize) -> Result<Group, FimError> {
        if depth > MAX_DEPTH {
            return Err(self.r.error(&format!("Groups nested deeper than {MAX_DEPTH} levels"), node));
        }
        let mut own = ELEMENT.to_vec();
        own.push("art");
        let s = shape(self.xdf, &own, &["regel", "struktur"]);
        let kids = self.r.kids(node, &s.single, &s.many, &mut Vec::new(), &[])?;
        let common = self.common(node, &kids, "hilfetextEingabe")?;
        let rules = self.rules_of(&kids)?;
        let children = self.structures(&kids, depth + 1)?;
        Ok(Group { common, rules, children })
    }

    fn structures(&mut self, kids: &Kids, depth: usize) -> Result<Vec<Child>, FimError> {
        kids.all("struktur").map(|s| self.structure(s, depth)).collect()
    }

    fn structure(&mut self, node: Node, depth: usize) -> Result<Child, FimError> {
        let (single, many): (&[&str], &[&str]) = match self.xdf {
            XdfVersion::V2 => (&["anzahl", "bezug", "enthaelt"], &[]),
            XdfVersion::V3 => (&["anzahl", "enthaelt"], &["bezug"]),
        };
        let kids = self.r.kids(node, single, many, &mut Vec::new(), &[])?;
        let count = self.r.required(node, &kids, "anzahl")?;
        let cardinality = cardinality(&count)
            .ok_or_else(|| self.r.error(&format!("Invalid anzahl: {count}"), kids.one("anzahl").unwrap_or(node)))?;
        let contains = kids.one("enthaelt").ok_or_else(|| self.r.error("Missing <enthaelt>", node))?;
        let inner = self.r.kids(contains, &["datenfeld", "datenfeldgruppe"], &[], &mut Vec::new(), &[])?;
        let element = match (inner.one("datenfeld"), inner.one("datenfeldgruppe")) {
            (Some(f), None) => Element::Field(Box::new(self.field(f)?)),
            (None, Some(g)) => Element::Group(Box::new(self.group(g, depth)?)),
            (Some(_), Some(g)) => return Err(self.r.error("Duplicate value", g)),
            (None, None) => return Err(self.r.error("Missing <datenfeld> or <datenfeldgruppe>", contains)),
        };
        Ok(Child { cardinality, element })
    }

    fn field(&mut self, node: Node) -> Result<DataField, FimError> {
        let r = &self.r;
        let mut own = ELEMENT.to_vec();
        own.extend(["feldart", "datentyp", "praezisierung", "inhalt", "codelisteReferenz"]);
        let mut many = vec!["regel"];
        if self.xdf == XdfVersion::V3 {
            own.extend(["vorbefuellung", "codeKey", "nameKey", "helpKey", "werte", "maxSize", "teilbezug"]);
            many.push("mediaType");
        }
        let s = shape(self.xdf, &own, &many);
        let mut remarks = Vec::new();
        let lenient: &[&str] = if self.xdf == XdfVersion::V3 { &["inhalt"] } else { &[] };
        let kids = r.kids(node, &s.single, &s.many, &mut remarks, lenient)?;
        let common = self.common(node, &kids, "hilfetextEingabe")?;
        let kind_node = kids.one("feldart").ok_or_else(|| r.error("Missing <feldart>", node))?;
        let kind_code = r.code(kind_node)?;
        let kind =
            FieldKind::parse(&kind_code).ok_or_else(|| r.error(&format!("Invalid Feldart: {kind_code}"), kind_node))?;
        let type_node = kids.one("datentyp").ok_or_else(|| r.error("Missing <datentyp>", node))?;
        let type_code = r.code(type_node)?;
        let data_type =
            DataType::parse(&type_code).ok_or_else(|| r.error(&format!("Invalid Datentyp: {type_code}"), type_node))?;
        let constraints = match kids.one("praezisierung") {
            Some(p) => self.constraints(p)?,
            None => Constraints::default(),
        };
        let code_list = kids.one("codelisteReferenz").map(|c| self.code_list(c)).transpose()?;
        let values = kids.one("werte").map(|w| self.values(w)).transpose()?.unwrap_or_default();
        if let Some(v) = kids.one("vorbefuellung") {
            let code = r.code(v)?;
            if code != "keine" {
                remarks.push(format!("prefill `{code}` (vorbefuellung) is not applied"));
            }
        }
        for key in ["codeKey", "nameKey", "helpKey"] {
            if let Some(value) = r.opt_text(kids.one(key))? {
                remarks.push(format!("code list column {key} = `{value}`"));
            }
        }
        let media_types = kids.all("mediaType").map(|m| r.text(m)).collect::<Result<Vec<_>, _>>()?;
        let max_size = r.opt_text(kids.one("maxSize"))?;
        let content = r.opt_text(kids.one("inhalt"))?;
        let rules = self.rules_of(&kids)?;
        Ok(DataField {
            common,
            kind,
            data_type,
            constraints,
            content,
            code_list,
            values,
            max_size,
            media_types,
            rules,
            remarks,
        })
    }

    /// XDatenfelder 2 writes the limits as JSON text (`{"minLength":"1"}`), 3 as attributes.
    fn constraints(&self, node: Node) -> Result<Constraints, FimError> {
        let text = self.r.text(node)?;
        let mut c = Constraints::default();
        let mut set = |key: &str, value: String| match key {
            "minLength" => c.min_length = Some(value),
            "maxLength" => c.max_length = Some(value),
            "minValue" => c.min_value = Some(value),
            "maxValue" => c.max_value = Some(value),
            "pattern" => c.pattern = Some(value),
            other => c.other.push(format!("{other} = {value}")),
        };
        for a in node.attributes() {
            set(a.name(), a.value().to_owned());
        }
        if !text.is_empty() {
            match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text) {
                Ok(map) => {
                    for (k, v) in map {
                        let value = match v {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        set(&k, value);
                    }
                }
                Err(_) => c.other.push(format!("text `{text}`")),
            }
        }
        Ok(c)
    }

    fn code_list(&self, node: Node) -> Result<CodeListRef, FimError> {
        let r = &self.r;
        let single: &[&str] = match self.xdf {
            XdfVersion::V2 => &["identifikation", "genericodeIdentification"],
            XdfVersion::V3 => &["canonicalIdentification", "version", "canonicalVersionUri"],
        };
        let kids = r.kids(node, single, &[], &mut Vec::new(), &[])?;
        let mut out = CodeListRef::default();
        if let Some(ident) = kids.one("identifikation") {
            out.id = Some(self.identification(ident)?.0);
        }
        let generic = match kids.one("genericodeIdentification") {
            Some(g) => {
                r.kids(g, &["canonicalIdentification", "version", "canonicalVersionUri"], &[], &mut Vec::new(), &[])?
            }
            None => kids,
        };
        out.canonical_uri = r.opt_text(generic.one("canonicalIdentification"))?;
        out.version = r.opt_text(generic.one("version"))?;
        Ok(out)
    }

    fn values(&self, node: Node) -> Result<Vec<Value>, FimError> {
        let r = &self.r;
        let kids = r.kids(node, &[], &["wert"], &mut Vec::new(), &[])?;
        kids.all("wert")
            .map(|w| {
                let k = r.kids(w, &["code", "name", "hilfe"], &[], &mut Vec::new(), &[])?;
                Ok(Value {
                    code: r.required(w, &k, "code")?,
                    name: r.required(w, &k, "name")?,
                    help: r.opt_text(k.one("hilfe"))?,
                })
            })
            .collect()
    }

    /// Reads the rules under an element and returns their identifiers.
    fn rules_of(&mut self, kids: &Kids) -> Result<Vec<String>, FimError> {
        let mut ids = Vec::new();
        for node in kids.all("regel") {
            let rule = self.rule(node)?;
            let id = rule.common.identifier();
            self.rules.entry(id.clone()).or_insert(rule);
            ids.push(id);
        }
        Ok(ids)
    }

    fn rule(&self, node: Node) -> Result<Rule, FimError> {
        let r = &self.r;
        let (own, many): (&[&str], &[&str]) = match self.xdf {
            XdfVersion::V2 => (&["script"], &[]),
            XdfVersion::V3 => (&["freitextRegel", "typ", "skript"], &["param", "ziel", "fehler"]),
        };
        let s = shape(self.xdf, own, many);
        let kids = r.kids(node, &s.single, &s.many, &mut Vec::new(), &[])?;
        let common = self.common(node, &kids, "hilfetextEingabe")?;
        let kind = match kids.one("typ") {
            Some(t) => {
                let code = r.code(t)?;
                if !matches!(code.as_str(), "K" | "M" | "V" | "B") {
                    return Err(r.error(&format!("Invalid RegelTyp: {code}"), t));
                }
                Some(code)
            }
            None => None,
        };
        let script = r.opt_text(kids.one("script").or(kids.one("skript")))?;
        Ok(Rule { common, free_text: r.opt_text(kids.one("freitextRegel"))?, script, kind })
    }
}

/// `1:1`, `0:*`, `1:5`.
fn cardinality(text: &str) -> Option<Cardinality> {
    let (min, max) = text.split_once(':')?;
    let min: u32 = min.trim().parse().ok()?;
    let max = match max.trim() {
        "*" => None,
        m => Some(m.parse::<u32>().ok().filter(|m| *m >= min.max(1))?),
    };
    Some(Cardinality { min, max })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinalities_read_as_fim_writes_them() {
        assert_eq!(cardinality("1:1"), Some(Cardinality::ONE));
        assert_eq!(cardinality("0:*"), Some(Cardinality { min: 0, max: None }));
        assert_eq!(cardinality("2:5"), Some(Cardinality { min: 2, max: Some(5) }));
        assert_eq!(cardinality("3:2"), None);
        assert_eq!(cardinality("eins"), None);
    }
}
