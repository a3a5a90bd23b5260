//! Government documents the wallet holds besides mobile IDs: e-certificates (전자증명서), and
//! bills from registered senders (with the signed-payload check they share with notices).
//!
//! Owns: e-certificate types, bills, MyData consent tokens and the signed-payload check. Imports
//! `cose`, `crypto`, `trust` and `time`; never `mdoc`, `sdjwt`, `store` or `api`.

pub mod bills;
pub mod consent;
pub mod e_certificates;
pub mod signed;

/// The Korean and English names of a credential type the wallet knows: an mdoc docType or an
/// e-certificate's `vct`.
pub fn known_names(doc_type: &str) -> Option<(&'static str, &'static str)> {
    match doc_type {
        "org.iso.18013.5.1.mDL" => Some(("모바일 운전면허증", "Mobile driver's licence")),
        "kr.jigap.mdoc.resident-registration.1" => {
            Some(("모바일 주민등록증", "Mobile resident registration card"))
        }
        other => e_certificates::find(other)
            .filter(|kind| kind.vct == other)
            .map(|kind| (kind.name_ko, kind.name_en)),
    }
}
