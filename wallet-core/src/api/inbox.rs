//! Bills and the notification inbox through the API. Payloads arrive from the host (push,
//! download) as signed CBOR; they are verified against the wallet's sender anchors before
//! anything is stored, and stored sealed like credentials.

use super::records::{CredentialFilter, CredentialState};
use super::status::WalletEvent;
use super::{VerificationFailure, Wallet, WalletError};
use crate::documents::bills::{self, Bill, BillKind, BillState};
use crate::documents::signed::{self, SignedPayloadError};
use crate::inbox::notifications::{
    self, InboxState, Notification, NotificationCategory, NotificationError, Priority, Selection,
};
use crate::store::documents::{DocumentQuery, Placement, StoredDocument, META_PLACEMENT_PENDING};
use crate::time;
use crate::trust::x509::ParsedCertificate;
use crate::trust::x509::TrustRole;

use crate::store::documents::kind::{BILL as KIND_BILL, NOTIFICATION as KIND_NOTIFICATION};

/// A bill.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BillRecord {
    /// The sender's id.
    pub id: String,
    /// Version (newer supersedes).
    pub version: u64,
    /// Subject of the sender certificate.
    pub sender: String,
    /// The sender's display name.
    pub sender_name: String,
    /// What it is for.
    pub kind: BillKind,
    /// Title.
    pub title: String,
    /// Amount in whole won.
    pub amount_krw: u64,
    /// Due date, YYYY-MM-DD.
    pub due_date: String,
    /// Where to pay.
    pub payee_account: String,
    /// Period billed.
    pub period: String,
    /// State today.
    pub state: BillState,
    /// Payment receipt reference.
    pub receipt: Option<String>,
    /// When it was marked paid.
    pub paid_at: Option<i64>,
}

/// Totals of one month (by due date).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MonthTotal {
    /// YYYY-MM.
    pub month: String,
    /// All bills due that month (cancelled ones excluded).
    pub total_krw: u64,
    /// Of which not yet paid.
    pub unpaid_krw: u64,
}

/// A notification in the inbox.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NotificationRecord {
    /// Id.
    pub id: String,
    /// Sender (certificate subject), or "Jigap" for the wallet's own reminders.
    pub sender: String,
    /// Category.
    pub category: NotificationCategory,
    /// Korean title.
    pub title_ko: String,
    /// Korean body.
    pub body_ko: String,
    /// English title.
    pub title_en: Option<String>,
    /// English body.
    pub body_en: Option<String>,
    /// Priority.
    pub priority: Priority,
    /// Issued at, Unix seconds.
    pub issued_at: i64,
    /// Expires at, Unix seconds.
    pub expires_at: Option<i64>,
    /// Related bill, benefit or credential.
    pub reference: Option<String>,
    /// Read.
    pub read: bool,
    /// Archived.
    pub archived: bool,
}

/// Which notifications to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct NotificationFilter {
    /// Only this category.
    #[uniffi(default = None)]
    pub category: Option<NotificationCategory>,
    /// Only unread ones.
    #[uniffi(default = false)]
    pub unread_only: bool,
    /// Include archived ones.
    #[uniffi(default = false)]
    pub include_archived: bool,
    /// Only those whose text contains this (case-insensitive).
    #[uniffi(default = None)]
    pub query: Option<String>,
}

/// A page of notifications, newest first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NotificationPage {
    /// The notifications.
    pub items: Vec<NotificationRecord>,
    /// How many match in all; for a text search that matches more than 1,000, how many were
    /// counted before the search stopped (see `total_is_exact`).
    pub total: u64,
    /// Whether `total` is the exact count. A text search stops counting once it has found
    /// what the page needs and at least 1,000 matches; `total` is then a lower bound, and
    /// `next_offset` still leads on.
    pub total_is_exact: bool,
    /// Offset of the next page.
    pub next_offset: Option<u32>,
}

/// A text search counts at least this many matches before it may stop.
const SEARCH_COUNTED: u64 = 1_000;

fn verification(failure: VerificationFailure, detail: impl Into<String>) -> WalletError {
    WalletError::Verification {
        failure,
        detail: detail.into(),
    }
}

impl From<SignedPayloadError> for WalletError {
    fn from(e: SignedPayloadError) -> Self {
        let failure = match &e {
            SignedPayloadError::Malformed(_) => VerificationFailure::Malformed,
            SignedPayloadError::BadSignature => VerificationFailure::IssuerSignature,
            SignedPayloadError::UntrustedSender(_) => VerificationFailure::UntrustedSender,
        };
        verification(failure, e.to_string())
    }
}

impl From<NotificationError> for WalletError {
    fn from(e: NotificationError) -> Self {
        match &e {
            NotificationError::Invalid(_) => {
                verification(VerificationFailure::Malformed, e.to_string())
            }
            NotificationError::CallToAction { .. } => {
                verification(VerificationFailure::CallToAction, e.to_string())
            }
        }
    }
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, WalletError> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).map_err(|e| WalletError::Internal {
        reason: e.to_string(),
    })?;
    Ok(out)
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, WalletError> {
    ciborium::from_reader(bytes).map_err(|e| WalletError::StoreCorrupt {
        reason: format!("document: {e}"),
    })
}

fn bill_record(bill: &Bill, today: i64) -> BillRecord {
    BillRecord {
        id: bill.id.clone(),
        version: bill.version,
        sender: bill.sender.clone(),
        sender_name: bill.sender_name.clone(),
        kind: bill.kind,
        title: bill.title.clone(),
        amount_krw: bill.amount_krw,
        due_date: time::format_full_date(bill.due_date),
        payee_account: bill.payee_account.clone(),
        period: bill.period.clone(),
        state: bill.state(today),
        receipt: bill.receipt.clone(),
        paid_at: bill.paid_at,
    }
}

fn notification_record(n: Notification, state: InboxState) -> NotificationRecord {
    NotificationRecord {
        id: n.id,
        sender: n.sender,
        category: n.category,
        title_ko: n.title_ko,
        body_ko: n.body_ko,
        title_en: n.title_en,
        body_en: n.body_en,
        priority: n.priority,
        issued_at: n.issued_at,
        expires_at: n.expires_at,
        reference: n.reference,
        read: state != InboxState::Unread,
        archived: state == InboxState::Archived,
    }
}

impl Wallet {
    fn verify_sender_payload(&self, payload: &[u8]) -> Result<signed::SignedPayload, WalletError> {
        let anchors: Vec<ParsedCertificate> = self
            .store
            .trust_anchors(Some(TrustRole::Sender.code()))?
            .into_iter()
            .filter_map(|(_, _, der)| ParsedCertificate::from_der(&der).ok())
            .collect();
        Ok(signed::verify(
            payload,
            &anchors,
            self.now()?,
            TrustRole::Sender,
        )?)
    }

    fn today(&self) -> Result<i64, WalletError> {
        Ok(self.now()?.div_euclid(86_400))
    }

    fn bills(&self) -> Result<Vec<Bill>, WalletError> {
        self.store
            .list_documents(KIND_BILL)?
            .iter()
            .map(|d| decode(&d.body))
            .collect()
    }

    fn emit(&self, event: WalletEvent) {
        if let Some(listener) = &self.listener {
            let _ = listener.on_event(event);
        }
    }

    /// Adds a notification unless one with its id exists; returns whether it was new. One
    /// received from a sender is recorded in the citizen's record; the wallet's own reminders
    /// (`received: false`) are not.
    pub(super) fn store_notification(
        &self,
        n: &Notification,
        received: bool,
    ) -> Result<bool, WalletError> {
        if self.store.get_document(KIND_NOTIFICATION, &n.id)?.is_some() {
            return Ok(false);
        }
        let doc = StoredDocument {
            id: n.id.clone(),
            state: InboxState::Unread.code(),
            received_at: self.now()?,
            body: encode(n)?,
        };
        let placement = placement_of(n);
        if received {
            let details = serde_json::json!({ "id": n.id, "sender": n.sender, "category": n.category.name() });
            self.recorded(crate::journal::JournalKind::Notice, details, |record| {
                Ok(self.store.put_document_placed(
                    KIND_NOTIFICATION,
                    &doc,
                    Some(&placement),
                    Some(record),
                )?)
            })?;
        } else {
            self.store
                .put_document_placed(KIND_NOTIFICATION, &doc, Some(&placement), None)?;
        }
        self.emit(WalletEvent::NotificationAdded { id: n.id.clone() });
        Ok(true)
    }

    /// Notifications stored before placements existed get theirs, once (after an upgrade).
    fn place_stored_notifications(&self) -> Result<(), WalletError> {
        if !self.store.has_meta(META_PLACEMENT_PENDING)? {
            return Ok(());
        }
        let docs = self.store.unplaced_documents(KIND_NOTIFICATION)?;
        let mut notices = Vec::with_capacity(docs.len());
        for doc in docs {
            let n: Notification = decode(&doc.body)?;
            notices.push((doc.id, n, doc.state));
        }
        let placements: Vec<(String, Placement<'_>, i64)> = notices
            .iter()
            .map(|(id, n, state)| (id.clone(), placement_of(n), *state))
            .collect();
        self.store.place_documents(KIND_NOTIFICATION, &placements)?;
        self.store.delete_meta(META_PLACEMENT_PENDING)?;
        Ok(())
    }

    /// A reminder from the wallet itself (deduplicated by id).
    pub(super) fn local_notification(
        &self,
        id: String,
        category: NotificationCategory,
        title_ko: String,
        body_ko: String,
        reference: Option<String>,
    ) -> Result<bool, WalletError> {
        self.store_notification(
            &Notification {
                id,
                sender: "Jigap".into(),
                category,
                title_ko,
                body_ko,
                title_en: None,
                body_en: None,
                priority: Priority::Normal,
                issued_at: self.now()?,
                expires_at: None,
                reference,
            },
            false,
        )
    }
}

/// Where a notification sits in the inbox: by the time it was issued, filtered by category.
fn placement_of(n: &Notification) -> Placement<'_> {
    Placement {
        sort_at: n.issued_at,
        tag: n.category.name(),
        text: n.searched_text().collect(),
    }
}

#[uniffi::export]
impl Wallet {
    /// Verifies a signed bill from a registered sender and stores it. Idempotent by id: the
    /// same or an older version changes nothing; a newer version supersedes (keeping a recorded
    /// payment). Returns the bill as stored.
    pub fn add_bill(&self, signed_bill: Vec<u8>) -> Result<BillRecord, WalletError> {
        self.require_unlocked()?;
        let payload = self.verify_sender_payload(&signed_bill)?;
        let incoming = bills::parse(&payload.body, &payload.sender)
            .map_err(|e| verification(VerificationFailure::Malformed, e.to_string()))?;
        let today = self.today()?;
        let existing: Option<Bill> = self
            .store
            .get_document(KIND_BILL, &incoming.id)?
            .map(|d| decode(&d.body))
            .transpose()?;
        let Some(bill) = Bill::supersede(existing.as_ref(), incoming)
            .map_err(|e| WalletError::invalid(e.to_string()))?
        else {
            return existing
                .map(|b| bill_record(&b, today))
                .ok_or_else(|| WalletError::Internal {
                    reason: "a bill to keep without one held".into(),
                });
        };
        let doc = StoredDocument {
            id: bill.id.clone(),
            state: 0,
            received_at: self.now()?,
            body: encode(&bill)?,
        };
        let details = serde_json::json!({
            "id": bill.id, "version": bill.version, "sender": bill.sender, "amount_krw": bill.amount_krw,
        });
        self.recorded(crate::journal::JournalKind::Bill, details, |record| {
            Ok(self
                .store
                .put_document_recorded(KIND_BILL, &doc, Some(record))?)
        })?;
        Ok(bill_record(&bill, today))
    }

    /// Bills, unpaid and overdue first by due date, then the rest newest first; optionally one state.
    pub fn list_bills(&self, state: Option<BillState>) -> Result<Vec<BillRecord>, WalletError> {
        self.require_unlocked()?;
        let today = self.today()?;
        let mut held = self.bills()?;
        bills::display_order(&mut held, today);
        Ok(held
            .iter()
            .filter(|b| state.is_none_or(|s| b.state(today) == s))
            .map(|b| bill_record(b, today))
            .collect())
    }

    /// Records a payment.
    pub fn mark_bill_paid(&self, id: String, receipt: String) -> Result<BillRecord, WalletError> {
        self.require_unlocked()?;
        let stored = self
            .store
            .get_document(KIND_BILL, &id)?
            .ok_or_else(|| WalletError::not_found(format!("bill {id}")))?;
        let mut bill: Bill = decode(&stored.body)?;
        let today = self.today()?;
        bill.mark_paid(receipt, self.now()?, today)
            .map_err(|e| WalletError::invalid(e.to_string()))?;
        self.store.put_document(
            KIND_BILL,
            &StoredDocument {
                body: encode(&bill)?,
                ..stored
            },
        )?;
        Ok(bill_record(&bill, today))
    }

    /// Totals per month of due date, oldest first.
    pub fn bill_totals_by_month(&self) -> Result<Vec<MonthTotal>, WalletError> {
        self.require_unlocked()?;
        let today = self.today()?;
        Ok(bills::totals_by_month(&self.bills()?, today)
            .into_iter()
            .map(|(month, total_krw, unpaid_krw)| MonthTotal {
                month,
                total_krw,
                unpaid_krw,
            })
            .collect())
    }

    /// Unpaid bills due within `days` (today included); raises a `BillDue` event for each and
    /// leaves a reminder in the inbox, so the host can schedule the OS notification.
    pub fn bills_due_within(&self, days: u32) -> Result<Vec<BillRecord>, WalletError> {
        self.require_unlocked()?;
        let today = self.today()?;
        let due = bills::due_within(self.bills()?, today, days);
        for bill in &due {
            self.emit(WalletEvent::BillDue {
                bill_id: bill.id.clone(),
                due_date: time::format_full_date(bill.due_date),
                amount_krw: bill.amount_krw,
            });
            self.local_notification(
                format!("local:bill-due:{}:{}", bill.id, bill.version),
                if bill.kind == BillKind::Fine {
                    NotificationCategory::Fine
                } else {
                    NotificationCategory::Tax
                },
                format!("납부 기한 임박: {}", bill.title),
                format!(
                    "{}원, 납부 기한 {}",
                    bill.amount_krw,
                    time::format_full_date(bill.due_date)
                ),
                Some(bill.id.clone()),
            )?;
        }
        Ok(due.iter().map(|b| bill_record(b, today)).collect())
    }

    /// Verifies a signed notification from a registered sender and adds it to the inbox
    /// (deduplicated by id). Text with a link or a phone number is refused with the reason.
    pub fn add_notification(
        &self,
        signed_notification: Vec<u8>,
    ) -> Result<NotificationRecord, WalletError> {
        self.require_unlocked()?;
        let payload = self.verify_sender_payload(&signed_notification)?;
        let notification = notifications::parse(&payload.body, &payload.sender)?;
        self.store_notification(&notification, true)?;
        let stored = self
            .store
            .get_document(KIND_NOTIFICATION, &notification.id)?
            .ok_or_else(|| WalletError::Internal {
                reason: "notification vanished".into(),
            })?;
        Ok(notification_record(
            decode(&stored.body)?,
            InboxState::from_code(stored.state),
        ))
    }

    /// The inbox, newest first, `limit` (1 to 500) at a time.
    pub fn list_notifications(
        &self,
        filter: NotificationFilter,
        offset: u32,
        limit: u32,
    ) -> Result<NotificationPage, WalletError> {
        self.require_unlocked()?;
        if limit == 0 || limit > super::MAX_PAGE_SIZE {
            return Err(WalletError::invalid(format!(
                "limit must be between 1 and {}",
                super::MAX_PAGE_SIZE
            )));
        }
        if filter
            .query
            .as_ref()
            .is_some_and(|q| q.chars().count() > crate::limits::MAX_SEARCH_CHARS)
        {
            return Err(WalletError::invalid(format!(
                "a search is at most {} characters",
                crate::limits::MAX_SEARCH_CHARS
            )));
        }
        self.place_stored_notifications()?;
        let selection = Selection {
            category: filter.category,
            unread_only: filter.unread_only,
            include_archived: filter.include_archived,
            query: filter.query,
        };
        // The order, the category and the state are read in SQL. A text search opens only the
        // notifications whose search tokens include the query's, and confirms each on its text.
        let excluded = selection.excluded_states();
        let excluded: Vec<i64> = excluded.iter().map(|s| s.code()).collect();
        let query = DocumentQuery {
            tag: selection.category.map(|c| c.name()),
            exclude_states: &excluded,
        };
        let (items, total, total_is_exact) = match &selection.query {
            None => {
                let (docs, total) =
                    self.store
                        .page_documents(KIND_NOTIFICATION, &query, offset, limit)?;
                let mut items = Vec::with_capacity(docs.len());
                for doc in docs {
                    let n: Notification = decode(&doc.body)?;
                    items.push(notification_record(n, InboxState::from_code(doc.state)));
                }
                (items, total, true)
            }
            Some(text) => {
                // Matches are counted up to what the page needs and at least SEARCH_COUNTED;
                // past that the search stops, and the total says it is a lower bound.
                let stop_at = (u64::from(offset) + u64::from(limit)).max(SEARCH_COUNTED) + 1;
                let mut items = Vec::new();
                let mut matched = 0u64;
                self.store.search_documents(
                    KIND_NOTIFICATION,
                    &query,
                    text,
                    |doc| -> Result<bool, WalletError> {
                        let n: Notification = decode(&doc.body)?;
                        let state = InboxState::from_code(doc.state);
                        if selection.keeps(&n, state) {
                            matched += 1;
                            if matched > u64::from(offset) && items.len() < limit as usize {
                                items.push(notification_record(n, state));
                            }
                        }
                        Ok(matched < stop_at)
                    },
                )?;
                (items, matched, matched < stop_at)
            }
        };
        let end = u64::from(offset) + items.len() as u64;
        Ok(NotificationPage {
            // An empty page never points further (a host paging to the end always stops).
            next_offset: (!items.is_empty() && end < total)
                .then(|| u32::try_from(end).ok())
                .flatten(),
            items,
            total,
            total_is_exact,
        })
    }

    /// Marks a notification read.
    pub fn mark_notification_read(&self, id: String) -> Result<(), WalletError> {
        self.set_notification_state(id, InboxState::Read)
    }

    /// Archives a notification (hidden from the default listing).
    pub fn archive_notification(&self, id: String) -> Result<(), WalletError> {
        self.set_notification_state(id, InboxState::Archived)
    }

    /// Deletes notifications whose `expires_at` has passed; returns how many.
    pub fn purge_expired_notifications(&self) -> Result<u32, WalletError> {
        self.require_unlocked()?;
        let now = self.now()?;
        let mut purged = 0u32;
        for doc in self.store.list_documents(KIND_NOTIFICATION)? {
            let n: Notification = decode(&doc.body)?;
            if n.expires_at.is_some_and(|e| e <= now)
                && self.store.delete_document(KIND_NOTIFICATION, &doc.id)?
            {
                purged += 1;
            }
        }
        Ok(purged)
    }

    /// Adds the wallet's own reminders: credentials whose validity ends within 30 days.
    /// (Bill reminders come from `bills_due_within`, status changes from `refresh_status`.)
    /// Returns how many new notifications were added.
    pub fn refresh_reminders(&self) -> Result<u32, WalletError> {
        self.require_unlocked()?;
        let now = self.now()?;
        let mut added = 0u32;
        let page = self.list_credentials(
            CredentialFilter {
                state: Some(CredentialState::Valid),
                ..Default::default()
            },
            0,
            super::MAX_PAGE_SIZE,
        )?;
        for c in page.items {
            let Some(until) = c.valid_until else { continue };
            let Some(days) = notifications::expiry_reminder_days(until, now) else {
                continue;
            };
            if self.local_notification(
                format!("local:expiry:{}:{}", c.id, until),
                NotificationCategory::DocumentExpiry,
                format!("{} 만료 예정", c.display_name_ko),
                format!(
                    "{}일 후 ({}) 유효기간이 끝납니다.",
                    days,
                    time::format_full_date(until.div_euclid(86_400))
                ),
                Some(c.id.clone()),
            )? {
                added += 1;
            }
        }
        Ok(added)
    }
}

impl Wallet {
    fn set_notification_state(&self, id: String, state: InboxState) -> Result<(), WalletError> {
        self.require_unlocked()?;
        if self
            .store
            .set_document_state(KIND_NOTIFICATION, &id, state.code())?
        {
            Ok(())
        } else {
            Err(WalletError::not_found(format!("notification {id}")))
        }
    }
}
