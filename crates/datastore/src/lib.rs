//! Open data tables (datastore): CSV files become queryable tables. A resource is one table:
//! streamed in from an upload or a URL (encoding, delimiter and header found by sniffing, types
//! inferred per column and correctable by staff, every bad row reported with its line), stored
//! as a table of its own on either engine with a column catalogue, and read through one query
//! function (filters, sort, full text, column selection, group by with aggregates, a join of
//! two resources, pagination) that the data API, the previews (table, SVG charts, a static map)
//! and the `opendata` crate's CKAN `datastore_search` all use. Count columns suppress values
//! below k in every output. Datasets and their metadata are not here: they are `opendata`'s.

pub mod chart;
pub mod csv;
pub mod demo;
pub mod http;
pub mod model;
pub mod query;
pub mod service;
pub mod store;

/// This crate's messages.
pub const MESSAGES: web::Messages =
    web::Messages { de: include_str!("../messages/de.toml"), en: include_str!("../messages/en.toml") };
