//! Incoming e-invoices (XRechnung, EN 16931): the secure reader, the EN 16931 semantic model
//! with its UBL and CII mappers, and the business-rule engine that evaluates the CEN and
//! XRechnung schematron rules natively on the XML tree, the KoSIT validation pipeline, and the
//! extraction of the XML from ZUGFeRD / Factur-X PDFs.
//!
//! This crate is pure: no database, no HTTP, no async, no network. It knows nothing about
//! tenants, approval or booking; the `invoices` domain builds on it.

pub mod decimal;
pub mod model;
pub mod pdf;
pub mod reader;
pub mod rules;
pub mod scenario;
pub mod schema;
pub mod validate;
pub mod xpath;

pub use reader::{ReadError, Syntax};
pub use validate::{Report, Verdict, validate};
