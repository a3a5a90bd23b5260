//! The verifier server's memory: one record per request it made — the signed request object
//! until a wallet fetches it (a request URI is used once), when it expires, and what became of
//! it. The core keeps the request's secrets (nonce, state, response decryption key); this keeps
//! only what the server shows. Nothing is written to disk; finished records are forgotten after
//! an hour, and at most [`MAX_RECORDS`] are kept.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Most requests remembered at once (the core keeps at most as many pending).
pub const MAX_RECORDS: usize = 10_000;
/// How long a finished or expired request's outcome stays readable.
const KEEP_FINISHED: Duration = Duration::from_secs(3600);

/// What became of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// No answer yet.
    Pending,
    /// A response verified: what was presented (JSON, see [`super::routes::result_json`]).
    Verified(Value),
    /// The wallet declined (`access_denied`).
    Declined(String),
    /// The response failed verification, or the wallet answered with another error.
    Failed(String),
}

impl Outcome {
    /// `pending`, `verified`, `declined` or `failed`.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Verified(_) => "verified",
            Outcome::Declined(_) => "declined",
            Outcome::Failed(_) => "failed",
        }
    }
}

/// One request the server made.
#[derive(Debug)]
pub struct Record {
    /// The signed request object, until it is fetched.
    pub request_object: Option<String>,
    /// When the request expires (Unix seconds).
    pub expires_at: i64,
    /// What became of it.
    pub outcome: Outcome,
    /// The `response_code` of the redirect given after a verified response: the key to its
    /// result page.
    pub response_code: Option<String>,
    /// A response arrived and went to the core (only the first one does).
    pub answered: bool,
    /// When it finished (or was made, while pending).
    since: Instant,
}

impl Record {
    /// A pending request whose object waits to be fetched.
    pub fn new(request_object: String, expires_at: i64) -> Self {
        Record {
            request_object: Some(request_object),
            expires_at,
            outcome: Outcome::Pending,
            response_code: None,
            answered: false,
            since: Instant::now(),
        }
    }

    /// Records how the request ended.
    pub fn finish(&mut self, outcome: Outcome) {
        self.outcome = outcome;
        self.since = Instant::now();
    }

    /// Its outcome as the admin API reports it at `now` (Unix seconds): a pending request past
    /// its expiry has failed.
    pub fn report(&self, now: i64) -> Value {
        let (status, result, error) = match &self.outcome {
            Outcome::Pending if now > self.expires_at => (
                "failed",
                Value::Null,
                json!("the request expired before a response arrived"),
            ),
            Outcome::Pending => ("pending", Value::Null, Value::Null),
            Outcome::Verified(result) => ("verified", result.clone(), Value::Null),
            Outcome::Declined(why) | Outcome::Failed(why) => {
                (self.outcome.status(), Value::Null, json!(why))
            }
        };
        json!({ "status": status, "result": result, "error": error })
    }
}

/// Every request the server remembers, by request id.
#[derive(Debug, Default)]
pub struct Records {
    /// The records.
    records: HashMap<String, Record>,
}

/// No room for another request.
#[derive(Debug)]
pub struct Full;

impl Records {
    /// Keeps `record` under `request_id`, first forgetting requests finished or expired more
    /// than an hour ago.
    pub fn insert(&mut self, request_id: String, record: Record, now: i64) -> Result<(), Full> {
        let keep = i64::try_from(KEEP_FINISHED.as_secs()).unwrap_or(i64::MAX);
        self.records.retain(|_, r| match r.outcome {
            Outcome::Pending => r.expires_at.saturating_add(keep) >= now,
            _ => r.since.elapsed() < KEEP_FINISHED,
        });
        if self.records.len() >= MAX_RECORDS {
            return Err(Full);
        }
        self.records.insert(request_id, record);
        Ok(())
    }

    /// The record of `request_id`.
    pub fn get(&self, request_id: &str) -> Option<&Record> {
        self.records.get(request_id)
    }

    /// The record of `request_id`, to change.
    pub fn get_mut(&mut self, request_id: &str) -> Option<&mut Record> {
        self.records.get_mut(request_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_request_past_its_expiry_reports_failed() {
        let record = Record::new("jwt".into(), 100);
        assert_eq!(record.report(100)["status"], "pending");
        let late = record.report(101);
        assert_eq!(late["status"], "failed");
        assert!(late["error"].as_str().unwrap().contains("expired"));
    }

    #[test]
    fn old_pending_requests_are_forgotten_to_make_room() {
        let mut records = Records::default();
        records
            .insert("a".into(), Record::new("x".into(), 0), 0)
            .unwrap();
        records
            .insert("b".into(), Record::new("y".into(), 10_000), 5_000)
            .unwrap();
        assert!(records.get("a").is_none(), "expired over an hour ago");
        assert!(records.get("b").is_some());
    }
}
