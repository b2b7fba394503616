//! Online applications (Online-Anträge): form definitions as versioned data, their validation,
//! and the import of FIM XDatenfelder schemas. The web pages, drafts, submissions and the clerk
//! inbox build on this (issue 5).

pub mod definition;
pub mod validate;
