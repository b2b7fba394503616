//! The `kreishaus` binary's library: command line, configuration, wiring of all domains into
//! one router, operational endpoints, the demo county and the benchmarks. The only crate that
//! knows every other crate.

pub mod app;
pub mod bench;
pub mod cli;
pub mod config;
pub mod datastore_search;
pub mod demo;
pub mod ops;
