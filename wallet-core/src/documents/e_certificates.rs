//! The catalogue of e-certificates (전자증명서) held as SD-JWT VCs: each type's `vct`,
//! Korean and English names, claim labels, which claims are selectively disclosable, and how
//! long a certificate stays valid after issue.
//!
//! The `vct` values are in a project namespace (`urn:jigap:cert:*`): no public SD-JWT VC type
//! registry for Korean certificates exists yet.

/// One claim of a certificate type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimSpec {
    /// JSON pointer of the claim.
    pub path: &'static str,
    /// Korean label.
    pub label_ko: &'static str,
    /// English label.
    pub label_en: &'static str,
    /// The holder can withhold it.
    pub disclosable: bool,
}

/// One certificate type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ECertificateType {
    /// Short name used by the CLI.
    pub id: &'static str,
    /// SD-JWT VC type.
    pub vct: &'static str,
    /// Korean name.
    pub name_ko: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// Days a certificate is valid after issue.
    pub valid_days: u32,
    /// Its claims.
    pub claims: &'static [ClaimSpec],
}

const fn claim(
    path: &'static str,
    label_ko: &'static str,
    label_en: &'static str,
    disclosable: bool,
) -> ClaimSpec {
    ClaimSpec {
        path,
        label_ko,
        label_en,
        disclosable,
    }
}

/// Every certificate type the wallet knows.
pub const CATALOGUE: &[ECertificateType] = &[
    ECertificateType {
        id: "resident-abstract",
        vct: "urn:jigap:cert:resident-registration-abstract:1",
        name_ko: "주민등록표 초본",
        name_en: "Resident registration abstract",
        valid_days: 90,
        claims: &[
            claim("/name", "성명", "Name", true),
            claim(
                "/resident_registration_number",
                "주민등록번호",
                "Resident registration number",
                true,
            ),
            claim("/birth_date", "생년월일", "Date of birth", true),
            claim("/address", "주소", "Address", true),
            claim("/address/region", "시·도", "Region", true),
            claim("/address/locality", "시·군·구", "Locality", true),
            claim("/address/street", "도로명주소", "Street address", true),
            claim(
                "/address_history",
                "주소 변동 이력",
                "Address history",
                true,
            ),
            claim(
                "/is_head_of_household",
                "세대주 여부",
                "Head of household",
                true,
            ),
        ],
    },
    ECertificateType {
        id: "family-relation",
        vct: "urn:jigap:cert:family-relation:1",
        name_ko: "가족관계증명서",
        name_en: "Family relation certificate",
        valid_days: 90,
        claims: &[
            claim("/name", "성명", "Name", true),
            claim("/birth_date", "생년월일", "Date of birth", true),
            claim("/spouse", "배우자", "Spouse", true),
            claim("/children", "자녀", "Children", true),
            claim("/parents", "부모", "Parents", true),
        ],
    },
    ECertificateType {
        id: "health-insurance",
        vct: "urn:jigap:cert:health-insurance-eligibility:1",
        name_ko: "건강보험 자격득실 확인서",
        name_en: "Health-insurance eligibility certificate",
        valid_days: 30,
        claims: &[
            claim("/name", "성명", "Name", true),
            claim("/birth_date", "생년월일", "Date of birth", true),
            claim("/insured_type", "가입자 구분", "Insured type", true),
            claim("/employer", "사업장", "Employer", true),
            claim("/eligible_since", "자격 취득일", "Eligible since", true),
        ],
    },
    ECertificateType {
        id: "tax-payment",
        vct: "urn:jigap:cert:tax-payment:1",
        name_ko: "납세증명서",
        name_en: "Tax payment certificate",
        valid_days: 30,
        claims: &[
            claim("/name", "성명", "Name", true),
            claim(
                "/resident_registration_number",
                "주민등록번호",
                "Resident registration number",
                true,
            ),
            claim("/address", "주소", "Address", true),
            claim("/arrears", "체납액 없음", "No tax arrears", false),
            claim("/purpose", "사용 목적", "Purpose", true),
        ],
    },
];

/// A certificate type by its short name or `vct`.
pub fn find(id_or_vct: &str) -> Option<&'static ECertificateType> {
    CATALOGUE
        .iter()
        .find(|t| t.id == id_or_vct || t.vct == id_or_vct)
}

/// The disclosable paths of a type that exist in `claims`.
pub fn disclosable_paths(kind: &ECertificateType, claims: &serde_json::Value) -> Vec<String> {
    kind.claims
        .iter()
        .filter(|c| c.disclosable && claims.pointer(c.path).is_some())
        .map(|c| c.path.to_string())
        .collect()
}

/// The label of the claim at `path` for a type, in Korean and English.
pub fn label(kind: &ECertificateType, path: &str) -> Option<(&'static str, &'static str)> {
    kind.claims
        .iter()
        .find(|c| c.path == path)
        .map(|c| (c.label_ko, c.label_en))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_consistent() {
        for t in CATALOGUE {
            assert!(t.vct.starts_with("urn:jigap:cert:"));
            assert_eq!(find(t.id), Some(t));
            assert_eq!(find(t.vct), Some(t));
            assert!(t.valid_days > 0 && !t.claims.is_empty());
            for c in t.claims {
                assert!(c.path.starts_with('/'), "{}", c.path);
            }
        }
        let abstract_ = find("resident-abstract").unwrap();
        let claims = serde_json::json!({"name": "홍길동", "address": {"region": "서울", "locality": "종로구"}});
        assert_eq!(
            disclosable_paths(abstract_, &claims),
            ["/name", "/address", "/address/region", "/address/locality"]
        );
        assert_eq!(label(abstract_, "/name"), Some(("성명", "Name")));
    }
}
