//! Government documents the wallet holds besides mobile IDs: e-certificates (전자증명서), and
//! bills from registered senders (with the signed-payload check they share with notices).
//!
//! Owns: e-certificate types, bills, MyData consent tokens and the signed-payload check. Imports
//! `cose`, `crypto`, `trust` and `time`; never `mdoc`, `sdjwt`, `store` or `api`.

pub mod bills;
pub mod consent;
pub mod e_certificates;
pub mod signed;

/// Provisional docType of the Korean mobile resident registration card. No public mdoc docType
/// exists for it; this project namespace stands in until one is published.
pub const RESIDENT_CARD_DOCTYPE: &str = "kr.jigap.mdoc.resident-registration.1";
/// Provisional namespace of the resident registration card's elements.
pub const RESIDENT_CARD_NAMESPACE: &str = "kr.jigap.mdoc.resident-registration.1";

/// The Korean and English labels of an mdoc data element the wallet knows (the mDL's and the
/// resident card's; `age_over_NN` for any NN).
pub fn element_label(namespace: &str, element: &str) -> Option<(String, String)> {
    if let Some(age) = element
        .strip_prefix("age_over_")
        .filter(|n| !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some((format!("만 {age}세 이상"), format!("Aged {age} or over")));
    }
    let known: &[(&str, &str, &str)] = match namespace {
        "org.iso.18013.5.1" => &[
            ("family_name", "성", "Family name"),
            ("given_name", "이름", "Given name"),
            ("birth_date", "생년월일", "Date of birth"),
            ("age_in_years", "나이", "Age"),
            ("age_birth_year", "출생 연도", "Year of birth"),
            ("portrait", "사진", "Portrait"),
            ("issue_date", "발급일", "Issue date"),
            ("expiry_date", "만료일", "Expiry date"),
            ("issuing_country", "발급 국가", "Issuing country"),
            ("issuing_authority", "발급 기관", "Issuing authority"),
            ("document_number", "면허 번호", "Licence number"),
            ("driving_privileges", "면허 종류", "Driving privileges"),
            (
                "un_distinguishing_sign",
                "국제 식별 기호",
                "Distinguishing sign",
            ),
            ("resident_address", "주소", "Address"),
        ],
        RESIDENT_CARD_NAMESPACE => &[
            ("name_ko", "성명", "Name"),
            (
                "resident_registration_number",
                "주민등록번호",
                "Resident registration number",
            ),
            ("birth_date", "생년월일", "Date of birth"),
            ("resident_address", "주소", "Address"),
            ("issue_date", "발급일", "Issue date"),
            ("issuing_authority", "발급 기관", "Issuing authority"),
            ("portrait", "사진", "Portrait"),
        ],
        _ => &[],
    };
    known
        .iter()
        .find(|(e, _, _)| *e == element)
        .map(|(_, ko, en)| ((*ko).to_owned(), (*en).to_owned()))
}

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
