//! Open data (Offene Daten): datasets of each publisher (tenant) described with DCAT-AP.de
//! metadata, their distributions (files in the object store, APIs, links; a distribution may
//! name a table of the data store), groups, the history of changes and the privacy guard (a
//! dataset is published only once confirmed free of personal data). Published datasets are
//! read through public pages, CKAN's Action API v3 and a DCAT-AP.de catalogue.
//!
//! Not here: CSV ingestion, the data query API, charts and maps (the data store); this crate
//! only names a data store table by its resource id and hands `datastore_search` to it through
//! [`http::api::DatastoreSearch`].

pub mod ckan;
pub mod dcat;
pub mod http;
pub mod model;
pub mod service;
pub mod store;

/// This crate's messages.
pub const MESSAGES: web::Messages =
    web::Messages { de: include_str!("../messages/de.toml"), en: include_str!("../messages/en.toml") };
