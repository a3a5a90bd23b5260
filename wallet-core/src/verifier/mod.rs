//! The relying party's side: build requests and verify what holders present.

pub mod mdoc;
pub mod sdjwt;
