//! The session's OpenID token issuer: what llama-stack's `oauth2_token`
//! auth provider verifies tokens against, owned by the session so tests can
//! act as users without any identity provider on the machine. The main
//! type is [`Issuer`].
//!
//! ```text
//! supervisor: Issuer::start -> keys (current, next) -> 127.0.0.1:PORT
//!     hands the stack STACK_HARNESS_JWKS_URI, STACK_HARNESS_ISSUER, STACK_HARNESS_AUDIENCE
//! stack:       GET /jwks on the first authenticated request (and on a key id it lacks)
//! test process: IssuerClient -> POST /mint {user, roles, groups, case} -> a token
//! ```
//!
//! `keys` (RSA keys and their JWKs), `token` (claims and the ways a token
//! can be wrong), `server` (the HTTP side, rotation), `client` (the test
//! process's side).

mod client;
mod keys;
mod server;
mod token;

pub(crate) use client::IssuerClient;
pub(crate) use server::{Issuer, IssuerError, IssuerOptions};
pub(crate) use token::MintRequest;
pub use token::TokenCase;
