//! The W3C Digital Credentials API: the requests a platform (Android Credential Manager, iOS)
//! hands the wallet with the calling web origin, and the responses the wallet hands back.
//! OpenID4VP 1.0 appendix A (`openid4vp-v1-unsigned`, `openid4vp-v1-signed`) and ISO/IEC
//! 18013-7 Annex C (`org-iso-mdoc`: a DeviceRequest and an EncryptionInfo in, an HPKE-encrypted
//! DeviceResponse out).

use serde_json::{json, Map, Value};

use super::dcql::{ClaimsQuery, CredentialQuery, DcqlQuery, Meta, PathElement, FORMAT_MDOC};
use super::request::{self, AuthorizationRequest, PresentationFailure, ReadOptions, RequestError};
use crate::cose::{self, cbor, cbor::Value as Cbor};
use crate::crypto::ec::SoftwareKey;
use crate::crypto::{hpke, jose};
use crate::mdoc::request::DeviceRequest;
use crate::mdoc::session::{Handover, SessionTranscript};
use crate::mdoc::MdocError;

/// OpenID4VP over the DC API, unsigned.
pub const OPENID4VP_UNSIGNED: &str = "openid4vp-v1-unsigned";
/// OpenID4VP over the DC API, signed (JWS compact).
pub const OPENID4VP_SIGNED: &str = "openid4vp-v1-signed";
/// ISO/IEC 18013-7 Annex C.
pub const ISO_MDOC: &str = "org-iso-mdoc";
/// The older spelling of [`ISO_MDOC`], accepted on input.
pub const ISO_MDOC_DOTTED: &str = "org.iso.mdoc";

fn invalid(detail: impl Into<String>) -> RequestError {
    RequestError::new(PresentationFailure::InvalidRequest, detail)
}

/// An Annex C request: the DeviceRequest, where to encrypt the answer, and the transcript.
#[derive(Debug, Clone)]
pub struct MdocRequest {
    /// The DeviceRequest.
    pub device_request: DeviceRequest,
    /// The recipient's public key (SEC1).
    pub recipient: Vec<u8>,
    /// The SessionTranscript both sides bind.
    pub transcript: SessionTranscript,
    /// The requests as a DCQL query (one mdoc query per DocRequest, ids `doc0`, `doc1`, ...),
    /// so they are matched and consented to like any other.
    pub dcql: DcqlQuery,
}

/// A request from the platform.
#[derive(Debug, Clone)]
pub enum DcApiRequest {
    /// OpenID4VP, checked like any other request, bound to the origin.
    OpenId4Vp(Box<AuthorizationRequest>),
    /// ISO/IEC 18013-7 Annex C.
    Mdoc(Box<MdocRequest>),
}

/// A web origin as the platform reports it: `https://host[:port]`, no path.
fn check_origin(origin: &str) -> Result<(), RequestError> {
    let ok = origin.starts_with("https://")
        && origin.len() <= 256
        && origin
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.contains(['/', '?', '#', '@', ' ']));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("{origin:?} is not a web origin")))
    }
}

/// Reads what the platform handed over: `protocol` and the request's `data` (JSON), from
/// `origin`.
pub fn read(
    protocol: &str,
    data: &str,
    origin: &str,
    options: &ReadOptions<'_>,
) -> Result<DcApiRequest, RequestError> {
    check_origin(origin)?;
    if data.len() > request::MAX_REQUEST_BYTES {
        return Err(invalid("the request is too large"));
    }
    let data: Map<String, Value> =
        serde_json::from_str(data).map_err(|_| invalid("the request data is not a JSON object"))?;
    let options = ReadOptions {
        origin: Some(origin),
        ..options.clone()
    };
    match protocol {
        OPENID4VP_UNSIGNED => {
            // The platform vouches for the origin; any client_id sent is ignored.
            let mut params = data;
            params.remove("expected_origins");
            params.insert("client_id".into(), format!("origin:{origin}").into());
            request::read_unsigned_dc_api(&params, origin, &options)
                .map(|r| DcApiRequest::OpenId4Vp(Box::new(r)))
        }
        OPENID4VP_SIGNED => {
            let jwt = data
                .get("request")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("a signed request carries a request object"))?;
            request::read_object(jwt, &options).map(|r| DcApiRequest::OpenId4Vp(Box::new(r)))
        }
        ISO_MDOC | ISO_MDOC_DOTTED => {
            read_mdoc(&data, origin).map(|r| DcApiRequest::Mdoc(Box::new(r)))
        }
        other => Err(invalid(format!("the protocol {other} is not supported"))),
    }
}

fn read_mdoc(data: &Map<String, Value>, origin: &str) -> Result<MdocRequest, RequestError> {
    let field = |k: &str| {
        data.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("the request has no {k}")))
    };
    let encryption_info = field("encryptionInfo")?;
    let mdoc = |e: MdocError| invalid(e.to_string());
    let device_request = DeviceRequest::parse(
        &jose::b64url_decode(field("deviceRequest")?)
            .map_err(|_| invalid("deviceRequest is not base64url"))?,
    )
    .map_err(mdoc)?;
    let info = cbor::decode(
        &jose::b64url_decode(encryption_info)
            .map_err(|_| invalid("encryptionInfo is not base64url"))?,
    )
    .map_err(|e| invalid(e.to_string()))?;
    let items = cbor::array(&info, "EncryptionInfo").map_err(|e| invalid(e.to_string()))?;
    let (Some(Cbor::Text(label)), Some(params), None) = (items.first(), items.get(1), items.get(2))
    else {
        return Err(invalid("EncryptionInfo is not [\"dcapi\", {...}]"));
    };
    if label != "dcapi" {
        return Err(invalid("EncryptionInfo is not for dcapi"));
    }
    let params = cbor::map(params, "EncryptionInfo").map_err(|e| invalid(e.to_string()))?;
    let nonce = cbor::bytes(
        cbor::require(params, "nonce", "EncryptionInfo").map_err(|e| invalid(e.to_string()))?,
        "nonce",
    )
    .map_err(|e| invalid(e.to_string()))?;
    if nonce.len() < 16 {
        return Err(invalid("the EncryptionInfo nonce is shorter than 16 bytes"));
    }
    let recipient = cose::public_key_from_cose(
        cbor::require(params, "recipientPublicKey", "EncryptionInfo")
            .map_err(|e| invalid(e.to_string()))?,
    )
    .map_err(|e| invalid(e.to_string()))?;
    let transcript = SessionTranscript::new(
        None,
        None,
        &Handover::DcApi {
            encryption_info: encryption_info.to_owned(),
            origin: origin.to_owned(),
        },
    );
    let credentials = device_request
        .doc_requests
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let claims: Vec<ClaimsQuery> = doc
                .items_request
                .namespaces
                .iter()
                .flat_map(|(ns, elements)| {
                    elements.iter().map(move |(element, retain)| ClaimsQuery {
                        id: None,
                        path: vec![
                            PathElement::Key(ns.clone()),
                            PathElement::Key(element.clone()),
                        ],
                        values: Vec::new(),
                        intent_to_retain: Some(*retain),
                    })
                })
                .collect();
            CredentialQuery {
                id: format!("doc{i}"),
                format: FORMAT_MDOC.into(),
                multiple: false,
                meta: Meta::MsoMdoc {
                    doctype: doc.items_request.doc_type.clone(),
                },
                trusted_authorities: Vec::new(),
                require_holder_binding: true,
                claims: (!claims.is_empty()).then_some(claims),
                claim_sets: Vec::new(),
            }
        })
        .collect();
    Ok(MdocRequest {
        device_request,
        recipient,
        transcript,
        dcql: DcqlQuery {
            credentials,
            credential_sets: Vec::new(),
        },
    })
}

/// The Annex C response: the DeviceResponse encrypted to the request's key (HPKE, with the
/// SessionTranscript as `info` and no additional data), as `{"response": ...}`.
pub fn mdoc_response(request: &MdocRequest, device_response: &[u8]) -> Result<Value, RequestError> {
    let info = cbor::encode(request.transcript.value());
    let (enc, cipher_text) = hpke::seal(&request.recipient, &info, b"", device_response)
        .map_err(|e| invalid(e.to_string()))?;
    let encrypted = Cbor::Array(vec![
        Cbor::Text("dcapi".into()),
        Cbor::Map(vec![
            cbor::entry("enc", Cbor::Bytes(enc)),
            cbor::entry("cipherText", Cbor::Bytes(cipher_text)),
        ]),
    ]);
    Ok(json!({ "response": jose::b64url(&cbor::encode(&encrypted)) }))
}

/// The relying party's side of Annex C: a request for `device_request` with a fresh
/// EncryptionInfo (its key and nonce), and the data to hand the browser.
pub fn mdoc_request(
    device_request: &DeviceRequest,
) -> Result<(SoftwareKey, String, Value), MdocError> {
    let key = SoftwareKey::generate()?;
    let nonce: [u8; 16] = crate::crypto::random::array()?;
    let info = Cbor::Array(vec![
        Cbor::Text("dcapi".into()),
        Cbor::Map(vec![
            cbor::entry("nonce", Cbor::Bytes(nonce.to_vec())),
            cbor::entry("recipientPublicKey", cose::cose_key(key.public_key())?),
        ]),
    ]);
    let encryption_info = jose::b64url(&cbor::encode(&info));
    let data = json!({
        "deviceRequest": jose::b64url(&device_request.encode()?),
        "encryptionInfo": encryption_info,
    });
    Ok((key, encryption_info, data))
}

/// The relying party opens an Annex C response: the DeviceResponse bytes.
pub fn open_mdoc_response(
    key: &SoftwareKey,
    encryption_info: &str,
    origin: &str,
    data: &Value,
) -> Result<(Vec<u8>, SessionTranscript), MdocError> {
    let malformed = |what: &str| MdocError::Malformed(format!("the DC API response: {what}"));
    let text = data
        .get("response")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("no response"))?;
    let value = cbor::decode(&jose::b64url_decode(text).map_err(|_| malformed("not base64url"))?)?;
    let items = cbor::array(&value, "EncryptedResponse")?;
    let (Some(Cbor::Text(label)), Some(params)) = (items.first(), items.get(1)) else {
        return Err(malformed("not [\"dcapi\", {...}]"));
    };
    if label != "dcapi" {
        return Err(malformed("not dcapi"));
    }
    let params = cbor::map(params, "EncryptedResponse")?;
    let enc = cbor::bytes(cbor::require(params, "enc", "EncryptedResponse")?, "enc")?;
    let ct = cbor::bytes(
        cbor::require(params, "cipherText", "EncryptedResponse")?,
        "cipherText",
    )?;
    let transcript = SessionTranscript::new(
        None,
        None,
        &Handover::DcApi {
            encryption_info: encryption_info.to_owned(),
            origin: origin.to_owned(),
        },
    );
    let plaintext = hpke::open(key, enc, &cbor::encode(transcript.value()), b"", ct)
        .map_err(|_| MdocError::Decryption)?;
    Ok((plaintext, transcript))
}
