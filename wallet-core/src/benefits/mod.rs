//! On-device benefit eligibility ("My AI Assistant"): a signed catalog of benefits, each with
//! a rule over citizen attributes (`rules`), evaluated on the phone against the wallet's own
//! credentials and facts the citizen chose to enter. Nothing leaves the device.
//!
//! Owns: the rule language, the signed catalog and its evaluation. Imports only `cose` (the
//! catalog's CBOR); never `store`, `api` or a credential format: the caller hands it the facts.

pub mod catalog;
pub mod rules;

use rules::Type;

/// The citizen attributes rules may use: name, type, meaning, and the document that proves it.
pub const ATTRIBUTES: &[(&str, Type, &str, &str)] = &[
    (
        "age",
        Type::Int,
        "age in whole years",
        "모바일 주민등록증 또는 운전면허증",
    ),
    (
        "sex",
        Type::Text,
        "\"female\" or \"male\"",
        "주민등록표 초본",
    ),
    (
        "region",
        Type::Text,
        "시·도 of residence, e.g. \"서울\"",
        "주민등록표 초본",
    ),
    (
        "household_size",
        Type::Int,
        "people in the household",
        "주민등록표 초본",
    ),
    (
        "income_percent_median",
        Type::Int,
        "household income as % of the standard median income",
        "건강보험 자격득실 확인서, 소득금액증명",
    ),
    ("pregnant", Type::Bool, "currently pregnant", "임신확인서"),
    (
        "children_count",
        Type::Int,
        "children under 18",
        "가족관계증명서",
    ),
    (
        "youngest_child_age_months",
        Type::Int,
        "age of the youngest child in months",
        "가족관계증명서",
    ),
    (
        "disability",
        Type::Bool,
        "registered disability",
        "장애인증명서",
    ),
    (
        "employment",
        Type::Text,
        "\"employed\", \"unemployed\", \"self_employed\", \"student\" or \"retired\"",
        "고용보험 자격이력내역서",
    ),
    (
        "veteran",
        Type::Bool,
        "person of national merit",
        "국가유공자증",
    ),
    ("married", Type::Bool, "married", "가족관계증명서"),
    (
        "months_since_marriage",
        Type::Int,
        "months since the marriage was registered",
        "혼인관계증명서",
    ),
    (
        "homeowner",
        Type::Bool,
        "the household owns a home",
        "주택소유확인서",
    ),
    (
        "single_parent",
        Type::Bool,
        "single-parent family",
        "한부모가족증명서",
    ),
    (
        "farmer",
        Type::Bool,
        "registered farm operator",
        "농업경영체 등록확인서",
    ),
];

/// The type of attribute `name`.
pub fn attribute_type(name: &str) -> Option<Type> {
    ATTRIBUTES
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, t, ..)| *t)
}

/// The document that supplies attribute `name`.
pub fn attribute_document(name: &str) -> &'static str {
    ATTRIBUTES
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(.., d)| *d)
        .unwrap_or("")
}
