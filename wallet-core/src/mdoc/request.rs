//! DeviceRequest (ISO/IEC 18013-5 8.3.2.1.2.1) and reader authentication (9.1.4).

use coset::CoseSign1;

use super::session::SessionTranscript;
use super::MdocError;
use crate::cose;
use crate::cose::cbor::{self, Value};
use crate::limits::{MAX_DOCUMENTS, MAX_REQUESTED_ELEMENTS};
use crate::trust::x509::{verify_chain, ParsedCertificate, TrustRole};

/// What a reader asks of one document: elements per namespace, each with intent to retain.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemsRequest {
    /// The requested docType.
    pub doc_type: String,
    /// Per namespace, the requested element identifiers and whether the reader intends to
    /// retain each, in request order.
    pub namespaces: Vec<(String, Vec<(String, bool)>)>,
    /// Optional requestInfo, kept as received.
    pub request_info: Option<Value>,
}

impl ItemsRequest {
    fn to_value(&self) -> Value {
        let mut entries = vec![
            cbor::entry("docType", Value::Text(self.doc_type.clone())),
            cbor::entry(
                "nameSpaces",
                Value::Map(
                    self.namespaces
                        .iter()
                        .map(|(ns, elements)| {
                            (
                                Value::Text(ns.clone()),
                                Value::Map(
                                    elements
                                        .iter()
                                        .map(|(e, retain)| {
                                            (Value::Text(e.clone()), Value::Bool(*retain))
                                        })
                                        .collect(),
                                ),
                            )
                        })
                        .collect(),
                ),
            ),
        ];
        if let Some(info) = &self.request_info {
            entries.push(cbor::entry("requestInfo", info.clone()));
        }
        Value::Map(entries)
    }

    fn from_value(value: &Value) -> Result<Self, MdocError> {
        let entries = cbor::map(value, "ItemsRequest")?;
        cbor::unique_keys(entries, "ItemsRequest")?;
        let doc_type = cbor::text(
            cbor::require(entries, "docType", "ItemsRequest")?,
            "docType",
        )?
        .to_owned();
        let mut namespaces = Vec::new();
        let ns_map = cbor::map(
            cbor::require(entries, "nameSpaces", "ItemsRequest")?,
            "nameSpaces",
        )?;
        cbor::unique_keys(ns_map, "nameSpaces")?;
        let total: usize = ns_map
            .iter()
            .map(|(_, e)| cbor::map(e, "DataElements").map_or(0, <[_]>::len))
            .sum();
        if total > MAX_REQUESTED_ELEMENTS {
            return Err(MdocError::Malformed(format!(
                "ItemsRequest: {total} elements (at most {MAX_REQUESTED_ELEMENTS})"
            )));
        }
        for (ns, elements) in ns_map {
            let ns = cbor::text(ns, "namespace")?.to_owned();
            let elements = cbor::map(elements, "DataElements")?;
            cbor::unique_keys(elements, "DataElements")?;
            let mut list = Vec::with_capacity(elements.len());
            for (id, retain) in elements {
                list.push((
                    cbor::text(id, "element identifier")?.to_owned(),
                    cbor::boolean(retain, "IntentToRetain")?,
                ));
            }
            namespaces.push((ns, list));
        }
        Ok(ItemsRequest {
            doc_type,
            namespaces,
            request_info: cbor::get(entries, "requestInfo").cloned(),
        })
    }

    /// Parses an encoded ItemsRequest (the content of ItemsRequestBytes).
    pub fn parse(bytes: &[u8]) -> Result<Self, MdocError> {
        Self::from_value(&cbor::decode(bytes)?)
    }

    /// The encoded ItemsRequest (the content of ItemsRequestBytes).
    pub fn encode(&self) -> Vec<u8> {
        cbor::encode(&self.to_value())
    }
}

/// One DocRequest: the request, its exact bytes, and the reader's signature if any.
#[derive(Debug, Clone, PartialEq)]
pub struct DocRequest {
    /// The encoded ItemsRequest as received (signed by readerAuth).
    pub items_request_bytes: Vec<u8>,
    /// The parsed request.
    pub items_request: ItemsRequest,
    /// readerAuth: COSE_Sign1 over ReaderAuthenticationBytes, with the reader's x5chain.
    pub reader_auth: Option<CoseSign1>,
}

/// `ReaderAuthenticationBytes` for a transcript and ItemsRequest.
pub fn reader_authentication_bytes(
    transcript: &SessionTranscript,
    items_request_bytes: &[u8],
) -> Vec<u8> {
    let structure = Value::Array(vec![
        Value::Text("ReaderAuthentication".into()),
        transcript.value().clone(),
        cbor::tagged_bytes(items_request_bytes.to_vec()),
    ]);
    cbor::encode(&cbor::tagged_bytes(cbor::encode(&structure)))
}

impl DocRequest {
    /// A request without reader authentication.
    pub fn unsigned(items_request: ItemsRequest) -> Self {
        DocRequest {
            items_request_bytes: items_request.encode(),
            items_request,
            reader_auth: None,
        }
    }

    /// A request signed by the reader: `sign` gets the Sig_structure and returns `r || s`.
    pub fn signed<E>(
        items_request: ItemsRequest,
        transcript: &SessionTranscript,
        reader_chain: &[Vec<u8>],
        sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
    ) -> Result<Self, E> {
        let items_request_bytes = items_request.encode();
        let payload = reader_authentication_bytes(transcript, &items_request_bytes);
        let reader_auth = cose::create_sign1(&payload, true, reader_chain, sign)?;
        Ok(DocRequest {
            items_request_bytes,
            items_request,
            reader_auth: Some(reader_auth),
        })
    }
}

/// A DeviceRequest: one or more DocRequests.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRequest {
    /// "1.0" (or a later 1.x).
    pub version: String,
    /// The document requests, in order.
    pub doc_requests: Vec<DocRequest>,
}

impl DeviceRequest {
    /// Parses DeviceRequest bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, MdocError> {
        let value = cbor::decode(bytes)?;
        let entries = cbor::map(&value, "DeviceRequest")?;
        cbor::unique_keys(entries, "DeviceRequest")?;
        let version = cbor::text(
            cbor::require(entries, "version", "DeviceRequest")?,
            "version",
        )?
        .to_owned();
        if !version.starts_with("1.") {
            return Err(MdocError::Unsupported(format!(
                "DeviceRequest version {version}"
            )));
        }
        let mut doc_requests = Vec::new();
        let docs = cbor::array(
            cbor::require(entries, "docRequests", "DeviceRequest")?,
            "docRequests",
        )?;
        if docs.len() > MAX_DOCUMENTS {
            return Err(MdocError::Malformed(format!(
                "DeviceRequest: {} documents (at most {MAX_DOCUMENTS})",
                docs.len()
            )));
        }
        for doc in docs {
            let doc = cbor::map(doc, "DocRequest")?;
            cbor::unique_keys(doc, "DocRequest")?;
            let items_request_bytes = cbor::untag_bytes(
                cbor::require(doc, "itemsRequest", "DocRequest")?,
                "ItemsRequestBytes",
            )?
            .to_vec();
            let items_request = ItemsRequest::from_value(&cbor::decode(&items_request_bytes)?)?;
            let reader_auth = cbor::get(doc, "readerAuth")
                .map(cose::parse_sign1)
                .transpose()?;
            doc_requests.push(DocRequest {
                items_request_bytes,
                items_request,
                reader_auth,
            });
        }
        if doc_requests.is_empty() {
            return Err(MdocError::Malformed("DeviceRequest: no docRequests".into()));
        }
        Ok(DeviceRequest {
            version,
            doc_requests,
        })
    }

    /// Encodes the request.
    pub fn encode(&self) -> Result<Vec<u8>, MdocError> {
        let mut docs = Vec::with_capacity(self.doc_requests.len());
        for doc in &self.doc_requests {
            let mut entries = vec![cbor::entry(
                "itemsRequest",
                cbor::tagged_bytes(doc.items_request_bytes.clone()),
            )];
            if let Some(auth) = &doc.reader_auth {
                entries.push(cbor::entry("readerAuth", cose::to_value(auth.clone())?));
            }
            docs.push(Value::Map(entries));
        }
        Ok(cbor::encode(&Value::Map(vec![
            cbor::entry("version", Value::Text(self.version.clone())),
            cbor::entry("docRequests", Value::Array(docs)),
        ])))
    }
}

/// Who signed a document request, as the holder decides it (9.1.4): the subject of the
/// readerAuth leaf certificate, and whether the request is signed by a reader certificate under
/// one of the holder's reader anchors over this session's transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderVerdict {
    /// Subject of the reader certificate ("unknown" when there is none to read).
    pub subject: String,
    /// The signature verifies with a reader certificate that chains to an anchor at the time.
    pub trusted: bool,
    /// Why it is not trusted, when it is not.
    pub problem: Option<String>,
    /// The certificate policies of a trusted reader's certificate (a legal basis for
    /// restricted identifiers is one).
    pub policies: Vec<String>,
    /// SHA-256 of a trusted reader's public key: with the subject, whom a remembered grant
    /// names.
    pub key_sha256: Option<[u8; 32]>,
}

/// Decides readerAuth of `doc` for `transcript` against the reader `anchors` at `at`; `None`
/// for an unsigned request. Never an error: an untrusted or broken signature is a verdict the
/// citizen and the disclosure policy see.
pub fn verify_reader_auth(
    doc: &DocRequest,
    transcript: &SessionTranscript,
    anchors: &[ParsedCertificate],
    at: i64,
) -> Option<ReaderVerdict> {
    let auth = doc.reader_auth.as_ref()?;
    let untrusted = |subject: String, problem: String| ReaderVerdict {
        subject,
        trusted: false,
        problem: Some(problem),
        policies: Vec::new(),
        key_sha256: None,
    };
    let chain = match cose::x5chain(&auth.unprotected) {
        Ok(chain) => chain,
        Err(e) => return Some(untrusted("unknown".into(), e.to_string())),
    };
    let subject = chain
        .first()
        .and_then(|der| ParsedCertificate::from_der(der).ok())
        .map(|c| c.subject())
        .unwrap_or_else(|| "unknown".into());
    let payload = reader_authentication_bytes(transcript, &doc.items_request_bytes);
    let verdict = verify_chain(&chain, anchors, at, TrustRole::MdocReader)
        .map_err(|e| e.to_string())
        .and_then(|(leaf, _)| {
            let key = leaf.p256_public_key().map_err(|e| e.to_string())?;
            let policies = leaf.policies().map_err(|e| e.to_string())?;
            Ok((key, policies))
        })
        .and_then(|(key, policies)| {
            cose::verify_sign1(auth, Some(&payload), &key).map_err(|_| {
                MdocError::ReaderAuthentication("the reader's signature does not verify".into())
                    .to_string()
            })?;
            Ok((crate::crypto::sha256(&key), policies))
        });
    Some(match verdict {
        Ok((key_sha256, policies)) => ReaderVerdict {
            subject,
            trusted: true,
            problem: None,
            policies,
            key_sha256: Some(key_sha256),
        },
        Err(problem) => untrusted(subject, problem),
    })
}

/// The (namespace, element) pairs a document request asks for, in request order.
pub fn requested_elements(request: &ItemsRequest) -> Vec<(String, String)> {
    request
        .namespaces
        .iter()
        .flat_map(|(ns, elements)| elements.iter().map(move |(e, _)| (ns.clone(), e.clone())))
        .collect()
}
