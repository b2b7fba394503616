//! Identity of staff: tenants (Mandanten), their org units, staff accounts, roles scoped to a
//! tenant or an org unit, login with Argon2id passwords, database sessions valid on every
//! node, and the proof of permission ([`model::Authorized`]) that service functions of every
//! domain require; and the accounts of citizens and businesses (Bürgerkonto, Unternehmenskonto,
//! [`citizen`]) with their trust levels, profile and privacy cockpit.

pub mod citizen;
pub mod http;
pub mod model;
pub mod service;
pub mod store;

pub use model::{Authorized, Permission, Role, Staff};

/// This crate's messages.
pub const MESSAGES: web::Messages =
    web::Messages { de: include_str!("../messages/de.toml"), en: include_str!("../messages/en.toml") };
