//! The holder's side of credential issuance (OpenID for Verifiable Credential Issuance 1.0).

pub mod proof;
