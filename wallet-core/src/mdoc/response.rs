//! DeviceResponse (ISO/IEC 18013-5 8.3.2.1.2.2) and mdoc authentication (9.1.3):
//! DeviceAuthentication signed with the device key, or MACed with EMacKey.

use coset::{CoseMac0, CoseSign1};

use super::issuer_signed::IssuerSigned;
use super::session::SessionTranscript;
use super::MdocError;
use crate::cose;
use crate::cose::cbor::{self, Value};
use crate::limits::MAX_DOCUMENTS;

/// DeviceResponse status: OK.
pub const STATUS_OK: u64 = 0;
/// DeviceResponse status: general error.
pub const STATUS_GENERAL_ERROR: u64 = 10;
/// DeviceResponse status: CBOR decoding error.
pub const STATUS_CBOR_DECODING_ERROR: u64 = 11;
/// DeviceResponse status: CBOR validation error.
pub const STATUS_CBOR_VALIDATION_ERROR: u64 = 12;
/// Element or document error code: data not returned.
pub const ERROR_DATA_NOT_RETURNED: i64 = 0;

/// deviceAuth: a signature or a MAC over DeviceAuthenticationBytes (detached).
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceAuth {
    /// deviceSignature: ES256 COSE_Sign1 by the MSO's device key.
    Signature(CoseSign1),
    /// deviceMac: HMAC-256/256 COSE_Mac0 with EMacKey.
    Mac(CoseMac0),
}

/// DeviceSigned: device-signed elements (usually none) and the device authentication.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceSigned {
    /// The encoded DeviceNameSpaces (the content of DeviceNameSpacesBytes), as received.
    pub namespaces_bytes: Vec<u8>,
    /// The signature or MAC.
    pub device_auth: DeviceAuth,
}

impl DeviceSigned {
    fn from_value(value: &Value) -> Result<Self, MdocError> {
        let entries = cbor::map(value, "DeviceSigned")?;
        cbor::unique_keys(entries, "DeviceSigned")?;
        let namespaces_bytes = cbor::untag_bytes(
            cbor::require(entries, "nameSpaces", "DeviceSigned")?,
            "DeviceNameSpacesBytes",
        )?
        .to_vec();
        cbor::map(&cbor::decode(&namespaces_bytes)?, "DeviceNameSpaces")?;
        let auth = cbor::map(
            cbor::require(entries, "deviceAuth", "DeviceSigned")?,
            "DeviceAuth",
        )?;
        let device_auth = match (
            cbor::get(auth, "deviceSignature"),
            cbor::get(auth, "deviceMac"),
        ) {
            (Some(sig), None) => DeviceAuth::Signature(cose::parse_sign1(sig)?),
            (None, Some(mac)) => DeviceAuth::Mac(cose::parse_mac0(mac)?),
            _ => {
                return Err(MdocError::Malformed(
                    "DeviceAuth: needs exactly one of deviceSignature, deviceMac".into(),
                ))
            }
        };
        Ok(DeviceSigned {
            namespaces_bytes,
            device_auth,
        })
    }

    /// The value of this DeviceSigned.
    pub fn to_value(&self) -> Result<Value, MdocError> {
        let auth = match &self.device_auth {
            DeviceAuth::Signature(s) => cbor::entry("deviceSignature", cose::to_value(s.clone())?),
            DeviceAuth::Mac(m) => cbor::entry("deviceMac", cose::to_value(m.clone())?),
        };
        Ok(Value::Map(vec![
            cbor::entry(
                "nameSpaces",
                cbor::tagged_bytes(self.namespaces_bytes.clone()),
            ),
            cbor::entry("deviceAuth", Value::Map(vec![auth])),
        ]))
    }
}

/// `DeviceAuthenticationBytes` (9.1.3.4).
pub fn device_authentication_bytes(
    transcript: &SessionTranscript,
    doc_type: &str,
    namespaces_bytes: &[u8],
) -> Vec<u8> {
    let structure = Value::Array(vec![
        Value::Text("DeviceAuthentication".into()),
        transcript.value().clone(),
        Value::Text(doc_type.to_owned()),
        cbor::tagged_bytes(namespaces_bytes.to_vec()),
    ]);
    cbor::encode(&cbor::tagged_bytes(cbor::encode(&structure)))
}

/// One returned document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The docType.
    pub doc_type: String,
    /// What the issuer signed (the disclosed subset).
    pub issuer_signed: IssuerSigned,
    /// What the device signed.
    pub device_signed: DeviceSigned,
    /// Per namespace, elements not returned with their error codes.
    pub errors: Vec<(String, Vec<(String, i64)>)>,
}

/// A DeviceResponse.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceResponse {
    /// "1.0"
    pub version: String,
    /// Returned documents.
    pub documents: Vec<Document>,
    /// Requested documents not returned, with error codes.
    pub document_errors: Vec<(String, i64)>,
    /// Overall status.
    pub status: u64,
}

fn error_map(errors: &[(String, Vec<(String, i64)>)]) -> Value {
    Value::Map(
        errors
            .iter()
            .map(|(ns, elems)| {
                (
                    Value::Text(ns.clone()),
                    Value::Map(
                        elems
                            .iter()
                            .map(|(e, c)| (Value::Text(e.clone()), Value::Integer((*c).into())))
                            .collect(),
                    ),
                )
            })
            .collect(),
    )
}

/// An ErrorCode (a CBOR integer).
fn error_code(value: &Value) -> Result<i64, MdocError> {
    match value {
        Value::Integer(i) => {
            i64::try_from(*i).map_err(|_| MdocError::Malformed("error code out of range".into()))
        }
        _ => Err(MdocError::Malformed(
            "error code: expected an integer".into(),
        )),
    }
}

impl DeviceResponse {
    /// Parses DeviceResponse bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, MdocError> {
        let value = cbor::decode(bytes)?;
        let entries = cbor::map(&value, "DeviceResponse")?;
        cbor::unique_keys(entries, "DeviceResponse")?;
        let version = cbor::text(
            cbor::require(entries, "version", "DeviceResponse")?,
            "version",
        )?
        .to_owned();
        if !version.starts_with("1.") {
            return Err(MdocError::Unsupported(format!(
                "DeviceResponse version {version}"
            )));
        }
        let mut documents = Vec::new();
        if let Some(docs) = cbor::get(entries, "documents") {
            let docs = cbor::array(docs, "documents")?;
            if docs.len() > MAX_DOCUMENTS {
                return Err(MdocError::Malformed(format!(
                    "DeviceResponse: {} documents (at most {MAX_DOCUMENTS})",
                    docs.len()
                )));
            }
            for doc in docs {
                let d = cbor::map(doc, "Document")?;
                cbor::unique_keys(d, "Document")?;
                let mut errors = Vec::new();
                if let Some(errs) = cbor::get(d, "errors") {
                    for (ns, elems) in cbor::map(errs, "Errors")? {
                        let mut list = Vec::new();
                        for (e, code) in cbor::map(elems, "ErrorItems")? {
                            let code = error_code(code)?;
                            list.push((cbor::text(e, "element identifier")?.to_owned(), code));
                        }
                        errors.push((cbor::text(ns, "namespace")?.to_owned(), list));
                    }
                }
                documents.push(Document {
                    doc_type: cbor::text(cbor::require(d, "docType", "Document")?, "docType")?
                        .to_owned(),
                    issuer_signed: IssuerSigned::from_value(cbor::require(
                        d,
                        "issuerSigned",
                        "Document",
                    )?)?,
                    device_signed: DeviceSigned::from_value(cbor::require(
                        d,
                        "deviceSigned",
                        "Document",
                    )?)?,
                    errors,
                });
            }
        }
        let mut document_errors = Vec::new();
        if let Some(errs) = cbor::get(entries, "documentErrors") {
            for e in cbor::array(errs, "documentErrors")? {
                for (doc_type, code) in cbor::map(e, "DocumentError")? {
                    let code = error_code(code)?;
                    document_errors.push((cbor::text(doc_type, "docType")?.to_owned(), code));
                }
            }
        }
        let status = cbor::uint(
            cbor::require(entries, "status", "DeviceResponse")?,
            "status",
        )?;
        Ok(DeviceResponse {
            version,
            documents,
            document_errors,
            status,
        })
    }

    /// Encodes a response from documents already in value form.
    pub fn encode_values(
        documents: Vec<Value>,
        document_errors: &[(String, i64)],
        status: u64,
    ) -> Vec<u8> {
        let mut entries = vec![cbor::entry("version", Value::Text("1.0".into()))];
        if !documents.is_empty() {
            entries.push(cbor::entry("documents", Value::Array(documents)));
        }
        if !document_errors.is_empty() {
            entries.push(cbor::entry(
                "documentErrors",
                Value::Array(
                    document_errors
                        .iter()
                        .map(|(d, c)| {
                            Value::Map(vec![(Value::Text(d.clone()), Value::Integer((*c).into()))])
                        })
                        .collect(),
                ),
            ));
        }
        entries.push(cbor::entry("status", Value::Integer(status.into())));
        cbor::encode(&Value::Map(entries))
    }

    /// The value of one Document for [`DeviceResponse::encode_values`].
    pub fn document_value(
        doc_type: &str,
        issuer_signed: Value,
        device_signed: &DeviceSigned,
        errors: &[(String, Vec<(String, i64)>)],
    ) -> Result<Value, MdocError> {
        let mut entries = vec![
            cbor::entry("docType", Value::Text(doc_type.to_owned())),
            cbor::entry("issuerSigned", issuer_signed),
            cbor::entry("deviceSigned", device_signed.to_value()?),
        ];
        if !errors.is_empty() {
            entries.push(cbor::entry("errors", error_map(errors)));
        }
        Ok(Value::Map(entries))
    }
}
