//! The holder's side of credential issuance (OpenID for Verifiable Credential Issuance 1.0).
//!
//! Owns: the OpenID4VCI messages and the holder's flow over a transport the caller supplies
//! (sans-I/O). Imports `crypto`, `cose`, `trust`, `mdoc`, `sdjwt` and `time` to check what it
//! receives; never `store`, `api` or `issuer`: storing is the caller's step.

pub mod check;
pub mod error;
pub mod flow;
pub mod messages;
pub mod metadata;
pub mod offer;
pub mod pkce;
pub mod proof;
pub mod url;
