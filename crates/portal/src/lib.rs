//! The service portal: the catalogue of services (Leistungen) across all tenants, who is
//! responsible for whom (Zuständigkeitsfinder), and the search that finds services in citizens'
//! words. Not yet here (issue 4): the editor, news and events, OZG maturity, XZuFi export.

pub mod catalogue;
pub mod content;
pub mod details;
pub mod exchange;
pub mod http;
pub mod search;
pub mod service;
pub mod store;
pub mod xzufi;

/// This crate's messages.
pub const MESSAGES: web::Messages =
    web::Messages { de: include_str!("../messages/de.toml"), en: include_str!("../messages/en.toml") };
