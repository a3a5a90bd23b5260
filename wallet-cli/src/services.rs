//! Citizen-service commands: the test authority as a registered sender (`issue bill`, `issue
//! notification`), and the wallet's bills and inbox.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use wallet_core::{
    BillDraft, BillKind, BillRecord, BillState, NotificationCategory, NotificationDraft,
    NotificationFilter, NotificationRecord, Priority, TestAuthority,
};

use crate::authority_dir::load_material;
use crate::context::{open, read, say, unlock, wallet_path, CliError};
use crate::Cli;

type Result<T> = std::result::Result<T, CliError>;

/// Bill kinds as typed.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum KindArg {
    /// Local tax.
    LocalTax,
    /// Fine.
    Fine,
    /// Pension premium.
    PensionPremium,
    /// Health-insurance premium.
    HealthInsurancePremium,
    /// Utility.
    Utility,
    /// Other.
    Other,
}

/// Notification categories as typed.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum CategoryArg {
    /// Benefit.
    Benefit,
    /// Tax.
    Tax,
    /// Health check-up.
    HealthCheckup,
    /// Fine.
    Fine,
    /// Document expiry.
    DocumentExpiry,
    /// General.
    General,
}

impl From<CategoryArg> for NotificationCategory {
    fn from(c: CategoryArg) -> Self {
        match c {
            CategoryArg::Benefit => Self::Benefit,
            CategoryArg::Tax => Self::Tax,
            CategoryArg::HealthCheckup => Self::HealthCheckup,
            CategoryArg::Fine => Self::Fine,
            CategoryArg::DocumentExpiry => Self::DocumentExpiry,
            CategoryArg::General => Self::General,
        }
    }
}

/// `jigap issue bill` options.
#[derive(Args, Debug)]
pub struct IssueBill {
    /// The test authority's directory (its sender key signs).
    #[arg(long)]
    pub issuer: PathBuf,
    /// Bill id.
    #[arg(long)]
    pub id: String,
    /// Version (higher supersedes).
    #[arg(long, default_value_t = 1)]
    pub version: u64,
    /// Kind.
    #[arg(long, value_enum, default_value = "local-tax")]
    pub kind: KindArg,
    /// Title.
    #[arg(long)]
    pub title: String,
    /// Amount in won.
    #[arg(long)]
    pub amount: u64,
    /// Due date, YYYY-MM-DD.
    #[arg(long)]
    pub due: String,
    /// Payee account.
    #[arg(long, default_value = "농협 123-4567-8901-23 (가상계좌)")]
    pub payee: String,
    /// Period billed.
    #[arg(long, default_value = "")]
    pub period: String,
    /// Sender display name.
    #[arg(long, default_value = "서울특별시 종로구청")]
    pub sender_name: String,
    /// Withdraw the bill.
    #[arg(long)]
    pub cancelled: bool,
    /// Where to write the signed bill.
    #[arg(long)]
    pub out: PathBuf,
}

/// `jigap issue notification` options.
#[derive(Args, Debug)]
pub struct IssueNotification {
    /// The test authority's directory (its sender key signs).
    #[arg(long)]
    pub issuer: PathBuf,
    /// Notification id.
    #[arg(long)]
    pub id: String,
    /// Category.
    #[arg(long, value_enum, default_value = "general")]
    pub category: CategoryArg,
    /// Korean title.
    #[arg(long)]
    pub title: String,
    /// Korean body.
    #[arg(long)]
    pub body: String,
    /// High priority.
    #[arg(long)]
    pub high: bool,
    /// Expires after this many days.
    #[arg(long)]
    pub expires_in_days: Option<u32>,
    /// Where to write the signed notification.
    #[arg(long)]
    pub out: PathBuf,
}

/// Bill actions.
#[derive(Subcommand, Debug)]
pub enum BillsAction {
    /// Verify and store a signed bill.
    Add {
        /// The signed bill file.
        file: PathBuf,
    },
    /// List bills (unpaid and overdue first).
    List {
        /// Only unpaid, paid, overdue or cancelled.
        #[arg(long)]
        state: Option<String>,
    },
    /// Record a payment.
    Pay {
        /// Bill id.
        id: String,
        /// Receipt reference.
        #[arg(long)]
        receipt: String,
    },
    /// Totals by month.
    Totals,
    /// Unpaid bills due within N days (and reminders for them).
    Due {
        /// Days ahead.
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
}

/// Inbox actions.
#[derive(Subcommand, Debug)]
pub enum InboxAction {
    /// Verify and store a signed notification.
    Add {
        /// The signed notification file.
        file: PathBuf,
    },
    /// List notifications, newest first.
    List {
        /// Only this category.
        #[arg(long, value_enum)]
        category: Option<CategoryArg>,
        /// Only unread ones.
        #[arg(long)]
        unread: bool,
        /// Include archived ones.
        #[arg(long)]
        all: bool,
        /// Text to search for.
        #[arg(long)]
        query: Option<String>,
        /// Skip this many.
        #[arg(long, default_value_t = 0)]
        offset: u32,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Mark a notification read.
    Read {
        /// Its id.
        id: String,
    },
    /// Archive a notification.
    Archive {
        /// Its id.
        id: String,
    },
    /// Delete expired notifications.
    Purge,
    /// Add the wallet's own reminders (credentials expiring within 30 days).
    Reminders,
}

fn state_name(s: BillState) -> &'static str {
    match s {
        BillState::Unpaid => "unpaid",
        BillState::Paid => "paid",
        BillState::Overdue => "overdue",
        BillState::Cancelled => "cancelled",
    }
}

fn bill_json(b: &BillRecord) -> serde_json::Value {
    json!({
        "id": b.id, "version": b.version, "sender_name": b.sender_name, "title": b.title,
        "amount_krw": b.amount_krw, "due_date": b.due_date, "state": state_name(b.state),
        "receipt": b.receipt, "payee_account": b.payee_account,
    })
}

fn bill_line(b: &BillRecord) -> String {
    format!(
        "{:<10} {:<9} {:>12}원  due {}  {} — {}",
        b.id,
        state_name(b.state),
        b.amount_krw,
        b.due_date,
        b.title,
        b.sender_name
    )
}

fn notification_json(n: &NotificationRecord) -> serde_json::Value {
    json!({
        "id": n.id, "sender": n.sender, "category": format!("{:?}", n.category), "title_ko": n.title_ko,
        "body_ko": n.body_ko, "read": n.read, "archived": n.archived, "issued_at": n.issued_at,
    })
}

/// `jigap issue bill`.
pub fn issue_bill(cli: &Cli, a: &IssueBill) -> Result<()> {
    let authority = TestAuthority::load(load_material(&a.issuer)?, None)?;
    let kind = match a.kind {
        KindArg::LocalTax => BillKind::LocalTax,
        KindArg::Fine => BillKind::Fine,
        KindArg::PensionPremium => BillKind::PensionPremium,
        KindArg::HealthInsurancePremium => BillKind::HealthInsurancePremium,
        KindArg::Utility => BillKind::Utility,
        KindArg::Other => BillKind::Other,
    };
    let period = if a.period.is_empty() {
        a.due.chars().take(7).collect()
    } else {
        a.period.clone()
    };
    let signed = authority.sign_bill(BillDraft {
        id: a.id.clone(),
        version: a.version,
        sender_name: a.sender_name.clone(),
        kind,
        title: a.title.clone(),
        amount_krw: a.amount,
        due_date: a.due.clone(),
        payee_account: a.payee.clone(),
        period,
        cancelled: a.cancelled,
    })?;
    std::fs::write(&a.out, &signed)?;
    say(
        cli,
        json!({ "out": a.out, "bytes": signed.len() }),
        format!(
            "signed bill {} ({} bytes) → {}",
            a.id,
            signed.len(),
            a.out.display()
        ),
    );
    Ok(())
}

/// `jigap issue notification`.
pub fn issue_notification(cli: &Cli, a: &IssueNotification) -> Result<()> {
    let authority = TestAuthority::load(load_material(&a.issuer)?, None)?;
    let expires_at = a.expires_in_days.map(|d| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|t| t.as_secs() as i64)
            .unwrap_or(0)
            + i64::from(d) * 86_400
    });
    let signed = authority.sign_notification(NotificationDraft {
        id: a.id.clone(),
        category: a.category.into(),
        title_ko: a.title.clone(),
        body_ko: a.body.clone(),
        title_en: None,
        body_en: None,
        priority: if a.high {
            Priority::High
        } else {
            Priority::Normal
        },
        expires_at,
        reference: None,
    })?;
    std::fs::write(&a.out, &signed)?;
    say(
        cli,
        json!({ "out": a.out, "bytes": signed.len() }),
        format!(
            "signed notification {} ({} bytes) → {}",
            a.id,
            signed.len(),
            a.out.display()
        ),
    );
    Ok(())
}

/// `jigap bills ...`.
pub fn bills(cli: &Cli, action: &BillsAction) -> Result<()> {
    let wallet = open(&wallet_path(cli), false)?;
    unlock(&wallet)?;
    let list = |bills: Vec<BillRecord>| {
        let value = json!(bills.iter().map(bill_json).collect::<Vec<_>>());
        let text = if bills.is_empty() {
            "no bills".to_string()
        } else {
            bills.iter().map(bill_line).collect::<Vec<_>>().join("\n")
        };
        say(cli, value, text);
    };
    match action {
        BillsAction::Add { file } => {
            let b = wallet.add_bill(read(file)?)?;
            say(cli, bill_json(&b), format!("stored: {}", bill_line(&b)));
        }
        BillsAction::List { state } => {
            let state = match state.as_deref() {
                None => None,
                Some("unpaid") => Some(BillState::Unpaid),
                Some("paid") => Some(BillState::Paid),
                Some("overdue") => Some(BillState::Overdue),
                Some("cancelled") => Some(BillState::Cancelled),
                Some(other) => return Err(CliError::from(format!("unknown state {other}"))),
            };
            list(wallet.list_bills(state)?);
        }
        BillsAction::Pay { id, receipt } => {
            let b = wallet.mark_bill_paid(id.clone(), receipt.clone())?;
            say(cli, bill_json(&b), format!("paid: {}", bill_line(&b)));
        }
        BillsAction::Totals => {
            let totals = wallet.bill_totals_by_month()?;
            let value = json!(totals.iter().map(|t| json!({ "month": t.month, "total_krw": t.total_krw, "unpaid_krw": t.unpaid_krw })).collect::<Vec<_>>());
            let text = totals
                .iter()
                .map(|t| {
                    format!(
                        "{}  total {:>12}원  unpaid {:>12}원",
                        t.month, t.total_krw, t.unpaid_krw
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            say(
                cli,
                value,
                if text.is_empty() {
                    "no bills".into()
                } else {
                    text
                },
            );
        }
        BillsAction::Due { days } => list(wallet.bills_due_within(*days)?),
    }
    Ok(())
}

/// `jigap inbox ...`.
pub fn inbox(cli: &Cli, action: &InboxAction) -> Result<()> {
    let wallet = open(&wallet_path(cli), false)?;
    unlock(&wallet)?;
    match action {
        InboxAction::Add { file } => {
            let n = wallet.add_notification(read(file)?)?;
            say(
                cli,
                notification_json(&n),
                format!("received {}: {}", n.id, n.title_ko),
            );
        }
        InboxAction::List {
            category,
            unread,
            all,
            query,
            offset,
            limit,
        } => {
            let page = wallet.list_notifications(
                NotificationFilter {
                    category: category.map(Into::into),
                    unread_only: *unread,
                    include_archived: *all,
                    query: query.clone(),
                },
                *offset,
                *limit,
            )?;
            let value = json!({ "total": page.total, "total_is_exact": page.total_is_exact, "next_offset": page.next_offset, "items": page.items.iter().map(notification_json).collect::<Vec<_>>() });
            let mut lines: Vec<String> = page
                .items
                .iter()
                .map(|n| {
                    format!(
                        "{} {:<24} {:?}  {} — {}",
                        if n.read { " " } else { "•" },
                        n.id,
                        n.category,
                        n.title_ko,
                        n.body_ko
                    )
                })
                .collect();
            lines.push(format!(
                "{} of {}{}",
                page.items.len(),
                page.total,
                if page.total_is_exact { "" } else { " or more" }
            ));
            say(cli, value, lines.join("\n"));
        }
        InboxAction::Read { id } => {
            wallet.mark_notification_read(id.clone())?;
            say(cli, json!({ "read": id }), format!("{id} read"));
        }
        InboxAction::Archive { id } => {
            wallet.archive_notification(id.clone())?;
            say(cli, json!({ "archived": id }), format!("{id} archived"));
        }
        InboxAction::Purge => {
            let n = wallet.purge_expired_notifications()?;
            say(
                cli,
                json!({ "purged": n }),
                format!("purged {n} expired notification(s)"),
            );
        }
        InboxAction::Reminders => {
            let n = wallet.refresh_reminders()?;
            say(cli, json!({ "added": n }), format!("added {n} reminder(s)"));
        }
    }
    Ok(())
}
