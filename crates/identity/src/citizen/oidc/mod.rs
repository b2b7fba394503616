//! Login over OpenID Connect (a relying party): an external identity provider (the online ID
//! card through BundID, an eID service, a test provider) confirms who the citizen is and at
//! which eIDAS level. Authorization code flow with PKCE (S256), nonce, and a state bound to
//! the browser; the ID token's signature (RS256/ES256 with the provider's published keys) and
//! claims are checked here; the provider's `acr` (or a configured claim) maps to a
//! [`TrustLevel`](crate::citizen::TrustLevel). See `docs/adr/0011-openid-connect-login.md`.
//!
//! Not here: being a provider ourselves, logout at the provider, dynamic client registration.

pub mod client;
pub mod jwt;
pub mod model;
pub mod service;
pub mod store;

pub use client::Providers;
pub use model::OidcProviderConfig;
