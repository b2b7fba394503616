//! The server: the web shell around every page, operational endpoints, the OpenAPI document,
//! the command line as a user runs it, and two nodes on one PostgreSQL database.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod cli;
mod datastore_search;
mod nothing_lost;
mod ops;
mod scale_out;
mod shell;
