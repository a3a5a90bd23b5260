//! OpenID for Verifiable Presentations 1.0 with DCQL, the HAIP 1.0 profile and the W3C Digital
//! Credentials API: the holder's side (read and verify a request, match it to credentials,
//! build the response) and the relying party's side (make a signed request, read and verify
//! the response), both sans-I/O.
//!
//! Owns: request objects and client identifier prefixes, DCQL, `vp_token`, the response modes,
//! the OpenID4VP and Digital Credentials API handovers. Imports `mdoc`, `sdjwt`, `verifier`,
//! `trust`, `cose`, `crypto`; never `store`, `issuance` or `api`.

pub mod dc_api;
pub mod dcql;
pub mod request;
pub mod response;
pub mod verifier;
