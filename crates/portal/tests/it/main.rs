//! The portal: relevance on the shared test data, and the search and service pages and API on
//! the demo county (SQLite, or PostgreSQL with `KREISHAUS_TEST_POSTGRES`).

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod editor;
mod pages;
mod relevance;
