//! Government documents the wallet holds besides mobile IDs: e-certificates (전자증명서), and
//! bills from registered senders (with the signed-payload check they share with notices).
//!
//! Owns: e-certificate types, bills, MyData consent tokens and the signed-payload check. Imports
//! `cose`, `crypto`, `trust` and `time`; never `mdoc`, `sdjwt`, `store` or `api`.

pub mod bills;
pub mod consent;
pub mod e_certificates;
pub mod signed;
