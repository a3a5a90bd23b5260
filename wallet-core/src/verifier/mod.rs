//! The relying party's side: build requests and verify what holders present.
//!
//! Owns: the relying party's checks of mdoc and SD-JWT VC presentations. Imports `mdoc`,
//! `sdjwt`, `trust`, `cose`, `crypto` and `time`; never `store`, `issuance` or `api`.

pub mod mdoc;
pub mod sdjwt;
