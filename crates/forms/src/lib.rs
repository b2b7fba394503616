//! Online applications (Online-Anträge): form definitions as versioned data, their validation,
//! and the import of FIM XDatenfelder schemas. The web pages, drafts, submissions and the clerk
//! inbox build on this (issue 5).

pub mod definition;
pub mod delivery;
pub mod export;
pub mod fim;
pub mod http;
pub mod intake;
pub mod model;
pub mod render;
pub mod service;
pub mod store;
pub mod tracking;
pub mod validate;

/// This crate's messages.
pub const MESSAGES: web::Messages =
    web::Messages { de: include_str!("../messages/de.toml"), en: include_str!("../messages/en.toml") };
