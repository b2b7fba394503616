//! Citizen and organisation accounts (Bürgerkonto, Unternehmenskonto): registration with
//! e-mail verification, login with an optional second factor (TOTP with recovery codes),
//! password reset, e-mail change, the session's eIDAS trust level (Vertrauensniveau), the
//! profile (Stammdaten) with verified and self-entered values, the privacy cockpit
//! (Datenschutzcockpit) with export and deletion, and organisations with members.
//!
//! Citizens are a principal of their own, beside staff: own table, own sessions and cookie
//! (`docs/adr/0009-citizen-accounts.md`). They belong to no tenant.

pub mod model;
pub mod oidc;
pub mod sealed;
pub mod service;
pub mod store;
pub mod totp;

pub use model::{Citizen, TrustLevel};
