//! Incoming e-invoices, the workflow around them (Rechnungseingang): intake over the API, a
//! drop folder, the invoice mailbox (IMAP) and the business account, routing by Leitweg-ID to the tenant and org unit
//! that own it, duplicate detection, the approval with separation of duties (sachlich
//! richtig, rechnerisch richtig, Anordnung by three people), account assignment, Skonto and
//! due-date reminders, the booking export for the finance system, and the German rendering.
//!
//! Reading and validating the XML is the `einvoice` crate's; this crate never parses XML
//! itself and adds no rule of EN 16931 or XRechnung.

pub mod http;
pub mod jobs;
pub mod mailbox;
pub mod model;
pub mod render;
pub mod service;
pub mod store;

/// This crate's messages.
pub const MESSAGES: web::Messages =
    web::Messages { de: include_str!("../messages/de.toml"), en: include_str!("../messages/en.toml") };
