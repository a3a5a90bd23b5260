//! Issuer-signed data (ISO/IEC 18013-5 8.3.2.1.2.2 and 9.1.2): IssuerSignedItems, each kept as
//! the exact bytes the issuer digested, and the MobileSecurityObject inside `issuerAuth`.

use coset::CoseSign1;
use ring::digest;

use super::MdocError;
use crate::cose;
use crate::cose::cbor::{self, Value};
use crate::time;
use crate::trust::status_list::StatusReference;

/// One data element as the issuer signed it.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuerSignedItem {
    /// The encoded IssuerSignedItem (the content of IssuerSignedItemBytes), never re-encoded.
    pub bytes: Vec<u8>,
    /// The digest id in the MSO.
    pub digest_id: u64,
    /// The salt (at least 16 bytes).
    pub random: Vec<u8>,
    /// The element identifier.
    pub element_identifier: String,
    /// The element value.
    pub element_value: Value,
}

impl IssuerSignedItem {
    /// Encodes a new item (issuer side).
    pub fn new(
        digest_id: u64,
        random: Vec<u8>,
        element_identifier: &str,
        element_value: Value,
    ) -> Self {
        let bytes = cbor::encode(&Value::Map(vec![
            cbor::entry("digestID", Value::Integer(digest_id.into())),
            cbor::entry("random", Value::Bytes(random.clone())),
            cbor::entry(
                "elementIdentifier",
                Value::Text(element_identifier.to_owned()),
            ),
            cbor::entry("elementValue", element_value.clone()),
        ]));
        IssuerSignedItem {
            bytes,
            digest_id,
            random,
            element_identifier: element_identifier.to_owned(),
            element_value,
        }
    }

    /// Parses the encoded item (the content of its tag 24).
    pub fn parse(bytes: &[u8]) -> Result<Self, MdocError> {
        let value = cbor::decode(bytes)?;
        let entries = cbor::map(&value, "IssuerSignedItem")?;
        cbor::unique_keys(entries, "IssuerSignedItem")?;
        let random = cbor::bytes(
            cbor::require(entries, "random", "IssuerSignedItem")?,
            "random",
        )?
        .to_vec();
        if random.len() < 16 {
            return Err(MdocError::Malformed(
                "IssuerSignedItem: random shorter than 16 bytes".into(),
            ));
        }
        let digest_id = cbor::uint(
            cbor::require(entries, "digestID", "IssuerSignedItem")?,
            "digestID",
        )?;
        let element_identifier = cbor::text(
            cbor::require(entries, "elementIdentifier", "IssuerSignedItem")?,
            "elementIdentifier",
        )?
        .to_owned();
        cbor::require(entries, "elementValue", "IssuerSignedItem")?;
        // Present, as just checked: moved out of the decoded item rather than copied (it can
        // be a portrait).
        let element_value = cbor::take(value, "elementValue")
            .ok_or_else(|| MdocError::Malformed("IssuerSignedItem: no elementValue".into()))?;
        Ok(IssuerSignedItem {
            bytes: bytes.to_vec(),
            digest_id,
            random,
            element_identifier,
            element_value,
        })
    }

    /// `IssuerSignedItemBytes`: the item wrapped in tag 24.
    pub fn tagged(&self) -> Value {
        cbor::tagged_bytes(self.bytes.clone())
    }

    /// The digest the MSO holds for this item: the hash of the encoded IssuerSignedItemBytes
    /// (tag 24, the byte string's head, the item), hashed in parts rather than encoded
    /// again: an item can be a 100 KB portrait.
    pub fn digest(&self, algorithm: DigestAlgorithm) -> Vec<u8> {
        let mut head = Vec::with_capacity(11);
        cbor::write_head(&mut head, cbor::MAJOR_TAG, cbor::TAG_ENCODED_CBOR);
        cbor::write_head(&mut head, cbor::MAJOR_BYTES, self.bytes.len() as u64);
        algorithm.hash_parts(&[&head, &self.bytes])
    }
}

/// The digest algorithms the MSO may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    /// "SHA-256"
    Sha256,
    /// "SHA-384"
    Sha384,
    /// "SHA-512"
    Sha512,
}

impl DigestAlgorithm {
    fn from_name(name: &str) -> Result<Self, MdocError> {
        match name {
            "SHA-256" => Ok(DigestAlgorithm::Sha256),
            "SHA-384" => Ok(DigestAlgorithm::Sha384),
            "SHA-512" => Ok(DigestAlgorithm::Sha512),
            other => Err(MdocError::Unsupported(format!("digest algorithm {other}"))),
        }
    }

    /// The name in the MSO.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha384 => "SHA-384",
            DigestAlgorithm::Sha512 => "SHA-512",
        }
    }

    /// Hashes `data`.
    pub fn hash(self, data: &[u8]) -> Vec<u8> {
        self.hash_parts(&[data])
    }

    /// The digest of the concatenation of `parts`, without building it.
    pub fn hash_parts(self, parts: &[&[u8]]) -> Vec<u8> {
        let alg = match self {
            DigestAlgorithm::Sha256 => &digest::SHA256,
            DigestAlgorithm::Sha384 => &digest::SHA384,
            DigestAlgorithm::Sha512 => &digest::SHA512,
        };
        let mut context = digest::Context::new(alg);
        for part in parts {
            context.update(part);
        }
        context.finish().as_ref().to_vec()
    }
}

/// Digests of one namespace: digest id → digest, in the MSO's order.
pub type NamespaceDigests = Vec<(u64, Vec<u8>)>;

/// ValidityInfo, as Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidityInfo {
    /// When the MSO was signed.
    pub signed: i64,
    /// Start of validity.
    pub valid_from: i64,
    /// End of validity.
    pub valid_until: i64,
    /// When the issuer expects to update it.
    pub expected_update: Option<i64>,
}

/// The MobileSecurityObject (9.1.2.4).
#[derive(Debug, Clone, PartialEq)]
pub struct MobileSecurityObject {
    /// "1.0"
    pub version: String,
    /// Algorithm of the value digests.
    pub digest_algorithm: DigestAlgorithm,
    /// Per namespace, digest id → digest.
    pub value_digests: Vec<(String, NamespaceDigests)>,
    /// The device key (uncompressed SEC1).
    pub device_key: Vec<u8>,
    /// keyAuthorizations, kept as given.
    pub key_authorizations: Option<Value>,
    /// The docType.
    pub doc_type: String,
    /// Validity.
    pub validity: ValidityInfo,
    /// A status reference (e.g. a Token Status List), kept as given.
    pub status: Option<Value>,
}

fn tdate(value: &Value, what: &str) -> Result<i64, MdocError> {
    let text = match value {
        Value::Tag(cbor::TAG_DATE_TIME, inner) => cbor::text(inner, what)?,
        _ => {
            return Err(MdocError::Malformed(format!(
                "{what}: expected tdate (tag 0)"
            )))
        }
    };
    time::parse_rfc3339(text)
        .ok_or_else(|| MdocError::Malformed(format!("{what}: bad date-time {text}")))
}

/// A tdate value: `#6.0("YYYY-MM-DDThh:mm:ssZ")`.
pub fn tdate_value(unix: i64) -> Value {
    Value::Tag(
        cbor::TAG_DATE_TIME,
        Box::new(Value::Text(time::format_rfc3339(unix))),
    )
}

impl MobileSecurityObject {
    /// Digest of `digest_id` in `namespace`.
    pub fn digest(&self, namespace: &str, digest_id: u64) -> Option<&[u8]> {
        self.value_digests
            .iter()
            .find(|(ns, _)| ns == namespace)?
            .1
            .iter()
            .find(|(id, _)| *id == digest_id)
            .map(|(_, d)| d.as_slice())
    }

    /// Parses an encoded MSO (the content of MobileSecurityObjectBytes).
    pub fn parse(bytes: &[u8]) -> Result<Self, MdocError> {
        let value = cbor::decode(bytes)?;
        let m = cbor::map(&value, "MobileSecurityObject")?;
        cbor::unique_keys(m, "MobileSecurityObject")?;
        let what = "MobileSecurityObject";
        let version = cbor::text(cbor::require(m, "version", what)?, "version")?.to_owned();
        if !version.starts_with("1.") {
            return Err(MdocError::Unsupported(format!("MSO version {version}")));
        }
        let digest_algorithm = DigestAlgorithm::from_name(cbor::text(
            cbor::require(m, "digestAlgorithm", what)?,
            "digestAlgorithm",
        )?)?;
        let mut value_digests = Vec::new();
        let digests = cbor::map(cbor::require(m, "valueDigests", what)?, "valueDigests")?;
        cbor::unique_keys(digests, "valueDigests")?;
        for (ns, ids) in digests {
            let ids = cbor::map(ids, "DigestIDs")?;
            cbor::unique_keys(ids, "DigestIDs")?;
            let mut list = Vec::with_capacity(ids.len());
            for (id, d) in ids {
                list.push((
                    cbor::uint(id, "digest id")?,
                    cbor::bytes(d, "digest")?.to_vec(),
                ));
            }
            value_digests.push((cbor::text(ns, "namespace")?.to_owned(), list));
        }
        let key_info = cbor::map(cbor::require(m, "deviceKeyInfo", what)?, "deviceKeyInfo")?;
        let device_key =
            cose::public_key_from_cose(cbor::require(key_info, "deviceKey", "deviceKeyInfo")?)?;
        let validity = cbor::map(cbor::require(m, "validityInfo", what)?, "validityInfo")?;
        let validity = ValidityInfo {
            signed: tdate(cbor::require(validity, "signed", "validityInfo")?, "signed")?,
            valid_from: tdate(
                cbor::require(validity, "validFrom", "validityInfo")?,
                "validFrom",
            )?,
            valid_until: tdate(
                cbor::require(validity, "validUntil", "validityInfo")?,
                "validUntil",
            )?,
            expected_update: cbor::get(validity, "expectedUpdate")
                .map(|v| tdate(v, "expectedUpdate"))
                .transpose()?,
        };
        Ok(MobileSecurityObject {
            version,
            digest_algorithm,
            value_digests,
            device_key,
            key_authorizations: cbor::get(key_info, "keyAuthorizations").cloned(),
            doc_type: cbor::text(cbor::require(m, "docType", what)?, "docType")?.to_owned(),
            validity,
            status: cbor::get(m, "status").cloned(),
        })
    }

    /// Encodes the MSO (issuer side).
    pub fn encode(&self) -> Result<Vec<u8>, MdocError> {
        let mut key_info = vec![cbor::entry("deviceKey", cose::cose_key(&self.device_key)?)];
        if let Some(auth) = &self.key_authorizations {
            key_info.push(cbor::entry("keyAuthorizations", auth.clone()));
        }
        let mut validity = vec![
            cbor::entry("signed", tdate_value(self.validity.signed)),
            cbor::entry("validFrom", tdate_value(self.validity.valid_from)),
            cbor::entry("validUntil", tdate_value(self.validity.valid_until)),
        ];
        if let Some(update) = self.validity.expected_update {
            validity.push(cbor::entry("expectedUpdate", tdate_value(update)));
        }
        let mut entries = vec![
            cbor::entry("version", Value::Text(self.version.clone())),
            cbor::entry(
                "digestAlgorithm",
                Value::Text(self.digest_algorithm.name().into()),
            ),
            cbor::entry(
                "valueDigests",
                Value::Map(
                    self.value_digests
                        .iter()
                        .map(|(ns, ids)| {
                            (
                                Value::Text(ns.clone()),
                                Value::Map(
                                    ids.iter()
                                        .map(|(id, d)| {
                                            (Value::Integer((*id).into()), Value::Bytes(d.clone()))
                                        })
                                        .collect(),
                                ),
                            )
                        })
                        .collect(),
                ),
            ),
            cbor::entry("deviceKeyInfo", Value::Map(key_info)),
            cbor::entry("docType", Value::Text(self.doc_type.clone())),
            cbor::entry("validityInfo", Value::Map(validity)),
        ];
        if let Some(status) = &self.status {
            entries.push(cbor::entry("status", status.clone()));
        }
        Ok(cbor::encode(&Value::Map(entries)))
    }
}

/// IssuerSigned: the disclosed items per namespace and the issuer's signature over the MSO.
///
/// The MSO is not parsed with the rest: it is signed data, read only through
/// [`IssuerSigned::mso`] once the signature over it has been checked (or for a document the
/// wallet checked when it stored it).
#[derive(Debug, Clone)]
pub struct IssuerSigned {
    /// Items per namespace, in the order received.
    pub namespaces: Vec<(String, Vec<IssuerSignedItem>)>,
    /// issuerAuth: COSE_Sign1 whose payload is MobileSecurityObjectBytes.
    pub issuer_auth: CoseSign1,
    /// The MSO of a document the wallet holds, parsed once (see [`IssuerSigned::held_mso`]).
    held_mso: std::sync::OnceLock<MobileSecurityObject>,
}

impl PartialEq for IssuerSigned {
    fn eq(&self, other: &Self) -> bool {
        self.namespaces == other.namespaces && self.issuer_auth == other.issuer_auth
    }
}

impl IssuerSigned {
    /// Parses an IssuerSigned value.
    pub fn from_value(value: &Value) -> Result<Self, MdocError> {
        let entries = cbor::map(value, "IssuerSigned")?;
        cbor::unique_keys(entries, "IssuerSigned")?;
        let issuer_auth = cose::parse_sign1(cbor::require(entries, "issuerAuth", "IssuerSigned")?)?;
        if issuer_auth.payload.is_none() {
            return Err(MdocError::Malformed("issuerAuth: no payload".into()));
        }
        let mut namespaces = Vec::new();
        if let Some(ns_map) = cbor::get(entries, "nameSpaces") {
            let ns_map = cbor::map(ns_map, "IssuerNameSpaces")?;
            cbor::unique_keys(ns_map, "IssuerNameSpaces")?;
            for (ns, items) in ns_map {
                let items = cbor::array(items, "IssuerSignedItems")?
                    .iter()
                    .map(|item| {
                        IssuerSignedItem::parse(cbor::untag_bytes(item, "IssuerSignedItemBytes")?)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                namespaces.push((cbor::text(ns, "namespace")?.to_owned(), items));
            }
        }
        Ok(IssuerSigned {
            namespaces,
            issuer_auth,
            held_mso: std::sync::OnceLock::new(),
        })
    }

    /// Where the document's status is published (MSO `status`), for a document the wallet
    /// checked when it stored it: `None` when it has none; an error when it has one that does
    /// not parse, which is never read as "no status".
    pub fn status_reference(&self) -> Result<Option<StatusReference>, MdocError> {
        self.mso()?
            .status
            .as_ref()
            .map(StatusReference::from_cbor)
            .transpose()
            .map_err(|e| MdocError::Malformed(format!("MSO status: {e}")))
    }

    /// The MobileSecurityObject in issuerAuth's payload. Verify issuerAuth first: nothing in
    /// the MSO is to be believed (or even parsed, for data from outside) before its signature.
    pub fn mso(&self) -> Result<MobileSecurityObject, MdocError> {
        let payload = self
            .issuer_auth
            .payload
            .as_deref()
            .ok_or_else(|| MdocError::Malformed("issuerAuth: no payload".into()))?;
        let outer = cbor::decode(payload)?;
        MobileSecurityObject::parse(cbor::untag_bytes(&outer, "MobileSecurityObjectBytes")?)
    }

    /// The MSO of a document the wallet holds (checked when it was stored), parsed on first
    /// use and kept: the holder reads its docType and device key for every answer. A verifier
    /// reads [`IssuerSigned::mso`] instead, after checking issuerAuth.
    pub fn held_mso(&self) -> Result<&MobileSecurityObject, MdocError> {
        if let Some(mso) = self.held_mso.get() {
            return Ok(mso);
        }
        let parsed = self.mso()?;
        Ok(self.held_mso.get_or_init(|| parsed))
    }

    /// Parses encoded IssuerSigned bytes (how the wallet stores an mdoc).
    pub fn parse(bytes: &[u8]) -> Result<Self, MdocError> {
        Self::from_value(&cbor::decode(bytes)?)
    }

    /// The value with only the items `keep(namespace, element)` allows, bytes untouched.
    pub fn to_value_filtered(&self, keep: impl Fn(&str, &str) -> bool) -> Result<Value, MdocError> {
        let mut ns_entries = Vec::new();
        for (ns, items) in &self.namespaces {
            let kept: Vec<Value> = items
                .iter()
                .filter(|item| keep(ns, &item.element_identifier))
                .map(IssuerSignedItem::tagged)
                .collect();
            if !kept.is_empty() {
                ns_entries.push((Value::Text(ns.clone()), Value::Array(kept)));
            }
        }
        let mut entries = Vec::new();
        if !ns_entries.is_empty() {
            entries.push(cbor::entry("nameSpaces", Value::Map(ns_entries)));
        }
        entries.push(cbor::entry(
            "issuerAuth",
            cose::to_value(self.issuer_auth.clone())?,
        ));
        Ok(Value::Map(entries))
    }

    /// The item `element` of `namespace`, if present.
    pub fn item(&self, namespace: &str, element: &str) -> Option<&IssuerSignedItem> {
        self.namespaces
            .iter()
            .find(|(ns, _)| ns == namespace)?
            .1
            .iter()
            .find(|i| i.element_identifier == element)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_digest_is_the_hash_of_its_encoded_issuer_signed_item_bytes() {
        for len in [0usize, 1, 200, 65_400, 65_535, 65_536, 100_000] {
            let portrait: Vec<u8> = (0..len).map(|i| (i % 249) as u8).collect();
            let item = IssuerSignedItem::new(7, vec![3; 16], "portrait", Value::Bytes(portrait));
            let parsed = IssuerSignedItem::parse(&item.bytes).unwrap();
            assert_eq!(parsed, item);
            for algorithm in [
                DigestAlgorithm::Sha256,
                DigestAlgorithm::Sha384,
                DigestAlgorithm::Sha512,
            ] {
                assert_eq!(
                    item.digest(algorithm),
                    algorithm.hash(&cbor::encode(&item.tagged())),
                    "{len}"
                );
            }
        }
        // An item without its value is refused, not read as null.
        let missing = cbor::encode(&Value::Map(vec![
            cbor::entry("digestID", Value::Integer(1.into())),
            cbor::entry("random", Value::Bytes(vec![0; 16])),
            cbor::entry("elementIdentifier", Value::Text("x".into())),
        ]));
        assert!(matches!(
            IssuerSignedItem::parse(&missing),
            Err(MdocError::Malformed(_))
        ));
    }
}
