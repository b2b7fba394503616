//! An XDatenfelder schema as read from the file, version-neutral: what the conversion into a
//! form definition works from. Identifiers are `id:version` (`F60000227:1.1`), or the bare id
//! where the file gives no version.

use std::collections::BTreeMap;

/// The XDatenfelder version of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XdfVersion {
    /// XDatenfelder 2.0 (`urn:xoev-de:fim:standard:xdatenfelder_2`).
    V2,
    /// XDatenfelder 3.0.0 (`urn:xoev-de:fim:standard:xdatenfelder_3.0.0`).
    V3,
}

/// What every element (schema, group, field, rule) has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Common {
    pub id: String,
    pub version: Option<String>,
    pub name: String,
    /// `bezeichnungEingabe`: the label for the person filling in.
    pub input_label: Option<String>,
    pub description: Option<String>,
    pub definition: Option<String>,
    /// `hilfetextEingabe` (`hilfetext` on a schema).
    pub input_help: Option<String>,
}

impl Common {
    /// `id:version`, or the id alone.
    pub fn identifier(&self) -> String {
        match &self.version {
            Some(v) => format!("{}:{v}", self.id),
            None => self.id.clone(),
        }
    }

    /// The label for the form: `bezeichnungEingabe`, else the name.
    pub fn label(&self) -> &str {
        self.input_label.as_deref().filter(|l| !l.is_empty()).unwrap_or(&self.name)
    }
}

/// How often an element occurs in its structure (`anzahl`, `1:1`, `0:*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cardinality {
    pub min: u32,
    /// `None` for unbounded (`*`).
    pub max: Option<u32>,
}

impl Cardinality {
    pub const ONE: Cardinality = Cardinality { min: 1, max: Some(1) };

    /// Whether the element can occur more than once.
    pub fn repeats(&self) -> bool {
        self.max.is_none_or(|m| m > 1)
    }
}

/// A schema (Stammdatenschema), or the data group a `datenfeldgruppe` message carries.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    pub xdf: XdfVersion,
    pub common: Common,
    /// Identifiers of the rules attached to the schema itself.
    pub rules: Vec<String>,
    pub children: Vec<Child>,
    /// Every rule in the file by identifier, wherever it was attached.
    pub all_rules: BTreeMap<String, Rule>,
}

/// An element in a structure with its cardinality.
#[derive(Clone, Debug, PartialEq)]
pub struct Child {
    pub cardinality: Cardinality,
    pub element: Element,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Element {
    Group(Box<Group>),
    Field(Box<DataField>),
}

/// A data group (Datenfeldgruppe).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub common: Common,
    pub rules: Vec<String>,
    pub children: Vec<Child>,
}

/// How a field is shown (`feldart`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Input,
    Select,
    Label,
    Hidden,
    Locked,
}

impl FieldKind {
    pub fn parse(code: &str) -> Option<FieldKind> {
        Some(match code {
            "input" => FieldKind::Input,
            "select" => FieldKind::Select,
            "label" => FieldKind::Label,
            "hidden" => FieldKind::Hidden,
            "locked" => FieldKind::Locked,
            _ => return None,
        })
    }
}

/// What a field holds (`datentyp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataType {
    Text,
    TextLatin,
    Date,
    Time,
    DateTime,
    Bool,
    Num,
    NumInt,
    NumCurrency,
    File,
    Obj,
}

impl DataType {
    pub fn parse(code: &str) -> Option<DataType> {
        Some(match code {
            "text" => DataType::Text,
            "text_latin" => DataType::TextLatin,
            "date" => DataType::Date,
            "time" => DataType::Time,
            "datetime" => DataType::DateTime,
            "bool" => DataType::Bool,
            "num" => DataType::Num,
            "num_int" => DataType::NumInt,
            "num_currency" => DataType::NumCurrency,
            "file" => DataType::File,
            "obj" => DataType::Obj,
            _ => return None,
        })
    }
}

/// The limits of a field (`praezisierung`), as written in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Constraints {
    pub min_length: Option<String>,
    pub max_length: Option<String>,
    pub min_value: Option<String>,
    pub max_value: Option<String>,
    pub pattern: Option<String>,
    /// Anything else given (free text, unknown keys), to be reported.
    pub other: Vec<String>,
}

/// A reference to a code list kept elsewhere (XRepository).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeListRef {
    pub id: Option<String>,
    pub canonical_uri: Option<String>,
    pub version: Option<String>,
}

impl CodeListRef {
    pub fn describe(&self) -> String {
        let name = self.canonical_uri.as_deref().or(self.id.as_deref()).unwrap_or("(without identification)");
        match &self.version {
            Some(v) => format!("{name} version {v}"),
            None => name.to_owned(),
        }
    }
}

/// A value of a list given in the file itself (XDatenfelder 3 `werte`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    pub code: String,
    pub name: String,
    pub help: Option<String>,
}

/// A data field (Datenfeld).
#[derive(Clone, Debug, PartialEq)]
pub struct DataField {
    pub common: Common,
    pub kind: FieldKind,
    pub data_type: DataType,
    pub constraints: Constraints,
    /// `inhalt`: a default value, or the text of a label field.
    pub content: Option<String>,
    pub code_list: Option<CodeListRef>,
    pub values: Vec<Value>,
    /// XDatenfelder 3: the largest file, in bytes.
    pub max_size: Option<String>,
    pub media_types: Vec<String>,
    pub rules: Vec<String>,
    /// What the reader noticed but the model has no place for (prefill, code list columns,
    /// a repeated `inhalt`); it goes into the import report.
    pub remarks: Vec<String>,
}

/// A rule (Regel): free text or a script; the conversion maps what the form model can express.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub common: Common,
    pub free_text: Option<String>,
    pub script: Option<String>,
    /// XDatenfelder 3 `typ`: K, M, V, B.
    pub kind: Option<String>,
}
