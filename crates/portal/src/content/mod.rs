//! News (Aktuelles), events (Veranstaltungen) with registration and waiting list, and content
//! pages (Seiten: Impressum, Datenschutz, Barrierefreiheit, …) of every tenant, written by its
//! Redaktion; with the Atom and iCalendar feeds. The search covers them beside the services
//! (`crate::service::Catalogue`).

pub mod feeds;
pub mod model;
pub mod service;
pub mod store;
