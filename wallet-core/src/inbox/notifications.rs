//! Notifications (government notices and the wallet's own reminders).
//!
//! Payload (CBOR map): `type: "notification"`, `id`, `category`, `title_ko`, `body_ko`,
//! optional `title_en`/`body_en`, `priority`, `issued_at`, optional `expires_at` (Unix
//! seconds) and `reference` (a bill, benefit or credential id). Any text with a link or a
//! phone number is refused (see `smishing`).

use serde::{Deserialize, Serialize};

use super::smishing::find_call_to_action;
use crate::cose::cbor::{self, Value};

/// Why a notification payload was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum NotificationError {
    /// A field is missing or of the wrong type.
    #[error("invalid notification: {0}")]
    Invalid(String),
    /// The text carries a link or a phone-number call to action.
    #[error("refused: {field} contains {found}; government notices never carry links or numbers to call")]
    CallToAction {
        /// Which field.
        field: String,
        /// What was found.
        found: String,
    },
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
pub enum NotificationCategory {
    /// A benefit the citizen may claim or has received.
    Benefit,
    /// Taxes.
    Tax,
    /// A health check-up.
    HealthCheckup,
    /// A fine.
    Fine,
    /// A document about to expire.
    DocumentExpiry,
    /// Anything else.
    General,
}

impl NotificationCategory {
    /// From a payload name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "benefit" => Self::Benefit,
            "tax" => Self::Tax,
            "health_checkup" => Self::HealthCheckup,
            "fine" => Self::Fine,
            "document_expiry" => Self::DocumentExpiry,
            "general" => Self::General,
            _ => return None,
        })
    }

    /// The payload name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Benefit => "benefit",
            Self::Tax => "tax",
            Self::HealthCheckup => "health_checkup",
            Self::Fine => "fine",
            Self::DocumentExpiry => "document_expiry",
            Self::General => "general",
        }
    }
}

/// How urgent.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, uniffi::Enum,
)]
pub enum Priority {
    /// Low.
    Low,
    /// Normal.
    Normal,
    /// High.
    High,
}

/// A notification as the inbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Id (the sender's, or `local:...` for the wallet's own).
    pub id: String,
    /// Subject of the sender certificate, or "Jigap" for local notifications.
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
    /// A related bill, benefit or credential.
    pub reference: Option<String>,
}

impl Notification {
    /// Refuses text with a link or a phone number.
    pub fn check_text(&self) -> Result<(), NotificationError> {
        let fields = [
            ("title_ko", Some(&self.title_ko)),
            ("body_ko", Some(&self.body_ko)),
            ("title_en", self.title_en.as_ref()),
            ("body_en", self.body_en.as_ref()),
        ];
        for (field, text) in fields {
            if let Some(found) = text.and_then(|t| find_call_to_action(t)) {
                return Err(NotificationError::CallToAction {
                    field: field.into(),
                    found,
                });
            }
        }
        Ok(())
    }

    /// The texts a search looks in: the titles and bodies.
    pub fn searched_text(&self) -> impl Iterator<Item = &str> {
        [
            Some(&self.title_ko),
            Some(&self.body_ko),
            self.title_en.as_ref(),
            self.body_en.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
    }

    /// Whether `query` appears in its text (case-insensitive).
    pub fn matches(&self, query: &str) -> bool {
        let q = query.to_lowercase();
        self.searched_text().any(|t| t.to_lowercase().contains(&q))
    }
}

/// Where a notification is in the citizen's inbox (stored beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxState {
    /// Not yet opened.
    Unread,
    /// Opened.
    Read,
    /// Put away: hidden unless asked for.
    Archived,
}

impl InboxState {
    /// The stored code.
    pub fn code(self) -> i64 {
        match self {
            InboxState::Unread => 0,
            InboxState::Read => 1,
            InboxState::Archived => 2,
        }
    }

    /// The state of a stored code (an unknown code reads as unread: it is shown, not lost).
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => InboxState::Read,
            2 => InboxState::Archived,
            _ => InboxState::Unread,
        }
    }
}

/// Which notifications a listing keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only this category.
    pub category: Option<NotificationCategory>,
    /// Only unread ones.
    pub unread_only: bool,
    /// Archived ones too.
    pub include_archived: bool,
    /// Only those whose text contains this (case-insensitive).
    pub query: Option<String>,
}

impl Selection {
    /// The states a listing leaves out (an unknown state code reads as unread, so it is
    /// shown unless unread ones are left out too).
    pub fn excluded_states(&self) -> Vec<InboxState> {
        let mut out = Vec::new();
        if !self.include_archived || self.unread_only {
            out.push(InboxState::Archived);
        }
        if self.unread_only {
            out.push(InboxState::Read);
        }
        out
    }

    /// Whether `n`, in `state`, belongs in the listing.
    pub fn keeps(&self, n: &Notification, state: InboxState) -> bool {
        (self.include_archived || state != InboxState::Archived)
            && (!self.unread_only || state == InboxState::Unread)
            && self.category.is_none_or(|c| c == n.category)
            && self.query.as_deref().is_none_or(|q| n.matches(q))
    }
}

/// Inbox order: newest first, then by id (stable across listings).
pub fn newest_first(a: &Notification, b: &Notification) -> std::cmp::Ordering {
    b.issued_at.cmp(&a.issued_at).then_with(|| a.id.cmp(&b.id))
}

/// Days before a credential's end that the wallet starts reminding.
pub const EXPIRY_NOTICE_DAYS: i64 = 30;

/// Whole days left until `valid_until` when a reminder is due at `now` (0 to
/// [`EXPIRY_NOTICE_DAYS`]), else `None`.
pub fn expiry_reminder_days(valid_until: i64, now: i64) -> Option<i64> {
    let days = valid_until.saturating_sub(now).div_euclid(86_400);
    (0..=EXPIRY_NOTICE_DAYS).contains(&days).then_some(days)
}

fn text(m: &[(Value, Value)], key: &str, max: usize) -> Result<Option<String>, NotificationError> {
    match cbor::get(m, key) {
        None => Ok(None),
        Some(v) => {
            let t = cbor::text(v, key).map_err(|e| NotificationError::Invalid(e.to_string()))?;
            if t.trim().is_empty() || t.len() > max {
                return Err(NotificationError::Invalid(format!(
                    "{key} is empty or longer than {max} bytes"
                )));
            }
            Ok(Some(t.to_owned()))
        }
    }
}

fn required(m: &[(Value, Value)], key: &str, max: usize) -> Result<String, NotificationError> {
    text(m, key, max)?.ok_or_else(|| NotificationError::Invalid(format!("missing {key}")))
}

fn seconds(m: &[(Value, Value)], key: &str) -> Result<Option<i64>, NotificationError> {
    cbor::get(m, key)
        .map(|v| {
            cbor::uint(v, key)
                .ok()
                .and_then(|u| i64::try_from(u).ok())
                .ok_or_else(|| NotificationError::Invalid(format!("{key} is not a time")))
        })
        .transpose()
}

/// Reads a verified notification payload signed by `sender`, refusing calls to action.
pub fn parse(body: &Value, sender: &str) -> Result<Notification, NotificationError> {
    let m =
        cbor::map(body, "notification").map_err(|e| NotificationError::Invalid(e.to_string()))?;
    if required(m, "type", 16)? != "notification" {
        return Err(NotificationError::Invalid(
            "type is not notification".into(),
        ));
    }
    let category = required(m, "category", 32)?;
    let priority = match text(m, "priority", 16)?.as_deref() {
        None | Some("normal") => Priority::Normal,
        Some("low") => Priority::Low,
        Some("high") => Priority::High,
        Some(other) => {
            return Err(NotificationError::Invalid(format!(
                "unknown priority {other}"
            )))
        }
    };
    let notification = Notification {
        id: required(m, "id", 128)?,
        sender: sender.to_owned(),
        category: NotificationCategory::from_name(&category)
            .ok_or_else(|| NotificationError::Invalid(format!("unknown category {category}")))?,
        title_ko: required(m, "title_ko", 256)?,
        body_ko: required(m, "body_ko", 4096)?,
        title_en: text(m, "title_en", 256)?,
        body_en: text(m, "body_en", 4096)?,
        priority,
        issued_at: seconds(m, "issued_at")?
            .ok_or_else(|| NotificationError::Invalid("missing issued_at".into()))?,
        expires_at: seconds(m, "expires_at")?,
        reference: text(m, "reference", 128)?,
    };
    if notification.id.starts_with("local:") {
        return Err(NotificationError::Invalid(
            "ids starting with local: are the wallet's own".into(),
        ));
    }
    notification.check_text()?;
    Ok(notification)
}

#[cfg(feature = "issuer")]
/// The payload of a notification (sender side and tests).
pub fn payload(n: &Notification) -> Value {
    let mut entries = vec![
        cbor::entry("type", Value::Text("notification".into())),
        cbor::entry("id", Value::Text(n.id.clone())),
        cbor::entry("category", Value::Text(n.category.name().into())),
        cbor::entry("title_ko", Value::Text(n.title_ko.clone())),
        cbor::entry("body_ko", Value::Text(n.body_ko.clone())),
        cbor::entry(
            "priority",
            Value::Text(
                match n.priority {
                    Priority::Low => "low",
                    Priority::Normal => "normal",
                    Priority::High => "high",
                }
                .into(),
            ),
        ),
        cbor::entry("issued_at", Value::Integer(n.issued_at.into())),
    ];
    for (key, value) in [
        ("title_en", &n.title_en),
        ("body_en", &n.body_en),
        ("reference", &n.reference),
    ] {
        if let Some(v) = value {
            entries.push(cbor::entry(key, Value::Text(v.clone())));
        }
    }
    if let Some(exp) = n.expires_at {
        entries.push(cbor::entry("expires_at", Value::Integer(exp.into())));
    }
    Value::Map(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(id: &str, issued_at: i64, category: NotificationCategory) -> Notification {
        Notification {
            id: id.into(),
            sender: "CN=Sender".into(),
            category,
            title_ko: "제목".into(),
            body_ko: "본문 Tax".into(),
            title_en: None,
            body_en: None,
            priority: Priority::Normal,
            issued_at,
            expires_at: None,
            reference: None,
        }
    }

    #[test]
    fn selection_and_order() {
        let a = notice("a", 10, NotificationCategory::Tax);
        let b = notice("b", 20, NotificationCategory::Benefit);
        let all = Selection::default();
        assert!(all.keeps(&a, InboxState::Read));
        assert!(!all.keeps(&a, InboxState::Archived));
        let unread = Selection {
            unread_only: true,
            ..Default::default()
        };
        assert!(!unread.keeps(&a, InboxState::Read));
        assert!(unread.keeps(&a, InboxState::Unread));
        let tax = Selection {
            category: Some(NotificationCategory::Tax),
            include_archived: true,
            ..Default::default()
        };
        assert!(tax.keeps(&a, InboxState::Archived));
        assert!(!tax.keeps(&b, InboxState::Unread));
        let query = Selection {
            query: Some("TAX".into()),
            ..Default::default()
        };
        assert!(query.keeps(&a, InboxState::Unread));
        let mut list = [a.clone(), b.clone()];
        list.sort_by(newest_first);
        assert_eq!(list[0].id, "b");
        for state in [InboxState::Unread, InboxState::Read, InboxState::Archived] {
            assert_eq!(InboxState::from_code(state.code()), state);
        }
    }

    #[test]
    fn reminders_start_thirty_days_ahead() {
        let day = 86_400;
        assert_eq!(expiry_reminder_days(31 * day, 0), None);
        assert_eq!(expiry_reminder_days(30 * day, 0), Some(30));
        assert_eq!(expiry_reminder_days(day / 2, 0), Some(0));
        assert_eq!(expiry_reminder_days(0, 1), None);
        assert_eq!(expiry_reminder_days(i64::MAX, i64::MIN), None);
    }
}
