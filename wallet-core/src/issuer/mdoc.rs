//! mdoc issuance: IssuerSignedItems with fresh 32-byte salts and shuffled digest ids, an MSO
//! binding the holder's device key, signed by the document signer. Plus the claim sets of the
//! two documents the test authority issues: the ISO mDL and a Korean mobile resident
//! registration card in a project namespace.

use super::certificates::CertifiedKey;
use super::IssuerError;
use crate::cose;
use crate::cose::cbor::{self, Value};
use crate::crypto::random;
use crate::mdoc::issuer_signed::{
    DigestAlgorithm, IssuerSignedItem, MobileSecurityObject, ValidityInfo,
};
use crate::time;

/// The mDL docType.
pub const MDL_DOCTYPE: &str = "org.iso.18013.5.1.mDL";
/// The mDL namespace.
pub const MDL_NAMESPACE: &str = "org.iso.18013.5.1";
pub use crate::documents::{RESIDENT_CARD_DOCTYPE, RESIDENT_CARD_NAMESPACE};

/// Elements per namespace, in issue order.
pub type Claims = Vec<(String, Vec<(String, Value)>)>;

fn shuffled(n: usize) -> Result<Vec<u64>, IssuerError> {
    let mut ids: Vec<u64> = (0..n as u64).collect();
    for i in (1..ids.len()).rev() {
        let r = u64::from_be_bytes(random::array()?);
        ids.swap(i, (r % (i as u64 + 1)) as usize);
    }
    Ok(ids)
}

/// Issues an mdoc: returns the encoded IssuerSigned the holder stores.
pub fn issue(
    signer: &CertifiedKey,
    doc_type: &str,
    claims: &Claims,
    device_key: &[u8],
    validity: ValidityInfo,
    status: Option<Value>,
) -> Result<Vec<u8>, IssuerError> {
    if validity.valid_from > validity.valid_until {
        return Err(IssuerError::Invalid("validFrom is after validUntil".into()));
    }
    let algorithm = DigestAlgorithm::Sha256;
    let mut namespaces = Vec::new();
    let mut value_digests = Vec::new();
    for (ns, elements) in claims {
        let ids = shuffled(elements.len())?;
        let mut items = Vec::with_capacity(elements.len());
        let mut digests = Vec::with_capacity(elements.len());
        for ((id, value), digest_id) in elements.iter().zip(ids) {
            let salt: [u8; 32] = random::array()?;
            let item = IssuerSignedItem::new(digest_id, salt.to_vec(), id, value.clone());
            digests.push((digest_id, item.digest(algorithm)));
            items.push(item.tagged());
        }
        digests.sort_by_key(|(id, _)| *id);
        namespaces.push((Value::Text(ns.clone()), Value::Array(items)));
        value_digests.push((ns.clone(), digests));
    }
    let mso = MobileSecurityObject {
        version: "1.0".into(),
        digest_algorithm: algorithm,
        value_digests,
        device_key: device_key.to_vec(),
        key_authorizations: None,
        doc_type: doc_type.to_owned(),
        validity,
        status,
    };
    let payload = cbor::encode(&cbor::tagged_bytes(mso.encode()?));
    let issuer_auth = cose::create_sign1(
        &payload,
        false,
        std::slice::from_ref(&signer.certificate),
        |tbs| signer.key.sign(tbs),
    )?;
    Ok(cbor::encode(&Value::Map(vec![
        cbor::entry("nameSpaces", Value::Map(namespaces)),
        cbor::entry("issuerAuth", cose::to_value(issuer_auth)?),
    ])))
}

fn full_date(days: i64) -> Value {
    Value::Tag(
        cbor::TAG_FULL_DATE,
        Box::new(Value::Text(time::format_full_date(days))),
    )
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// Whole years between a birth date and a later date (both days since the epoch).
pub fn age_at(birth: i64, at: i64) -> i64 {
    time::age_in_years(birth, at)
}

/// The ages for which `age_over_NN` elements are issued (19 is Korea's age of majority).
pub const AGE_THRESHOLDS: [i64; 5] = [14, 18, 19, 21, 65];

fn age_claims(birth: i64, issue: i64) -> Vec<(String, Value)> {
    let age = age_at(birth, issue);
    let mut out: Vec<(String, Value)> = AGE_THRESHOLDS
        .iter()
        .map(|n| (format!("age_over_{n}"), Value::Bool(age >= *n)))
        .collect();
    out.push(("age_in_years".into(), Value::Integer(age.into())));
    out
}

/// The holder and document facts of an mDL.
#[derive(Debug, Clone)]
pub struct MdlFacts {
    /// Family name.
    pub family_name: String,
    /// Given name.
    pub given_name: String,
    /// Birth date, days since the epoch.
    pub birth_date: i64,
    /// Issue date, days since the epoch.
    pub issue_date: i64,
    /// Expiry date, days since the epoch.
    pub expiry_date: i64,
    /// Issuing country, ISO 3166-1 alpha-2.
    pub issuing_country: String,
    /// Issuing authority.
    pub issuing_authority: String,
    /// Licence number.
    pub document_number: String,
    /// Portrait (JPEG).
    pub portrait: Vec<u8>,
    /// Vehicle categories (e.g. "B", "1종 보통" mapped to the UN code).
    pub vehicle_categories: Vec<String>,
    /// UN distinguishing sign of the issuing country (e.g. "ROK").
    pub un_distinguishing_sign: String,
}

/// The mDL claims: every mandatory element of the `org.iso.18013.5.1` namespace, plus
/// `age_over_NN` (14, 18, 19, 21, 65) and `age_in_years`.
pub fn mdl_claims(f: &MdlFacts) -> Claims {
    let privileges = Value::Array(
        f.vehicle_categories
            .iter()
            .map(|c| {
                Value::Map(vec![
                    cbor::entry("vehicle_category_code", text(c)),
                    cbor::entry("issue_date", full_date(f.issue_date)),
                    cbor::entry("expiry_date", full_date(f.expiry_date)),
                ])
            })
            .collect(),
    );
    let mut elements = vec![
        ("family_name".to_string(), text(&f.family_name)),
        ("given_name".into(), text(&f.given_name)),
        ("birth_date".into(), full_date(f.birth_date)),
        ("issue_date".into(), full_date(f.issue_date)),
        ("expiry_date".into(), full_date(f.expiry_date)),
        ("issuing_country".into(), text(&f.issuing_country)),
        ("issuing_authority".into(), text(&f.issuing_authority)),
        ("document_number".into(), text(&f.document_number)),
        ("portrait".into(), Value::Bytes(f.portrait.clone())),
        ("driving_privileges".into(), privileges),
        (
            "un_distinguishing_sign".into(),
            text(&f.un_distinguishing_sign),
        ),
    ];
    elements.extend(age_claims(f.birth_date, f.issue_date));
    vec![(MDL_NAMESPACE.to_string(), elements)]
}

/// The facts of a mobile resident registration card.
#[derive(Debug, Clone)]
pub struct ResidentCardFacts {
    /// Name in Korean (e.g. 홍길동).
    pub name_ko: String,
    /// Resident registration number (restricted: released only under a legal basis).
    pub resident_registration_number: String,
    /// Birth date, days since the epoch.
    pub birth_date: i64,
    /// Address.
    pub address: String,
    /// Issue date, days since the epoch.
    pub issue_date: i64,
    /// Issuing authority (e.g. 서울특별시 종로구청장).
    pub issuing_authority: String,
    /// Portrait (JPEG).
    pub portrait: Vec<u8>,
}

/// The resident card claims (provisional namespace; see [`RESIDENT_CARD_NAMESPACE`]).
pub fn resident_card_claims(f: &ResidentCardFacts) -> Claims {
    let mut elements = vec![
        ("name_ko".to_string(), text(&f.name_ko)),
        (
            "resident_registration_number".into(),
            text(&f.resident_registration_number),
        ),
        ("birth_date".into(), full_date(f.birth_date)),
        ("resident_address".into(), text(&f.address)),
        ("issue_date".into(), full_date(f.issue_date)),
        ("issuing_authority".into(), text(&f.issuing_authority)),
        ("portrait".into(), Value::Bytes(f.portrait.clone())),
    ];
    elements.extend(age_claims(f.birth_date, f.issue_date));
    vec![(RESIDENT_CARD_NAMESPACE.to_string(), elements)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ec::SoftwareKey;
    use crate::issuer::certificates::create_authority;
    use crate::mdoc::issuer_signed::IssuerSigned;

    #[test]
    fn ages_are_whole_years() {
        let birth = time::parse_full_date("2007-03-15").unwrap();
        assert_eq!(
            age_at(birth, time::parse_full_date("2026-03-14").unwrap()),
            18
        );
        assert_eq!(
            age_at(birth, time::parse_full_date("2026-03-15").unwrap()),
            19
        );
    }

    #[test]
    fn issued_mdl_parses_and_digests_match() {
        let now = 1_800_000_000;
        let authority = create_authority("Test", "KR", now).unwrap();
        let device = SoftwareKey::generate().unwrap();
        let day = now / 86_400;
        let facts = MdlFacts {
            family_name: "홍".into(),
            given_name: "길동".into(),
            birth_date: time::parse_full_date("1990-01-01").unwrap(),
            issue_date: day,
            expiry_date: day + 3650,
            issuing_country: "KR".into(),
            issuing_authority: "경찰청".into(),
            document_number: "11-12-345678-90".into(),
            portrait: vec![0xff, 0xd8, 0xff, 0xd9],
            vehicle_categories: vec!["B".into()],
            un_distinguishing_sign: "ROK".into(),
        };
        let validity = ValidityInfo {
            signed: now,
            valid_from: now,
            valid_until: now + 86_400 * 365,
            expected_update: None,
        };
        let bytes = issue(
            authority
                .signer(crate::trust::x509::TrustRole::MdocIssuer)
                .unwrap(),
            MDL_DOCTYPE,
            &mdl_claims(&facts),
            device.public_key(),
            validity,
            None,
        )
        .unwrap();
        let parsed = IssuerSigned::parse(&bytes).unwrap();
        assert_eq!(parsed.mso().unwrap().doc_type, MDL_DOCTYPE);
        assert_eq!(parsed.mso().unwrap().device_key, device.public_key());
        let items = &parsed.namespaces[0].1;
        assert_eq!(items.len(), 11 + AGE_THRESHOLDS.len() + 1);
        let mut ids: Vec<u64> = items.iter().map(|i| i.digest_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), items.len(), "digest ids unique");
        for item in items {
            assert_eq!(
                parsed
                    .mso()
                    .unwrap()
                    .digest(MDL_NAMESPACE, item.digest_id)
                    .unwrap(),
                item.digest(DigestAlgorithm::Sha256).as_slice()
            );
            assert_eq!(item.random.len(), 32);
        }
        assert_eq!(
            parsed
                .item(MDL_NAMESPACE, "age_over_19")
                .unwrap()
                .element_value,
            Value::Bool(true)
        );
        cose::verify_sign1(
            &parsed.issuer_auth,
            None,
            authority
                .signer(crate::trust::x509::TrustRole::MdocIssuer)
                .unwrap()
                .key
                .public_key(),
        )
        .unwrap();
        // Salts are fresh: issuing twice gives different digests.
        let again = IssuerSigned::parse(
            &issue(
                authority
                    .signer(crate::trust::x509::TrustRole::MdocIssuer)
                    .unwrap(),
                MDL_DOCTYPE,
                &mdl_claims(&facts),
                device.public_key(),
                validity,
                None,
            )
            .unwrap(),
        )
        .unwrap();
        assert_ne!(
            again.mso().unwrap().value_digests,
            parsed.mso().unwrap().value_digests
        );
    }
}
