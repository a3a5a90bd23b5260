//! The issuer server's memory: offers, codes, tokens, nonces, deferred transactions and
//! notifications, each in a map whose entries expire and are evicted, with a bound on how many
//! live entries a map holds. Nothing is written to disk; a restart forgets everything.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::configurations::Subject;

/// Most live entries in one map (offers, codes, tokens, nonces ...).
pub const MAX_ENTRIES: usize = 10_000;
/// Most notification events kept for `/admin/events` (the oldest are dropped).
pub const MAX_EVENTS: usize = 1_000;

/// A map full of live entries.
#[derive(Debug)]
pub struct Full;

/// A map whose entries expire: an expired entry is never returned, and is evicted on the next
/// insert.
#[derive(Debug)]
pub struct Expiring<V> {
    /// Each value with the instant it expires.
    entries: HashMap<String, (Instant, V)>,
}

impl<V> Default for Expiring<V> {
    fn default() -> Self {
        Expiring {
            entries: HashMap::new(),
        }
    }
}

impl<V> Expiring<V> {
    /// Stores `value` under `key` for `lifetime`, after evicting expired entries.
    pub fn insert(&mut self, key: String, lifetime: Duration, value: V) -> Result<(), Full> {
        let now = Instant::now();
        self.entries.retain(|_, (until, _)| *until > now);
        if self.entries.len() >= MAX_ENTRIES {
            return Err(Full);
        }
        self.entries.insert(key, (now + lifetime, value));
        Ok(())
    }

    /// The live entry under `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries
            .get(key)
            .filter(|(until, _)| *until > Instant::now())
            .map(|(_, v)| v)
    }

    /// The live entry under `key`, to change.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.entries
            .get_mut(key)
            .filter(|(until, _)| *until > Instant::now())
            .map(|(_, v)| v)
    }

    /// Takes the live entry under `key` out (an expired one is dropped, and `None` returned).
    pub fn remove(&mut self, key: &str) -> Option<V> {
        self.entries
            .remove(key)
            .filter(|(until, _)| *until > Instant::now())
            .map(|(_, v)| v)
    }
}

/// The grant an offer names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// `urn:ietf:params:oauth:grant-type:pre-authorized_code`.
    PreAuthorized,
    /// `authorization_code`, started with the offer's `issuer_state`.
    AuthorizationCode,
}

/// What a grant lets a wallet have issued: configurations, about whom, and when.
#[derive(Debug, Clone)]
pub struct Issuance {
    /// The credential configurations (also the credential identifiers of the access token).
    pub configuration_ids: Vec<String>,
    /// Who the credentials are about.
    pub subject: Subject,
    /// Issue deferred, ready this many seconds after the credential request.
    pub deferred_seconds: Option<u64>,
}

/// A credential offer.
#[derive(Debug)]
pub struct Offer {
    /// Its grant.
    pub grant: GrantType,
    /// Served at `/offers/{id}` (an offer by reference).
    pub by_reference: bool,
    /// The Credential Offer object.
    pub json: serde_json::Value,
    /// What redeeming it issues.
    pub issuance: Issuance,
}

/// A pre-authorized code.
#[derive(Debug)]
pub struct PreAuthorizedCode {
    /// The offer it came in.
    pub offer_id: String,
    /// The transaction code the wallet must send with it, if any.
    pub tx_code: Option<String>,
    /// Wrong transaction codes sent so far.
    pub wrong_tries: u8,
}

/// A pushed authorization request (RFC 9126), waiting for the browser step.
#[derive(Debug)]
pub struct PushedRequest {
    /// The client that pushed it.
    pub client_id: String,
    /// Where the browser goes back.
    pub redirect_uri: String,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The client's `state`, echoed back.
    pub state: Option<String>,
    /// The offer whose `issuer_state` it named, used up once a token is issued.
    pub offer_id: Option<String>,
    /// What it asks for.
    pub issuance: Issuance,
}

/// An authorization code.
#[derive(Debug)]
pub struct AuthorizationCode {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of its request.
    pub redirect_uri: String,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The offer whose `issuer_state` started it.
    pub offer_id: Option<String>,
    /// What it grants.
    pub issuance: Issuance,
}

/// An access token.
#[derive(Debug)]
pub struct AccessToken {
    /// What it grants.
    pub issuance: Issuance,
    /// Credential identifiers already issued under it (each may be issued once).
    pub issued: HashSet<String>,
}

/// A deferred issuance: the proven keys wait until the credentials are ready.
#[derive(Debug)]
pub struct Pending {
    /// The access token that asked.
    pub token: String,
    /// When the credentials are ready.
    pub ready_at: Instant,
    /// The configuration to issue.
    pub configuration_id: String,
    /// Who they are about.
    pub subject: Subject,
    /// One credential per key (SEC1).
    pub keys: Vec<Vec<u8>>,
}

/// A notification a wallet sent, kept for `/admin/events`.
#[derive(Debug, Clone)]
pub struct Event {
    /// The notification id of the credential response.
    pub notification_id: String,
    /// `credential_accepted`, `credential_failure` or `credential_deleted`.
    pub event: String,
    /// The wallet's description, if any.
    pub event_description: Option<String>,
}

/// Everything the server remembers.
#[derive(Debug, Default)]
pub struct State {
    /// Offers by id.
    pub offers: Expiring<Offer>,
    /// Pre-authorized codes.
    pub pre_authorized: Expiring<PreAuthorizedCode>,
    /// `issuer_state` values of authorization-code offers, to their offer id.
    pub issuer_states: Expiring<String>,
    /// Pushed authorization requests by `request_uri`.
    pub pushed: Expiring<PushedRequest>,
    /// Authorization codes.
    pub codes: Expiring<AuthorizationCode>,
    /// Access tokens.
    pub tokens: Expiring<AccessToken>,
    /// Unused `c_nonce` values.
    pub nonces: Expiring<()>,
    /// Deferred issuances by transaction id.
    pub pending: Expiring<Pending>,
    /// Notification ids, to the access token of their credential response.
    pub notification_ids: Expiring<String>,
    /// Client attestation proof-of-possession `jti` values seen.
    pub seen_jtis: Expiring<()>,
    /// Notifications received, oldest first.
    pub events: VecDeque<Event>,
    /// Credentials issued.
    pub issued: u64,
    /// The next status list index (with `--status-uri`).
    pub next_status_index: u64,
}

impl State {
    /// Records a notification, dropping the oldest beyond [`MAX_EVENTS`].
    pub fn record(&mut self, event: Event) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// Removes an offer and its code or issuer state: it was redeemed, or its code died.
    pub fn use_up_offer(&mut self, offer_id: &str) {
        if let Some(offer) = self.offers.remove(offer_id) {
            for (name, grant) in offer
                .json
                .get("grants")
                .and_then(serde_json::Value::as_object)
                .into_iter()
                .flatten()
            {
                let field = if name == "authorization_code" {
                    "issuer_state"
                } else {
                    "pre-authorized_code"
                };
                if let Some(value) = grant.get(field).and_then(serde_json::Value::as_str) {
                    self.pre_authorized.remove(value);
                    self.issuer_states.remove(value);
                }
            }
        }
    }
}

/// A fresh random value: 32 bytes from the operating system, base64url without padding.
pub fn random_token() -> std::io::Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(crate::secrets::random_bytes(32)?))
}

/// A fresh six-digit transaction code (uniform: bytes of 250 and above are drawn again).
pub fn random_digits(count: usize) -> std::io::Result<String> {
    let mut digits = String::with_capacity(count);
    while digits.len() < count {
        for byte in crate::secrets::random_bytes(count)? {
            if byte < 250 && digits.len() < count {
                digits.push(char::from(b'0' + byte % 10));
            }
        }
    }
    Ok(digits)
}
