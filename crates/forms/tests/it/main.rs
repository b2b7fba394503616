//! Online applications end to end on the demo county (SQLite, or PostgreSQL with
//! `KREISHAUS_TEST_POSTGRES`): the Redaktion publishes a form, a citizen applies page by page,
//! a clerk works the inbox, the applicant follows the status.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod api;
mod delivery;
mod demo_forms;
mod fim_import;
mod inbox;
mod journey;
