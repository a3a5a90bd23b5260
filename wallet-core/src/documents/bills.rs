//! Bills from registered senders (local tax, fines, pension and health-insurance premiums,
//! utilities): parsed from a verified signed payload, kept per id with the newest version, and
//! tracked from unpaid to paid.
//!
//! Payload (CBOR map): `type: "bill"`, `id`, `version`, `sender_name`, `kind`, `title`,
//! `amount` (whole won), `currency: "KRW"`, `due_date` (`YYYY-MM-DD`), `payee_account`,
//! `period`, optional `cancelled`.

use serde::{Deserialize, Serialize};

use crate::cose::cbor::{self, Value};
use crate::time;

/// Why a bill payload was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("invalid bill: {0}")]
pub struct BillError(pub String);

/// What a bill is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
pub enum BillKind {
    /// Local tax (지방세).
    LocalTax,
    /// A fine (과태료, 범칙금).
    Fine,
    /// National pension premium.
    PensionPremium,
    /// National health-insurance premium.
    HealthInsurancePremium,
    /// Utilities (water, electricity, gas).
    Utility,
    /// Anything else.
    Other,
}

impl BillKind {
    fn from_name(name: &str) -> Result<Self, BillError> {
        Ok(match name {
            "local_tax" => BillKind::LocalTax,
            "fine" => BillKind::Fine,
            "pension_premium" => BillKind::PensionPremium,
            "health_insurance_premium" => BillKind::HealthInsurancePremium,
            "utility" => BillKind::Utility,
            "other" => BillKind::Other,
            other => return Err(BillError(format!("unknown kind {other}"))),
        })
    }

    /// The payload name.
    pub fn name(self) -> &'static str {
        match self {
            BillKind::LocalTax => "local_tax",
            BillKind::Fine => "fine",
            BillKind::PensionPremium => "pension_premium",
            BillKind::HealthInsurancePremium => "health_insurance_premium",
            BillKind::Utility => "utility",
            BillKind::Other => "other",
        }
    }
}

/// Where a bill stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
pub enum BillState {
    /// Not paid, not yet due.
    Unpaid,
    /// Paid (with a receipt reference).
    Paid,
    /// Not paid and past its due date.
    Overdue,
    /// Withdrawn by the sender.
    Cancelled,
}

/// A bill as the wallet keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bill {
    /// The sender's bill id.
    pub id: String,
    /// Version; a higher one supersedes.
    pub version: u64,
    /// Subject of the sender certificate that signed it.
    pub sender: String,
    /// The sender's display name (e.g. 서울특별시 종로구청).
    pub sender_name: String,
    /// What it is for.
    pub kind: BillKind,
    /// Title.
    pub title: String,
    /// Amount in whole won.
    pub amount_krw: u64,
    /// Due date, days since the epoch.
    pub due_date: i64,
    /// Where to pay (virtual account or payee reference).
    pub payee_account: String,
    /// The period billed (e.g. 2026-11).
    pub period: String,
    /// Withdrawn by the sender.
    pub cancelled: bool,
    /// Payment receipt reference, once paid.
    pub receipt: Option<String>,
    /// When it was marked paid, Unix seconds.
    pub paid_at: Option<i64>,
}

impl Bill {
    /// The state at `today` (days since the epoch).
    pub fn state(&self, today: i64) -> BillState {
        if self.cancelled {
            BillState::Cancelled
        } else if self.receipt.is_some() {
            BillState::Paid
        } else if today > self.due_date {
            BillState::Overdue
        } else {
            BillState::Unpaid
        }
    }
}

impl Bill {
    /// What to store when `incoming` arrives while `existing` is held: `None` to keep what is
    /// held (the same or an older version), or the newer bill, keeping a recorded payment.
    /// A bill id belongs to its sender: another sender's bill of the same id is refused.
    pub fn supersede(
        existing: Option<&Bill>,
        mut incoming: Bill,
    ) -> Result<Option<Bill>, BillError> {
        let Some(existing) = existing else {
            return Ok(Some(incoming));
        };
        if existing.sender != incoming.sender {
            return Err(BillError(format!(
                "bill {} belongs to another sender",
                incoming.id
            )));
        }
        if existing.version >= incoming.version {
            return Ok(None);
        }
        incoming.receipt = existing.receipt.clone();
        incoming.paid_at = existing.paid_at;
        Ok(Some(incoming))
    }

    /// Records a payment at `now` (Unix seconds); refused for a cancelled or paid bill.
    pub fn mark_paid(&mut self, receipt: String, now: i64, today: i64) -> Result<(), BillError> {
        if receipt.trim().is_empty() || receipt.len() > 256 {
            return Err(BillError("a receipt reference is 1 to 256 bytes".into()));
        }
        match self.state(today) {
            BillState::Cancelled => return Err(BillError("the bill was cancelled".into())),
            BillState::Paid => return Err(BillError("the bill is already paid".into())),
            _ => {}
        }
        self.receipt = Some(receipt);
        self.paid_at = Some(now);
        Ok(())
    }
}

/// Bills in display order: unpaid and overdue first by due date, then the rest newest first.
pub fn display_order(bills: &mut [Bill], today: i64) {
    let open = |b: &Bill| matches!(b.state(today), BillState::Unpaid | BillState::Overdue);
    bills.sort_by(|a, b| match (open(a), open(b)) {
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (true, true) => a.due_date.cmp(&b.due_date),
        (false, false) => b.due_date.cmp(&a.due_date),
    });
}

/// Totals per month of due date (`YYYY-MM`, oldest first): everything not cancelled, and of
/// that what is not yet paid.
pub fn totals_by_month(bills: &[Bill], today: i64) -> Vec<(String, u64, u64)> {
    let mut months: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    for bill in bills {
        let state = bill.state(today);
        if state == BillState::Cancelled {
            continue;
        }
        let month: String = time::format_full_date(bill.due_date)
            .chars()
            .take(7)
            .collect();
        let entry = months.entry(month).or_default();
        entry.0 = entry.0.saturating_add(bill.amount_krw);
        if state != BillState::Paid {
            entry.1 = entry.1.saturating_add(bill.amount_krw);
        }
    }
    months
        .into_iter()
        .map(|(month, (total, unpaid))| (month, total, unpaid))
        .collect()
}

/// Unpaid bills due within `days` of `today` (today included), soonest first.
pub fn due_within(bills: Vec<Bill>, today: i64, days: u32) -> Vec<Bill> {
    let mut due: Vec<Bill> = bills
        .into_iter()
        .filter(|b| {
            b.state(today) == BillState::Unpaid
                && b.due_date.saturating_sub(today) <= i64::from(days)
        })
        .collect();
    due.sort_by_key(|b| b.due_date);
    due
}

fn text<'a>(entries: &'a [(Value, Value)], key: &str, max: usize) -> Result<&'a str, BillError> {
    let value = cbor::get(entries, key).ok_or_else(|| BillError(format!("missing {key}")))?;
    let t = cbor::text(value, key).map_err(|e| BillError(e.to_string()))?;
    if t.trim().is_empty() || t.len() > max {
        return Err(BillError(format!(
            "{key} is empty or longer than {max} bytes"
        )));
    }
    Ok(t)
}

fn date(value: &Value) -> Option<i64> {
    match value {
        Value::Text(t) => time::parse_full_date(t),
        Value::Tag(cbor::TAG_FULL_DATE, inner) => match inner.as_ref() {
            Value::Text(t) => time::parse_full_date(t),
            _ => None,
        },
        _ => None,
    }
}

/// Reads a verified bill payload signed by `sender`.
pub fn parse(body: &Value, sender: &str) -> Result<Bill, BillError> {
    let m = cbor::map(body, "bill").map_err(|e| BillError(e.to_string()))?;
    if text(m, "type", 16)? != "bill" {
        return Err(BillError("type is not bill".into()));
    }
    let uint = |key: &str| {
        cbor::get(m, key)
            .ok_or_else(|| BillError(format!("missing {key}")))
            .and_then(|v| cbor::uint(v, key).map_err(|e| BillError(e.to_string())))
    };
    if text(m, "currency", 8)? != "KRW" {
        return Err(BillError("currency must be KRW".into()));
    }
    let amount_krw = uint("amount")?;
    if amount_krw == 0 || amount_krw > 10_000_000_000_000 {
        return Err(BillError("amount out of range".into()));
    }
    let due_date = cbor::get(m, "due_date")
        .and_then(date)
        .ok_or_else(|| BillError("due_date must be YYYY-MM-DD".into()))?;
    Ok(Bill {
        id: text(m, "id", 128)?.to_owned(),
        version: uint("version")?,
        sender: sender.to_owned(),
        sender_name: text(m, "sender_name", 256)?.to_owned(),
        kind: BillKind::from_name(text(m, "kind", 64)?)?,
        title: text(m, "title", 512)?.to_owned(),
        amount_krw,
        due_date,
        payee_account: text(m, "payee_account", 128)?.to_owned(),
        period: text(m, "period", 64)?.to_owned(),
        cancelled: match cbor::get(m, "cancelled") {
            None => false,
            Some(v) => cbor::boolean(v, "cancelled").map_err(|e| BillError(e.to_string()))?,
        },
        receipt: None,
        paid_at: None,
    })
}

#[cfg(feature = "issuer")]
/// The payload of a bill (sender side and tests).
pub fn payload(bill: &Bill) -> Value {
    let mut entries = vec![
        cbor::entry("type", Value::Text("bill".into())),
        cbor::entry("id", Value::Text(bill.id.clone())),
        cbor::entry("version", Value::Integer(bill.version.into())),
        cbor::entry("sender_name", Value::Text(bill.sender_name.clone())),
        cbor::entry("kind", Value::Text(bill.kind.name().into())),
        cbor::entry("title", Value::Text(bill.title.clone())),
        cbor::entry("amount", Value::Integer(bill.amount_krw.into())),
        cbor::entry("currency", Value::Text("KRW".into())),
        cbor::entry(
            "due_date",
            Value::Text(time::format_full_date(bill.due_date)),
        ),
        cbor::entry("payee_account", Value::Text(bill.payee_account.clone())),
        cbor::entry("period", Value::Text(bill.period.clone())),
    ];
    if bill.cancelled {
        entries.push(cbor::entry("cancelled", Value::Bool(true)));
    }
    Value::Map(entries)
}
