//! The FIM import: an XDatenfelder 2.0 or 3.0.0 schema (Stammdatenschema or Datenfeldgruppe)
//! becomes a form definition, with a report of everything the form model could not take over.
//! See `docs/FORMS-FIM.md` for the mapping.

mod convert;
pub mod model;
mod parse;
mod xml;

pub use convert::convert;
pub use parse::{NS_V2, NS_V3, parse};

use crate::definition::Form;

/// Files larger than this are refused before parsing.
pub const MAX_BYTES: usize = 10 * 1_048_576;

/// Why a file was refused: the first problem, with the node and its position where there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FimError(pub String);

impl std::fmt::Display for FimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FimError {}

/// Something of the schema the form does not carry, or carries differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The element it concerns (`F60000227:1.1`, `R60000037:1.2`), or the schema's identifier.
    pub element: String,
    pub message: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.element, self.message)
    }
}

/// The result of an import: the schema as read, the form, and the report.
#[derive(Clone, Debug)]
pub struct Imported {
    pub schema: model::Schema,
    pub form: Form,
    pub report: Vec<Note>,
}

/// Reads an XDatenfelder file and converts it into a form definition.
pub fn import(xml: &str) -> Result<Imported, FimError> {
    let schema = parse(xml)?;
    let (form, report) = convert(&schema);
    Ok(Imported { schema, form, report })
}
