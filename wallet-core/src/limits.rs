//! Every bound the core puts on what it reads from outside, in one place.
//!
//! A phone has little memory and one user waiting: each limit below is large enough for every
//! real credential, request and document we know of, and small enough that a hostile message
//! costs at most a few megabytes and milliseconds before it is refused. Parsers check these
//! before they allocate, decode deeper or recurse; a message over a limit is a typed
//! `Malformed` error, never a panic or a partial write.

/// Largest CBOR message decoded (a session message, an IssuerSigned, a signed document). A
/// DeviceResponse with two documents and 100 KB portraits fits many times over.
pub const MAX_CBOR_BYTES: usize = 1024 * 1024;
/// Deepest CBOR nesting accepted (arrays, maps and tags). ISO 18013-5 structures nest about
/// twelve levels, element values a few more.
pub const MAX_CBOR_DEPTH: usize = 32;
/// Most data items in one CBOR message: bounds the decoded value tree (a few MB at most) for
/// a message of many tiny items.
pub const MAX_CBOR_ITEMS: u64 = 65_536;
/// Most entries in one CBOR map or array.
pub const MAX_CBOR_CONTAINER_LEN: u64 = 16_384;

/// Longest inbox search, in characters: each pair of them is a keyed token to look up.
pub const MAX_SEARCH_CHARS: usize = 256;

/// Largest SD-JWT (issued or presented, compact or JSON), in bytes.
pub const MAX_SD_JWT_BYTES: usize = 1024 * 1024;
/// Most disclosures in one SD-JWT.
pub const MAX_DISCLOSURES: usize = 1024;
/// Deepest nesting of disclosures inside disclosures (an address inside a claim inside ...).
pub const MAX_DISCLOSURE_DEPTH: usize = 16;
/// Deepest nesting of the claims an SD-JWT discloses, counting every object and array.
pub const MAX_CLAIMS_DEPTH: usize = 32;

/// Most documents asked for in one DeviceRequest (and returned in one DeviceResponse).
pub const MAX_DOCUMENTS: usize = 16;
/// Most elements asked for in one document request, over all its namespaces.
pub const MAX_REQUESTED_ELEMENTS: usize = 512;

/// Most certificates in a chain (leaf, intermediates, root).
pub const MAX_CHAIN_CERTIFICATES: usize = 8;
/// Largest DER certificate.
pub const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;

/// Largest decompressed Token Status List (16 MiB: 2^27 one-bit entries, enough for a country).
pub const MAX_STATUS_LIST_BYTES: usize = 16 * 1024 * 1024;
/// Largest status list token (JWT or CWT) before decompression.
pub const MAX_STATUS_TOKEN_BYTES: usize = 4 * 1024 * 1024;

/// Largest signed government document (bill, notice, benefit catalog, consent token).
pub const MAX_SIGNED_DOCUMENT_BYTES: usize = 256 * 1024;

/// Largest credential the wallet stores, in bytes.
pub const MAX_CREDENTIAL_BYTES: usize = 1024 * 1024;
/// Largest text field (type, issuer, names, aliases), in bytes.
pub const MAX_TEXT_BYTES: usize = 1024;
/// Largest page of a listing.
pub const MAX_PAGE_SIZE: u32 = 500;

// OpenID4VCI (issuance).

/// Largest issuance response read (metadata, token, credential responses), in bytes.
pub const MAX_ISSUANCE_RESPONSE_BYTES: usize = 2 * 1024 * 1024;
/// Most proofs, and so copies, in one credential request (a batch).
pub const MAX_BATCH_PROOFS: usize = 16;
/// Most credential configurations in one offer, and in an issuer's metadata.
pub const MAX_OFFERED_CONFIGURATIONS: usize = 32;
/// Most configurations an issuer's metadata may describe.
pub const MAX_METADATA_CONFIGURATIONS: usize = 256;
/// Longest URL accepted from an offer or metadata, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// Longest deferred issuance poll interval honoured, in seconds (longer ones are clamped).
pub const MAX_DEFERRED_INTERVAL_SECONDS: u64 = 24 * 60 * 60;
