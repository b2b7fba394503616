//! The portal: relevance on the shared test data, and the search and service pages and API on
//! the demo county (SQLite, or PostgreSQL with `KREISHAUS_TEST_POSTGRES`).

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod content;
mod content_api;
mod editor;
mod exchange;
mod pages;
mod relevance;
mod synonyms;

/// The text of the `rules` text area on the synonyms page, unescaped.
fn synonyms_text(body: &str) -> String {
    let area = body.split("name=\"rules\"").nth(1).expect("the rules text area");
    let text = area.split_once('>').expect("its content").1.split("</textarea>").next().expect("its end");
    [("&#62;", ">"), ("&#60;", "<"), ("&#39;", "'"), ("&#34;", "\""), ("&#38;", "&")]
        .iter()
        .fold(text.to_owned(), |t, (entity, c)| t.replace(entity, c))
}
