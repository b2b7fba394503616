//! Open data tables (datastore): CSV files become queryable tables. A resource is one table:
//! streamed in from an upload or a URL (encoding, delimiter and header found by sniffing, types
//! inferred per column and correctable by staff, every bad row reported with its line), stored
//! as a table of its own on either engine with a column catalogue, and read through one query
//! function (filters, sort, full text, column selection, group by with aggregates, a join of
//! two resources, pagination) that the data API, the previews (table, SVG charts, a static map)
//! and the `opendata` crate's CKAN `datastore_search` all use. Count columns suppress values
//! below k in every output. Datasets and their metadata are not here: they are `opendata`'s.

pub mod chart;
pub mod columnar;
pub mod demo;
pub mod http;
pub mod model;
pub mod query;
pub mod service;
pub mod store;

/// This crate's messages.
pub const MESSAGES: web::Messages =
    web::Messages { de: include_str!("../messages/de.toml"), en: include_str!("../messages/en.toml") };

#[cfg(test)]
mod tests {
    use web::i18n::{I18n, Lang};

    /// Every message code the crate can show (row problems, query errors, import states, column
    /// types) has a German and an English text (the CSV reader's own are the web layer's).
    #[test]
    fn every_message_code_has_a_german_and_an_english_text() {
        let i18n = I18n::new(&[crate::MESSAGES]).expect("the messages parse");
        let sources = [
            include_str!("model.rs"),
            include_str!("query.rs"),
            include_str!("service.rs"),
            include_str!("http/api.rs"),
            include_str!("http/pages.rs"),
        ];
        let mut codes: Vec<String> = sources
            .iter()
            .flat_map(|s| s.split('"').skip(1).step_by(2))
            .filter(|q| {
                q.split_once('.').is_some_and(|(section, key)| {
                    section == "datastore"
                        && !key.is_empty()
                        && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                })
            })
            .map(str::to_owned)
            .collect();
        codes.extend(crate::model::ColumnType::ALL.iter().map(|t| format!("datastore.type_{}", t.as_str())));
        codes.extend(["running", "done", "failed"].iter().map(|s| format!("datastore.state_{s}")));
        assert!(codes.len() > 40, "{codes:?}");
        let missing: Vec<&String> = codes.iter().filter(|c| !i18n.has(Lang::De, c) || !i18n.has(Lang::En, c)).collect();
        assert!(missing.is_empty(), "no message for {missing:?}");
    }
}
