//! Trust: X.509 certificate chains checked against per-role trust anchors, with the certificate
//! profiles of ISO/IEC 18013-5 Annex B.
//!
//! Owns: certificate parsing and path validation per role, status lists and their tokens.
//! Imports `cose`, `crypto` and `limits`; never a credential format (`mdoc`, `sdjwt`),
//! `documents`, `store` or `api`.

pub mod jws;
pub mod status_list;
pub mod status_token;
pub mod x509;
