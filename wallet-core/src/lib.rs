//! Jigap (지갑, "wallet"): an embeddable digital-wallet core.
//!
//! A citizen's credentials live in one encrypted SQLite store; host apps drive the core through
//! the exported [`api`] (uniffi bindings for Kotlin, Swift and Python, or directly from Rust).
//! Layers run one way: [`api`] → capabilities ([`access`], [`issuance`], [`openid4vp`], [`verifier`],
//! [`mdoc`], [`sdjwt`], [`documents`], [`inbox`], [`benefits`], [`policy`]) → [`store`] and
//! [`trust`] → [`journal`] and [`cose`] → [`crypto`]; [`limits`] and [`time`] are leaves anyone may use, and the test
//! authority ([`issuer`], feature `issuer`) is reached only from `api/authority.rs`. Each
//! module's doc says what it owns and what it must never import; `tests/layers.rs` holds the
//! tree to it.

// Data from outside is never indexed or sliced in ways that can panic: `get`, `split_*` and
// iterators instead (tests may index freely).
#![cfg_attr(not(test), deny(clippy::indexing_slicing, clippy::string_slice))]

uniffi::setup_scaffolding!();

pub mod access;
pub mod api;
pub mod benefits;
pub mod cose;
pub mod crypto;
pub mod documents;
pub mod inbox;
pub mod issuance;
#[cfg(feature = "issuer")]
pub mod issuer;
pub mod journal;
pub mod limits;
pub mod mdoc;
pub mod openid4vp;
pub mod policy;
pub mod sdjwt;
pub mod store;
pub mod time;
pub mod trust;
pub mod verifier;

pub use api::*;
