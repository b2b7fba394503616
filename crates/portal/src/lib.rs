//! The service portal: the catalogue of services (Leistungen) across all tenants, who is
//! responsible for whom (Zuständigkeitsfinder), the news, events and pages of every tenant
//! (`content`), and the one search that finds all of them in citizens' words. Not here: forms
//! and applications (`forms`), appointments, payments.

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
