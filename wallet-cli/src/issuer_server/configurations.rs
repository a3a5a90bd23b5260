//! What the test issuer issues: its credential configurations (OpenID4VCI 1.0 section 12.2.4
//! and appendix A — `mso_mdoc` for the mDL and the resident registration card, `dc+sd-jwt` for
//! each e-certificate type), the subject a credential is about, and the issuing itself through
//! the test authority.
//!
//! The e-certificate types are the core's catalogue (`wallet_core::e_certificate_types`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::OnceLock;

use wallet_core::{MdlClaims, ResidentCardClaims, StatusListEntry, TestAuthority, WalletError};

use crate::mdoc::SAMPLE_PORTRAIT;

/// The mDL's docType (ISO/IEC 18013-5).
const MDL_DOCTYPE: &str = "org.iso.18013.5.1.mDL";
/// The mDL's namespace.
const MDL_NAMESPACE: &str = "org.iso.18013.5.1";
/// The provisional docType, and namespace, of the Korean mobile resident registration card.
const RESIDENT_CARD_DOCTYPE: &str = "kr.jigap.mdoc.resident-registration.1";

/// How a configuration's credentials are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// An ISO mDL (`mso_mdoc`).
    Mdl,
    /// A mobile resident registration card (`mso_mdoc`, provisional docType).
    ResidentCard,
    /// An e-certificate (`dc+sd-jwt`) of this SD-JWT VC type.
    ECertificate {
        /// Its `vct`.
        vct: String,
    },
}

/// One credential configuration the issuer offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configuration {
    /// Its identifier in `credential_configurations_supported`, also its `scope` (for an
    /// e-certificate, the short name `TestAuthority::issue_e_certificate` takes).
    pub id: String,
    /// Korean display name.
    pub name_ko: String,
    /// English display name.
    pub name_en: String,
    /// What it issues.
    pub kind: Kind,
}

/// Every configuration, in the order the metadata lists them: the two mdocs, then every
/// e-certificate type of the core's catalogue.
pub fn configurations() -> &'static [Configuration] {
    static ALL: OnceLock<Vec<Configuration>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = vec![
            Configuration {
                id: "mdl".into(),
                name_ko: "모바일 운전면허증".into(),
                name_en: "Mobile driving licence".into(),
                kind: Kind::Mdl,
            },
            Configuration {
                id: "resident-card".into(),
                name_ko: "모바일 주민등록증".into(),
                name_en: "Mobile resident registration card".into(),
                kind: Kind::ResidentCard,
            },
        ];
        all.extend(
            wallet_core::e_certificate_types()
                .into_iter()
                .map(|t| Configuration {
                    id: t.id,
                    name_ko: t.name_ko,
                    name_en: t.name_en,
                    kind: Kind::ECertificate { vct: t.vct },
                }),
        );
        all
    })
}

/// The configuration named `id`.
pub fn find(id: &str) -> Option<&'static Configuration> {
    configurations().iter().find(|c| c.id == id)
}

/// The mDL elements the test authority issues, with their Korean and English labels.
const MDL_ELEMENTS: &[(&str, &str, &str)] = &[
    ("family_name", "성", "Family name"),
    ("given_name", "이름", "Given name"),
    ("birth_date", "생년월일", "Date of birth"),
    ("issue_date", "발급일", "Date of issue"),
    ("expiry_date", "만료일", "Date of expiry"),
    ("issuing_country", "발급 국가", "Issuing country"),
    ("issuing_authority", "발급 기관", "Issuing authority"),
    ("document_number", "면허 번호", "Licence number"),
    ("portrait", "사진", "Portrait"),
    ("driving_privileges", "운전 가능 차종", "Driving privileges"),
    (
        "un_distinguishing_sign",
        "국제 식별 기호",
        "UN distinguishing sign",
    ),
    ("age_over_14", "만 14세 이상", "Age over 14"),
    ("age_over_18", "만 18세 이상", "Age over 18"),
    ("age_over_19", "만 19세 이상", "Age over 19"),
    ("age_over_21", "만 21세 이상", "Age over 21"),
    ("age_over_65", "만 65세 이상", "Age over 65"),
    ("age_in_years", "만 나이", "Age in years"),
];

/// The resident registration card's elements, with their labels.
const RESIDENT_CARD_ELEMENTS: &[(&str, &str, &str)] = &[
    ("name_ko", "성명", "Name"),
    (
        "resident_registration_number",
        "주민등록번호",
        "Resident registration number",
    ),
    ("birth_date", "생년월일", "Date of birth"),
    ("resident_address", "주소", "Address"),
    ("issue_date", "발급일", "Date of issue"),
    ("issuing_authority", "발급 기관", "Issuing authority"),
    ("portrait", "사진", "Portrait"),
    ("age_over_14", "만 14세 이상", "Age over 14"),
    ("age_over_18", "만 18세 이상", "Age over 18"),
    ("age_over_19", "만 19세 이상", "Age over 19"),
    ("age_over_21", "만 21세 이상", "Age over 21"),
    ("age_over_65", "만 65세 이상", "Age over 65"),
    ("age_in_years", "만 나이", "Age in years"),
];

/// A `display` array with a Korean and an English name.
fn display(ko: &str, en: &str) -> Value {
    json!([{ "name": ko, "locale": "ko" }, { "name": en, "locale": "en" }])
}

/// The `claims` of an mdoc configuration: each element's path and labels.
fn mdoc_claims(namespace: &str, elements: &[(&str, &str, &str)]) -> Value {
    elements
        .iter()
        .map(
            |(element, ko, en)| json!({ "path": [namespace, element], "display": display(ko, en) }),
        )
        .collect()
}

impl Configuration {
    /// Its entry in `credential_configurations_supported`. With `key_attestations_required`,
    /// every `jwt` proof must carry a key attestation of keys stored with moderate attack
    /// potential resistance.
    pub fn metadata(&self, key_attestations_required: bool) -> Value {
        let mut jwt = json!({ "proof_signing_alg_values_supported": ["ES256"] });
        if key_attestations_required {
            jwt["key_attestations_required"] = json!({ "key_storage": ["iso_18045_moderate"] });
        }
        let mut metadata = json!({ "display": display(&self.name_ko, &self.name_en) });
        let mut configuration = match &self.kind {
            Kind::Mdl | Kind::ResidentCard => {
                let (doctype, namespace, elements) = if self.kind == Kind::Mdl {
                    (MDL_DOCTYPE, MDL_NAMESPACE, MDL_ELEMENTS)
                } else {
                    (
                        RESIDENT_CARD_DOCTYPE,
                        RESIDENT_CARD_DOCTYPE,
                        RESIDENT_CARD_ELEMENTS,
                    )
                };
                metadata["claims"] = mdoc_claims(namespace, elements);
                json!({
                    "format": "mso_mdoc",
                    "doctype": doctype,
                    "cryptographic_binding_methods_supported": ["cose_key"],
                    "credential_signing_alg_values_supported": [-7],
                })
            }
            Kind::ECertificate { vct } => json!({
                "format": "dc+sd-jwt",
                "vct": vct,
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": ["ES256"],
            }),
        };
        configuration["scope"] = json!(self.id);
        configuration["proof_types_supported"] = json!({ "jwt": jwt });
        configuration["credential_metadata"] = metadata;
        configuration
    }

    /// Issues one credential of this configuration about `subject`, bound to `device_key`
    /// (SEC1): an mdoc as base64url (no padding) of its IssuerSigned bytes, an SD-JWT VC as
    /// its compact string — the `credential` of a Credential Response.
    pub fn issue(
        &self,
        authority: &TestAuthority,
        subject: &Subject,
        device_key: Vec<u8>,
        status: Option<StatusListEntry>,
    ) -> Result<Value, WalletError> {
        Ok(match self.kind {
            Kind::Mdl => Value::String(
                URL_SAFE_NO_PAD.encode(authority.issue_mdl(device_key, subject.mdl(status))?),
            ),
            Kind::ResidentCard => {
                Value::String(URL_SAFE_NO_PAD.encode(
                    authority.issue_resident_card(device_key, subject.resident_card(status))?,
                ))
            }
            Kind::ECertificate { .. } => Value::String(authority.issue_e_certificate(
                self.id.to_string(),
                device_key,
                subject.e_certificate_claims(&self.id).to_string(),
                status,
            )?),
        })
    }
}

/// Who a credential is about: the sample citizen unless an offer says otherwise (the admin
/// API's `subject`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// Family name (mDL).
    pub family_name: Option<String>,
    /// Given name (mDL).
    pub given_name: Option<String>,
    /// Birth date, YYYY-MM-DD.
    pub birth_date: Option<String>,
    /// Licence number (mDL).
    pub document_number: Option<String>,
    /// Name in Korean (resident card, e-certificates).
    pub name_ko: Option<String>,
    /// Resident registration number.
    pub resident_registration_number: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// An e-certificate's claims, whole (replacing the sample claims).
    pub claims: Option<serde_json::Map<String, Value>>,
}

/// Days an issued mDL or resident card is valid.
const VALID_DAYS: u32 = 365;

impl Subject {
    /// Checks what can be checked before anything is issued: the birth date's form.
    pub fn check(&self) -> Result<(), String> {
        if let Some(date) = &self.birth_date {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(date, &format)
                .map_err(|_| format!("subject.birth_date {date:?} is not YYYY-MM-DD"))?;
        }
        Ok(())
    }

    /// `value`, or the sample's when the offer gave none.
    fn or<'a>(value: &'a Option<String>, sample: &'a str) -> &'a str {
        value.as_deref().unwrap_or(sample)
    }

    /// The birth date, YYYY-MM-DD.
    fn birth_date(&self) -> String {
        Self::or(&self.birth_date, "1990-05-05").to_string()
    }

    /// The name in Korean: given whole, made of the family and given names, or the sample's.
    fn name_ko(&self) -> String {
        match (&self.name_ko, &self.family_name, &self.given_name) {
            (Some(name), _, _) => name.clone(),
            (None, None, None) => "홍길동".into(),
            (None, family, given) => {
                format!("{}{}", Self::or(family, "홍"), Self::or(given, "길동"))
            }
        }
    }

    /// The resident registration number.
    fn rrn(&self) -> String {
        Self::or(&self.resident_registration_number, "900505-1234567").to_string()
    }

    /// The address.
    fn address(&self) -> String {
        Self::or(&self.address, "서울특별시 종로구 세종대로 209").to_string()
    }

    /// The mDL facts, with a status list entry.
    fn mdl(&self, status: Option<StatusListEntry>) -> MdlClaims {
        MdlClaims {
            family_name: Self::or(&self.family_name, "홍").into(),
            given_name: Self::or(&self.given_name, "길동").into(),
            birth_date: self.birth_date(),
            document_number: Self::or(&self.document_number, "11-00-000000-00").into(),
            issuing_authority: "경찰청 (Korean National Police Agency)".into(),
            portrait: SAMPLE_PORTRAIT.to_vec(),
            vehicle_categories: vec!["B".into()],
            valid_days: VALID_DAYS,
            status,
        }
    }

    /// The resident card facts, with a status list entry.
    fn resident_card(&self, status: Option<StatusListEntry>) -> ResidentCardClaims {
        ResidentCardClaims {
            name_ko: self.name_ko(),
            resident_registration_number: self.rrn(),
            birth_date: self.birth_date(),
            address: self.address(),
            issuing_authority: "서울특별시 종로구청장".into(),
            portrait: SAMPLE_PORTRAIT.to_vec(),
            valid_days: VALID_DAYS,
            status,
        }
    }

    /// The claims of an e-certificate of type `id`: the subject's `claims` when given, else
    /// sample claims with the subject's name, birth date, number and address.
    fn e_certificate_claims(&self, id: &str) -> Value {
        if let Some(claims) = &self.claims {
            return Value::Object(claims.clone());
        }
        let name = self.name_ko();
        let birth_date = self.birth_date();
        match id {
            "resident-abstract" => json!({
                "name": name,
                "resident_registration_number": self.rrn(),
                "birth_date": birth_date,
                "address": { "region": "서울특별시", "locality": "종로구", "street": self.address() },
                "is_head_of_household": true,
            }),
            "family-relation" => json!({
                "name": name,
                "birth_date": birth_date,
                "spouse": { "name": "김영희", "birth_date": "1991-03-02" },
                "children": [{ "name": "홍하늘", "birth_date": "2020-09-17" }],
                "parents": [{ "name": "홍판서" }, { "name": "춘섬" }],
            }),
            "health-insurance" => json!({
                "name": name,
                "birth_date": birth_date,
                "insured_type": "직장가입자",
                "employer": "지갑 주식회사",
                "eligible_since": "2015-03-01",
            }),
            _ => json!({
                "name": name,
                "resident_registration_number": self.rrn(),
                "address": self.address(),
                "arrears": false,
                "purpose": "금융기관 제출용",
            }),
        }
    }
}
