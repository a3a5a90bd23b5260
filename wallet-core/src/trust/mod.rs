//! Trust: X.509 certificate chains checked against per-role trust anchors, with the certificate
//! profiles of ISO/IEC 18013-5 Annex B.

pub mod status_list;
pub mod status_token;
pub mod x509;
