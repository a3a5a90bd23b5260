//! Device engagement (ISO/IEC 18013-5 8.2): what the mdoc shows the reader (as a QR code
//! `mdoc:` URI, or over NFC) to start a session — its ephemeral key and how to reach it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::MdocError;
use crate::cose;
use crate::cose::cbor::{self, Value};

/// The only cipher suite ISO 18013-5 defines.
pub const CIPHER_SUITE_1: u64 = 1;
/// The prefix of a device-engagement QR code.
pub const QR_PREFIX: &str = "mdoc:";

/// A device retrieval method (8.2.2.2), as the host fills it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetrievalMethod {
    /// Bluetooth Low Energy.
    Ble {
        /// The mdoc can act as GATT server (peripheral server mode).
        peripheral_server_mode: bool,
        /// The mdoc can act as GATT client (central client mode).
        central_client_mode: bool,
        /// Service UUID for peripheral server mode.
        peripheral_server_uuid: Option<Vec<u8>>,
        /// Service UUID for central client mode.
        central_client_uuid: Option<Vec<u8>>,
    },
    /// NFC.
    Nfc {
        /// Maximum length of command data the mdoc accepts.
        max_command_data: u64,
        /// Maximum length of response data the mdoc sends.
        max_response_data: u64,
    },
}

impl RetrievalMethod {
    fn to_value(&self) -> Value {
        let int = |i: i64| Value::Integer(i.into());
        match self {
            RetrievalMethod::Ble {
                peripheral_server_mode,
                central_client_mode,
                peripheral_server_uuid,
                central_client_uuid,
            } => {
                let mut options = vec![
                    (int(0), Value::Bool(*peripheral_server_mode)),
                    (int(1), Value::Bool(*central_client_mode)),
                ];
                if let Some(uuid) = peripheral_server_uuid {
                    options.push((int(10), Value::Bytes(uuid.clone())));
                }
                if let Some(uuid) = central_client_uuid {
                    options.push((int(11), Value::Bytes(uuid.clone())));
                }
                Value::Array(vec![int(2), int(1), Value::Map(options)])
            }
            RetrievalMethod::Nfc {
                max_command_data,
                max_response_data,
            } => Value::Array(vec![
                int(1),
                int(1),
                Value::Map(vec![
                    (int(0), Value::Integer((*max_command_data).into())),
                    (int(1), Value::Integer((*max_response_data).into())),
                ]),
            ]),
        }
    }

    fn from_value(value: &Value) -> Result<Option<Self>, MdocError> {
        let items = cbor::array(value, "DeviceRetrievalMethod")?;
        let [kind, _version, options] = items else {
            return Err(MdocError::Malformed(
                "DeviceRetrievalMethod: expected 3 items".into(),
            ));
        };
        let options = cbor::map(options, "RetrievalOptions")?;
        let flag = |k: i64| {
            cbor::get_int(options, k)
                .map(|v| cbor::boolean(v, "BLE option"))
                .transpose()
        };
        let uuid = |k: i64| {
            cbor::get_int(options, k)
                .map(|v| cbor::bytes(v, "BLE UUID").map(<[u8]>::to_vec))
                .transpose()
        };
        let number = |k: i64| {
            cbor::get_int(options, k)
                .map(|v| cbor::uint(v, "NFC option"))
                .transpose()
        };
        Ok(match cbor::uint(kind, "retrieval type")? {
            2 => Some(RetrievalMethod::Ble {
                peripheral_server_mode: flag(0)?.unwrap_or(false),
                central_client_mode: flag(1)?.unwrap_or(false),
                peripheral_server_uuid: uuid(10)?,
                central_client_uuid: uuid(11)?,
            }),
            1 => Some(RetrievalMethod::Nfc {
                max_command_data: number(0)?.unwrap_or(0),
                max_response_data: number(1)?.unwrap_or(0),
            }),
            // Wi-Fi Aware and future methods: kept in the bytes, not interpreted here.
            _ => None,
        })
    }
}

/// A DeviceEngagement, with the exact bytes it was read from or written as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEngagement {
    /// The encoded DeviceEngagement (the content of DeviceEngagementBytes).
    pub bytes: Vec<u8>,
    /// The encoded COSE_Key of the mdoc's ephemeral key (the content of EDeviceKeyBytes).
    pub e_device_key_bytes: Vec<u8>,
    /// The mdoc's ephemeral public key (uncompressed SEC1).
    pub e_device_key: Vec<u8>,
    /// The retrieval methods this implementation understands.
    pub retrieval_methods: Vec<RetrievalMethod>,
}

impl DeviceEngagement {
    /// Builds version 1.0 engagement for an ephemeral public key.
    pub fn new(
        e_device_key: &[u8],
        retrieval_methods: Vec<RetrievalMethod>,
    ) -> Result<Self, MdocError> {
        let e_device_key_bytes = cbor::encode(&cose::cose_key(e_device_key)?);
        let mut entries = vec![
            (Value::Integer(0.into()), Value::Text("1.0".into())),
            (
                Value::Integer(1.into()),
                Value::Array(vec![
                    Value::Integer(CIPHER_SUITE_1.into()),
                    cbor::tagged_bytes(e_device_key_bytes.clone()),
                ]),
            ),
        ];
        if !retrieval_methods.is_empty() {
            entries.push((
                Value::Integer(2.into()),
                Value::Array(
                    retrieval_methods
                        .iter()
                        .map(RetrievalMethod::to_value)
                        .collect(),
                ),
            ));
        }
        Ok(DeviceEngagement {
            bytes: cbor::encode(&Value::Map(entries)),
            e_device_key_bytes,
            e_device_key: crate::crypto::ec::uncompressed_public_key(e_device_key)?,
            retrieval_methods,
        })
    }

    /// Parses DeviceEngagement bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, MdocError> {
        let value = cbor::decode(bytes)?;
        let entries = cbor::map(&value, "DeviceEngagement")?;
        cbor::unique_keys(entries, "DeviceEngagement")?;
        let version = cbor::text(
            cbor::get_int(entries, 0)
                .ok_or_else(|| MdocError::Malformed("DeviceEngagement: missing version".into()))?,
            "DeviceEngagement version",
        )?;
        if !version.starts_with("1.") {
            return Err(MdocError::Unsupported(format!(
                "DeviceEngagement version {version}"
            )));
        }
        let security = cbor::array(
            cbor::get_int(entries, 1)
                .ok_or_else(|| MdocError::Malformed("DeviceEngagement: missing Security".into()))?,
            "Security",
        )?;
        let [suite, key] = security else {
            return Err(MdocError::Malformed("Security: expected 2 items".into()));
        };
        let suite = cbor::uint(suite, "cipher suite")?;
        if suite != CIPHER_SUITE_1 {
            return Err(MdocError::Unsupported(format!("cipher suite {suite}")));
        }
        let e_device_key_bytes = cbor::untag_bytes(key, "EDeviceKeyBytes")?.to_vec();
        let e_device_key = cose::public_key_from_cose(&cbor::decode(&e_device_key_bytes)?)?;
        let mut retrieval_methods = Vec::new();
        if let Some(methods) = cbor::get_int(entries, 2) {
            for method in cbor::array(methods, "DeviceRetrievalMethods")? {
                if let Some(m) = RetrievalMethod::from_value(method)? {
                    retrieval_methods.push(m);
                }
            }
        }
        Ok(DeviceEngagement {
            bytes: bytes.to_vec(),
            e_device_key_bytes,
            e_device_key,
            retrieval_methods,
        })
    }

    /// The QR code text: `mdoc:` followed by base64url (no padding) of DeviceEngagementBytes.
    pub fn qr_uri(&self) -> String {
        format!("{QR_PREFIX}{}", URL_SAFE_NO_PAD.encode(&self.bytes))
    }

    /// Parses the text of a device-engagement QR code.
    pub fn from_qr_uri(uri: &str) -> Result<Self, MdocError> {
        let encoded = uri
            .trim()
            .strip_prefix(QR_PREFIX)
            .ok_or_else(|| MdocError::Malformed("QR code is not an mdoc: URI".into()))?;
        if encoded.len() > cbor::MAX_MESSAGE_BYTES {
            return Err(MdocError::Malformed("QR code too long".into()));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded.trim_end_matches('='))
            .map_err(|_| MdocError::Malformed("QR code is not base64url".into()))?;
        Self::parse(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::ec::SoftwareKey;

    #[test]
    fn engagement_round_trips_through_qr() {
        let key = SoftwareKey::generate().unwrap();
        let methods = vec![
            RetrievalMethod::Ble {
                peripheral_server_mode: true,
                central_client_mode: false,
                peripheral_server_uuid: Some(vec![0x45; 16]),
                central_client_uuid: None,
            },
            RetrievalMethod::Nfc {
                max_command_data: 255,
                max_response_data: 256,
            },
        ];
        let engagement = DeviceEngagement::new(key.public_key(), methods.clone()).unwrap();
        let parsed = DeviceEngagement::from_qr_uri(&engagement.qr_uri()).unwrap();
        assert_eq!(parsed, engagement);
        assert_eq!(parsed.retrieval_methods, methods);
    }

    #[test]
    fn bad_engagements_are_errors() {
        assert!(DeviceEngagement::from_qr_uri("https://x").is_err());
        assert!(DeviceEngagement::from_qr_uri("mdoc:!!!").is_err());
        assert!(DeviceEngagement::from_qr_uri("mdoc:oA").is_err()); // {}
        assert!(DeviceEngagement::parse(&[0xa1, 0x00, 0x63, b'2', b'.', b'0']).is_err());
    }
}
