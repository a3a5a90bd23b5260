//! The `Wallet` object: opening the store, access control, the credential store, device keys,
//! and wiping. Each method validates its input, checks access, and delegates to the domain
//! modules; errors map into [`WalletError`] through `From` impls in `api::error`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use zeroize::Zeroizing;

use super::host::{
    CheckedSecureArea, Clock, KeyProtector, SecureArea, SoftwareSecureArea, SystemClock,
};
use super::records::{
    Credential, CredentialFilter, CredentialPage, CredentialState, CredentialSummary, DeviceKey,
    NewCredential, WalletConfig, WalletStatus, WipeReport,
};
use super::{VerificationFailure, WalletError};
use crate::access;
use crate::crypto::secret::SymmetricKey;
use crate::crypto::{jose, random};
use crate::issuance::proof;
use crate::store::credentials::{
    CredentialCopy, CredentialMetadata, PresentationCopy, StateUpdate, StoredCredential,
};
use crate::store::{KeyWrap, Location, Store};
use crate::trust::x509::TrustRole;

/// Largest credential accepted, in bytes.
pub const MAX_CREDENTIAL_BYTES: usize = 1024 * 1024;
/// Largest text field (type, issuer, names), in bytes.
pub const MAX_TEXT_BYTES: usize = 1024;
/// Largest page of a listing.
pub const MAX_PAGE_SIZE: u32 = 500;

const META_HOST_KEY_ALIASES: &str = "host_key_aliases";

struct ProtectorWrap<'a>(&'a dyn KeyProtector);

impl KeyWrap for ProtectorWrap<'_> {
    type Error = WalletError;

    fn wrap(&self, key: &SymmetricKey) -> Result<Vec<u8>, WalletError> {
        self.0
            .wrap_key(key.expose().to_vec())
            .map_err(|e| e.in_callback("KeyProtector.wrapKey"))
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<SymmetricKey, WalletError> {
        let key = Zeroizing::new(
            self.0
                .unwrap_key(wrapped.to_vec())
                .map_err(|e| e.in_callback("KeyProtector.unwrapKey"))?,
        );
        SymmetricKey::from_slice(&key).map_err(|_| WalletError::HostCallback {
            reason: format!(
                "KeyProtector.unwrapKey returned {} bytes, expected 32",
                key.len()
            ),
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Access {
    pin_set: bool,
    unlocked: bool,
}

/// A citizen's wallet: an encrypted store of credentials and the keys they are bound to.
///
/// Open one per store. All methods are thread-safe. Once a PIN is set, the wallet opens
/// locked and every operation on credentials or keys needs [`Wallet::verify_pin`] first.
#[derive(uniffi::Object)]
pub struct Wallet {
    pub(super) store: Arc<Store>,
    pub(super) secure_area: Arc<dyn SecureArea>,
    software_area: bool,
    clock: Arc<dyn Clock>,
    access: Mutex<Access>,
    pub(super) listener: Option<Arc<dyn super::status::WalletListener>>,
    status_cache: Mutex<crate::trust::status_token::StatusCache>,
    pub(super) allow_loopback_http: bool,
    /// Online requests answered lately (client id and nonce, when), to refuse a replay.
    pub(super) seen_requests: Mutex<Vec<(String, i64)>>,
    /// Held while an entry of the citizen's record is signed and written.
    pub(super) journal_lock: Mutex<()>,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet")
            .field("store", &self.store)
            .field("software_area", &self.software_area)
            .finish_non_exhaustive()
    }
}

fn check_text(name: &str, value: &str) -> Result<(), WalletError> {
    if value.trim().is_empty() {
        return Err(WalletError::invalid(format!("{name} is empty")));
    }
    if value.len() > MAX_TEXT_BYTES {
        return Err(WalletError::invalid(format!(
            "{name} is longer than {MAX_TEXT_BYTES} bytes"
        )));
    }
    Ok(())
}

pub(super) fn check_alias(alias: &str) -> Result<(), WalletError> {
    let ok = !alias.is_empty()
        && alias.len() <= 128
        && alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(WalletError::invalid(
            "a key alias is 1 to 128 characters of A-Z, a-z, 0-9, '-', '_' or '.'",
        ))
    }
}

impl Wallet {
    fn access(&self) -> Result<MutexGuard<'_, Access>, WalletError> {
        self.access.lock().map_err(|_| WalletError::Internal {
            reason: "access state poisoned".into(),
        })
    }

    pub(super) fn require_unlocked(&self) -> Result<(), WalletError> {
        if self.store.is_closed() {
            return Err(WalletError::Closed);
        }
        if self.access()?.unlocked {
            Ok(())
        } else {
            Err(WalletError::Locked)
        }
    }

    /// The parsed trust anchors of `role` (unparsable ones are skipped: they were checked when
    /// added).
    pub(super) fn anchors(
        &self,
        role: TrustRole,
    ) -> Result<Vec<crate::trust::x509::ParsedCertificate>, WalletError> {
        Ok(self
            .store
            .trust_anchors(Some(role.code()))?
            .into_iter()
            .filter_map(|(_, _, der)| crate::trust::x509::ParsedCertificate::from_der(&der).ok())
            .collect())
    }

    pub(super) fn now(&self) -> Result<i64, WalletError> {
        self.clock
            .now_unix_seconds()
            .map_err(|e| e.in_callback("Clock.nowUnixSeconds"))
    }

    pub(super) fn status_cache(
        &self,
    ) -> Result<MutexGuard<'_, crate::trust::status_token::StatusCache>, WalletError> {
        self.status_cache.lock().map_err(|_| WalletError::Internal {
            reason: "status cache poisoned".into(),
        })
    }

    fn set_unlocked(&self, unlocked: bool) -> Result<(), WalletError> {
        self.access()?.unlocked = unlocked;
        Ok(())
    }

    /// Unlocks on a correct PIN, locks on a wrong one or lockout; other failures (bad
    /// format, no PIN set, storage) leave the lock as it was.
    fn after_pin_check(&self, result: Result<(), access::AccessError>) -> Result<(), WalletError> {
        match &result {
            Ok(()) => self.set_unlocked(true)?,
            Err(access::AccessError::WrongPin { tries_left: 0 }) => {
                self.set_unlocked(false)?;
                // The lockout is recorded; a failure to record it does not hide the lockout.
                let _ = self.record(
                    crate::journal::JournalKind::PinLockout,
                    serde_json::json!({}),
                );
            }
            Err(
                access::AccessError::WrongPin { .. }
                | access::AccessError::LockedOut
                | access::AccessError::RolledBack
                | access::AccessError::TooSoon { .. },
            ) => self.set_unlocked(false)?,
            Err(_) => {}
        }
        Ok(result?)
    }

    fn host_key_aliases(&self) -> Result<Vec<String>, WalletError> {
        match self.store.get_meta(META_HOST_KEY_ALIASES)? {
            None => Ok(Vec::new()),
            Some(bytes) => {
                ciborium::from_reader(bytes.as_slice()).map_err(|e| WalletError::StoreCorrupt {
                    reason: format!("host key list: {e}"),
                })
            }
        }
    }

    fn write_host_key_aliases(&self, aliases: &[String]) -> Result<(), WalletError> {
        let mut out = Vec::new();
        ciborium::into_writer(aliases, &mut out).map_err(|e| WalletError::Internal {
            reason: e.to_string(),
        })?;
        Ok(self.store.put_meta(META_HOST_KEY_ALIASES, &out)?)
    }

    /// Stores a credential that passed its format's intake checks (`add_mdoc`, `add_sd_jwt`)
    /// and returns its id. The bytes are kept exactly as given. Not exported: every credential
    /// enters through a format's checks.
    pub(super) fn store_credential(
        &self,
        credential: NewCredential,
    ) -> Result<String, WalletError> {
        self.store_issued(credential, &[], None)
    }

    /// Stores a credential with its batch `copies` (each bound to its own key; `credential`
    /// holds the first copy for display), replacing the credential `replaces` in the same
    /// transaction when given, whose device keys are then deleted.
    pub(super) fn store_issued(
        &self,
        credential: NewCredential,
        copies: &[CredentialCopy],
        replaces: Option<&str>,
    ) -> Result<String, WalletError> {
        self.require_unlocked()?;
        if copies.len() > crate::limits::MAX_BATCH_PROOFS {
            return Err(WalletError::invalid("too many copies"));
        }
        for copy in copies {
            check_alias(&copy.key_alias)?;
            if copy.raw.is_empty() || copy.raw.len() > MAX_CREDENTIAL_BYTES {
                return Err(WalletError::invalid("a copy is empty or too large"));
            }
        }
        check_text("doc_type", &credential.doc_type)?;
        check_text("issuer", &credential.issuer)?;
        check_text("display_name_ko", &credential.display_name_ko)?;
        check_text("display_name_en", &credential.display_name_en)?;
        if credential.raw.is_empty() {
            return Err(WalletError::invalid("the credential is empty"));
        }
        if credential.raw.len() > MAX_CREDENTIAL_BYTES {
            return Err(WalletError::invalid(format!(
                "the credential is larger than {MAX_CREDENTIAL_BYTES} bytes"
            )));
        }
        if let (Some(from), Some(until)) = (credential.valid_from, credential.valid_until) {
            if from > until {
                return Err(WalletError::invalid("valid_from is after valid_until"));
            }
        }
        if let Some(alias) = &credential.key_alias {
            check_alias(alias)?;
        }
        let id = random::identifier()?;
        let details = serde_json::json!({
            "credential_id": id,
            "doc_type": credential.doc_type,
            "issuer": credential.issuer,
            "copies": copies.len().max(1),
            "replaced": replaces,
        });
        let stored = StoredCredential {
            id: id.clone(),
            format: credential.format,
            state: CredentialState::Valid,
            added_at: self.now()?,
            metadata: CredentialMetadata {
                doc_type: credential.doc_type,
                issuer: credential.issuer,
                display_name_ko: credential.display_name_ko,
                display_name_en: credential.display_name_en,
                valid_from: credential.valid_from,
                valid_until: credential.valid_until,
                key_alias: credential.key_alias,
            },
            raw: Some(credential.raw),
            copies: None,
        };
        let replaced = self.recorded(crate::journal::JournalKind::Issuance, details, |record| {
            Ok(self
                .store
                .insert_credential_copies(&stored, copies, replaces, Some(record))?)
        })?;
        self.delete_host_keys(&replaced)?;
        Ok(id)
    }

    /// The bytes and device key a presentation of `credential` uses: its own for a
    /// single-issued credential, a copy never presented before for a batch (marked used now).
    pub(super) fn presentation_copy(
        &self,
        credential: &Credential,
    ) -> Result<(Vec<u8>, String), WalletError> {
        let id = &credential.summary.id;
        match self.store.take_presentation_copy(id, self.now()?)? {
            None => Err(WalletError::not_found(format!("credential {id}"))),
            Some(PresentationCopy::Single) => Ok((
                credential.raw.clone(),
                credential
                    .summary
                    .key_alias
                    .clone()
                    .ok_or_else(|| WalletError::invalid("the credential has no device key"))?,
            )),
            Some(PresentationCopy::Copy(copy)) => Ok((copy.raw, copy.key_alias)),
            Some(PresentationCopy::Exhausted) => Err(WalletError::CopiesExhausted {
                credential_id: id.clone(),
            }),
        }
    }

    /// Deletes device keys, all of them even when one fails; the first failure is returned.
    pub(super) fn delete_host_keys(&self, aliases: &[String]) -> Result<(), WalletError> {
        if aliases.is_empty() {
            return Ok(());
        }
        let area = CheckedSecureArea(&*self.secure_area);
        let mut first_failure = None;
        let mut deleted = Vec::new();
        for alias in aliases {
            match area.delete_key(alias) {
                Ok(()) => deleted.push(alias),
                Err(e) => {
                    first_failure.get_or_insert(e);
                }
            }
        }
        if !self.software_area {
            // Deleted keys are no longer the wallet's to wipe; the others still are.
            let mut remembered = self.host_key_aliases()?;
            remembered.retain(|a| !deleted.contains(&a));
            self.write_host_key_aliases(&remembered)?;
        }
        first_failure.map_or(Ok(()), Err)
    }

    /// Every key alias this wallet created in a host secure area: device keys, the keys its
    /// credentials are bound to, and the MyData consent key.
    pub(super) fn all_host_key_aliases(&self) -> Result<Vec<String>, WalletError> {
        let mut aliases = self.host_key_aliases()?;
        aliases.extend(self.store.credential_key_aliases()?);
        if let Some(alias) = self.store.get_meta(super::mydata::META_CONSENT_KEY)? {
            aliases.push(
                String::from_utf8(alias).map_err(|_| WalletError::StoreCorrupt {
                    reason: "consent key alias".into(),
                })?,
            );
        }
        aliases.sort();
        aliases.dedup();
        Ok(aliases)
    }

    /// Records an alias created in a host secure area, so that wiping deletes it.
    pub(super) fn remember_host_key(&self, alias: &str) -> Result<(), WalletError> {
        if self.software_area {
            return Ok(());
        }
        let mut aliases = self.host_key_aliases()?;
        aliases.push(alias.to_owned());
        self.write_host_key_aliases(&aliases)
    }

    /// Deletes everything (shared by the async export and the CLI's synchronous path). The
    /// store is erased even when a host key cannot be deleted; that is then reported as
    /// `WipeIncomplete` with the keys left behind, never as success.
    fn wipe_now(&self) -> Result<WipeReport, WalletError> {
        let mut host_keys_removed = 0;
        let mut undeleted = Vec::new();
        if !self.software_area {
            for alias in self.all_host_key_aliases()? {
                match CheckedSecureArea(&*self.secure_area).delete_key(&alias) {
                    Ok(()) => host_keys_removed += 1,
                    Err(_) => undeleted.push(alias),
                }
            }
        }
        let counts = self.store.wipe()?;
        self.set_unlocked(false)?;
        let report = WipeReport {
            credentials_removed: counts.credentials,
            software_keys_removed: counts.software_keys,
            host_keys_removed,
            records_removed: counts.meta_records
                + counts.trust_anchors
                + counts.documents
                + counts.credential_copies
                + counts.journal_entries,
            data_key_destroyed: counts.data_key_destroyed,
        };
        if undeleted.is_empty() {
            Ok(report)
        } else {
            Err(WalletError::WipeIncomplete {
                undeleted_key_aliases: undeleted,
                data_key_destroyed: report.data_key_destroyed,
            })
        }
    }
}

#[uniffi::export]
impl Wallet {
    /// Opens the wallet store described by `config`, creating it if allowed, on the caller's
    /// thread: the blocking form of [`open_wallet`], for tools and tests without an async
    /// runtime. A damaged store, a wrong key or a store from a newer version is an error;
    /// nothing is recreated.
    #[uniffi::constructor]
    pub fn open_blocking(config: WalletConfig) -> Result<Arc<Self>, WalletError> {
        let location = match config.path {
            Some(path) if path.trim().is_empty() => {
                return Err(WalletError::invalid("the wallet path is empty"))
            }
            Some(path) => Location::File(PathBuf::from(path)),
            None => Location::Memory,
        };
        let store = Arc::new(Store::open(
            location,
            config.create_if_missing,
            &ProtectorWrap(&*config.key_protector),
        )?);
        let clock: Arc<dyn Clock> = config.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let software_area = config.secure_area.is_none();
        let secure_area: Arc<dyn SecureArea> = match config.secure_area {
            Some(area) => area,
            None => Arc::new(SoftwareSecureArea::new(store.clone(), clock.clone())),
        };
        let pin = access::state(&store)?;
        Ok(Arc::new(Wallet {
            store,
            secure_area,
            software_area,
            clock,
            access: Mutex::new(Access {
                pin_set: pin.is_set,
                unlocked: !pin.is_set,
            }),
            listener: config.listener,
            status_cache: Mutex::new(Default::default()),
            allow_loopback_http: config.allow_loopback_http,
            seen_requests: Mutex::new(Vec::new()),
            journal_lock: Mutex::new(()),
        }))
    }

    /// The wallet's state: PIN, lock, credential count (when unlocked), schema version.
    pub fn status(&self) -> Result<WalletStatus, WalletError> {
        let pin = access::state(&self.store)?;
        let unlocked = self.access()?.unlocked;
        let credential_count = if unlocked {
            Some(self.store.list_credentials(&Default::default(), 0, 0)?.1)
        } else {
            None
        };
        Ok(WalletStatus {
            pin_set: pin.is_set,
            unlocked,
            pin_locked_out: pin.locked_out(),
            pin_tries_left: pin.tries_left(),
            pin_retry_at: pin.retry_at,
            credential_count,
            schema_version: self.store.schema_version()?,
            in_memory: matches!(self.store.location(), Location::Memory),
            newly_created: self.store.was_created(),
        })
    }

    /// Sets the first PIN (exactly six digits). The wallet stays unlocked.
    pub fn set_pin(&self, pin: String) -> Result<(), WalletError> {
        let pin = Zeroizing::new(pin);
        self.require_unlocked()?;
        access::set_pin(&self.store, &pin)?;
        *self.access()? = Access {
            pin_set: true,
            unlocked: true,
        };
        Ok(())
    }

    /// Checks the PIN and unlocks the wallet. A wrong PIN is `WrongPin` with the tries left;
    /// after the third wrong PIN each try must wait (`PinDelayed` with the time to retry);
    /// after five consecutive wrong PINs the wallet is `PinLockedOut` until
    /// [`Wallet::reset_pin`] with a re-verification, or [`Wallet::reset_pin_by_erasing`].
    pub fn verify_pin(&self, pin: String) -> Result<(), WalletError> {
        let pin = Zeroizing::new(pin);
        let now = self.now()?;
        self.after_pin_check(access::verify_pin(&self.store, &pin, now))
    }

    /// Replaces the PIN after checking the current one (a wrong current PIN counts as a try).
    pub fn change_pin(&self, current_pin: String, new_pin: String) -> Result<(), WalletError> {
        let (current, new) = (Zeroizing::new(current_pin), Zeroizing::new(new_pin));
        let now = self.now()?;
        self.after_pin_check(access::change_pin(&self.store, &current, &new, now))
    }

    /// A challenge for unlocking a locked-out wallet: hand it to an identity-verification
    /// authority (the citizen re-verifies there), which returns a signed re-verification
    /// token for [`Wallet::reset_pin`]. Valid 15 minutes, used once. Only while locked out.
    pub fn pin_reset_challenge(&self) -> Result<Vec<u8>, WalletError> {
        Ok(access::reset_challenge(&self.store, self.now()?)?)
    }

    /// Sets a new PIN after lockout and unlocks the wallet, on proof: a re-verification token
    /// for this wallet's current challenge, signed by an identity verifier under one of the
    /// wallet's `IdentityVerifier` trust anchors. Anything else is `Verification` and changes
    /// nothing.
    pub fn reset_pin(&self, new_pin: String, reverification: Vec<u8>) -> Result<(), WalletError> {
        let new = Zeroizing::new(new_pin);
        let now = self.now()?;
        let anchors = self.anchors(TrustRole::IdentityVerifier)?;
        let signed = crate::documents::signed::verify(
            &reverification,
            &anchors,
            now,
            TrustRole::IdentityVerifier,
        )
        .map_err(|e| WalletError::Verification {
            failure: VerificationFailure::Reverification,
            detail: e.to_string(),
        })?;
        let proof = access::parse_reverification(&signed.body)?;
        access::reset_with_proof(&self.store, &new, &proof, now)?;
        self.set_unlocked(true)?;
        Ok(())
    }

    /// The citizen's other way out of a lockout: erases every credential, its device keys,
    /// bills, notifications and consents (trust anchors stay), sets the new PIN and unlocks
    /// the wallet. Returns how many credentials were erased. Only while locked out.
    pub fn reset_pin_by_erasing(&self, new_pin: String) -> Result<u64, WalletError> {
        let new = Zeroizing::new(new_pin);
        access::check_erase_reset(&self.store, &new)?;
        if !self.software_area {
            for alias in self.all_host_key_aliases()? {
                CheckedSecureArea(&*self.secure_area).delete_key(&alias)?;
            }
        }
        let erased = self
            .store
            .erase_holdings(&[META_HOST_KEY_ALIASES, super::mydata::META_CONSENT_KEY])?;
        access::reset_after_erasing(&self.store, &new)?;
        self.set_unlocked(true)?;
        Ok(erased)
    }

    /// Locks the wallet (if a PIN is set). Credentials need the PIN again.
    pub fn lock(&self) -> Result<(), WalletError> {
        let mut access = self.access()?;
        if access.pin_set {
            access.unlocked = false;
        }
        Ok(())
    }

    /// Reads a credential with its bytes.
    pub fn get_credential(&self, id: String) -> Result<Credential, WalletError> {
        self.require_unlocked()?;
        let mut stored = self
            .store
            .get_credential(&id)?
            .ok_or_else(|| WalletError::not_found(format!("credential {id}")))?;
        let raw = stored.raw.take().unwrap_or_default();
        Ok(Credential {
            summary: stored.into(),
            raw,
        })
    }

    /// Lists credentials matching `filter`, newest first, `limit` (1 to 500) at a time.
    pub fn list_credentials(
        &self,
        filter: CredentialFilter,
        offset: u32,
        limit: u32,
    ) -> Result<CredentialPage, WalletError> {
        self.require_unlocked()?;
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(WalletError::invalid(format!(
                "limit must be between 1 and {MAX_PAGE_SIZE}"
            )));
        }
        let (items, total) = self.store.list_credentials(&filter.into(), offset, limit)?;
        let end = u64::from(offset) + items.len() as u64;
        let next_offset = if end < total {
            u32::try_from(end).ok()
        } else {
            None
        };
        Ok(CredentialPage {
            items: items.into_iter().map(CredentialSummary::from).collect(),
            total,
            next_offset,
        })
    }

    /// Sets a credential's state (valid, suspended, revoked, expired). Revocation is final:
    /// a revoked credential cannot be set to any other state (`InvalidInput`).
    pub fn update_credential_state(
        &self,
        id: String,
        state: CredentialState,
    ) -> Result<(), WalletError> {
        self.require_unlocked()?;
        let details = serde_json::json!({
            "credential_id": id,
            "state": format!("{state:?}"),
        });
        let update = self.recorded(
            crate::journal::JournalKind::StatusChange,
            details,
            |record| Ok(self.store.set_credential_state(&id, state, Some(record))?),
        )?;
        match update {
            StateUpdate::Updated => Ok(()),
            StateUpdate::NotFound => Err(WalletError::not_found(format!("credential {id}"))),
            StateUpdate::Final => Err(WalletError::invalid(format!(
                "credential {id} is revoked, which is final"
            ))),
        }
    }

    /// Marks valid credentials whose validity has ended as expired; returns their ids.
    pub fn expire_credentials(&self) -> Result<Vec<String>, WalletError> {
        self.require_unlocked()?;
        Ok(self.store.expire_credentials(self.now()?)?)
    }

    /// Deletes a credential (every copy of a batch) and the device keys bound to it.
    pub fn delete_credential(&self, id: String) -> Result<(), WalletError> {
        self.require_unlocked()?;
        let details = serde_json::json!({ "credential_id": id });
        let (_, aliases) = self
            .recorded(crate::journal::JournalKind::Deletion, details, |record| {
                Ok(self.store.delete_credential(&id, Some(record))?)
            })?
            .ok_or_else(|| WalletError::not_found(format!("credential {id}")))?;
        self.delete_host_keys(&aliases)
    }

    /// Creates a new P-256 device key in the secure area.
    pub fn create_device_key(&self) -> Result<DeviceKey, WalletError> {
        self.require_unlocked()?;
        let alias = format!("device-{}", random::identifier()?);
        let public_key = CheckedSecureArea(&*self.secure_area).create_key(&alias)?;
        self.remember_host_key(&alias)?;
        let public_jwk = jose::p256_jwk(&public_key)?.to_string();
        Ok(DeviceKey {
            alias,
            public_key,
            public_jwk,
        })
    }

    /// A key proof for credential issuance (OpenID4VCI 1.0 `jwt` proof,
    /// `typ: openid4vci-proof+jwt`): a JWT signed in the secure area with the device key
    /// `alias`, carrying its public JWK, addressed to the credential issuer `audience`, with
    /// the issuer's `nonce` when one was given.
    pub fn key_proof_jwt(
        &self,
        alias: String,
        audience: String,
        nonce: Option<String>,
    ) -> Result<String, WalletError> {
        self.require_unlocked()?;
        check_alias(&alias)?;
        check_text("audience", &audience)?;
        if let Some(nonce) = &nonce {
            check_text("nonce", nonce)?;
        }
        let area = CheckedSecureArea(&*self.secure_area);
        let public_key = area.public_key(&alias)?;
        let input = proof::signing_input(&public_key, &audience, self.now()?, nonce.as_deref())?;
        let signature = area.sign(&alias, &public_key, input.as_bytes())?;
        Ok(jose::compact(&input, &signature))
    }

    /// Closes the store now (checkpointing the WAL) rather than when the last reference goes.
    /// Later calls fail with `Closed`.
    pub fn close_store(&self) -> Result<(), WalletError> {
        self.set_unlocked(false)?;
        Ok(self.store.close()?)
    }

    /// Wipes the wallet synchronously; see [`Wallet::wipe`].
    pub fn wipe_blocking(&self) -> Result<WipeReport, WalletError> {
        self.wipe_now()
    }
}

#[uniffi::export]
impl Wallet {
    /// Crypto-erases the wallet off the caller's thread: deletes every credential, key and
    /// record, destroys the data key and the PIN verifier, and deletes device keys held by a
    /// host secure area. Allowed while locked (a lost-phone or forgotten-PIN wipe). The
    /// wallet is closed afterwards.
    pub async fn wipe(self: Arc<Self>) -> Result<WipeReport, WalletError> {
        super::tasks::off_thread("jigap-wipe", move || self.wipe_now()).await?
    }
}

/// Opens a wallet off the caller's thread (the key protector and the first database access
/// can be slow). Same as [`Wallet::open_blocking`].
#[uniffi::export]
pub async fn open_wallet(config: WalletConfig) -> Result<Arc<Wallet>, WalletError> {
    super::tasks::off_thread("jigap-open", move || Wallet::open_blocking(config)).await?
}
