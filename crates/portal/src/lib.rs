//! The service portal: the catalogue of services (Leistungen) across all tenants and the search
//! that finds them in citizens' words. This first slice is the search core and its evaluation;
//! the catalogue pages, the jurisdiction finder, news and events come next (issue 4).

pub mod catalogue;
pub mod search;
