//! On-device benefit eligibility through the API. The citizen opts in explicitly (and can
//! withdraw, which deletes every entered fact); facts come from the wallet's own credentials
//! (age from a mobile ID's birth date) and from what the citizen enters; the catalog must be
//! signed by a trusted publisher; evaluation never leaves the device.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::records::{CredentialFilter, CredentialFormat, CredentialState};
use super::{VerificationFailure, Wallet, WalletError};
use crate::benefits::catalog::{self, Eligibility};
use crate::benefits::rules::{Type, Val};
use crate::benefits::{attribute_type, ATTRIBUTES};
use crate::cose::cbor::{self, Value};
use crate::documents::signed;
use crate::inbox::notifications::NotificationCategory;
use crate::mdoc::issuer_signed::IssuerSigned;
use crate::time;
use crate::trust::x509::ParsedCertificate;
use crate::trust::x509::TrustRole;

const META_OPT_IN: &str = "benefits_opt_in";
const META_FACTS: &str = "benefits_facts";

/// A fact's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
pub enum FactValue {
    /// A whole number.
    Int {
        /// The number.
        value: i64,
    },
    /// Yes or no.
    Bool {
        /// The answer.
        value: bool,
    },
    /// Text.
    Text {
        /// The text.
        value: String,
    },
}

/// Something the citizen says about themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
pub struct CitizenFact {
    /// Attribute name (see `benefit_attributes`).
    pub name: String,
    /// Its value.
    pub value: FactValue,
}

/// An attribute rules can use.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AttributeInfo {
    /// Name.
    pub name: String,
    /// "int", "bool" or "text".
    pub type_name: String,
    /// What it means.
    pub meaning: String,
    /// The document that proves it.
    pub document: String,
}

/// A fact a decision is waiting for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MissingAttribute {
    /// The attribute.
    pub attribute: String,
    /// The document that would supply it.
    pub document: String,
}

/// One benefit's result.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BenefitResult {
    /// Benefit id.
    pub benefit_id: String,
    /// Korean name.
    pub name_ko: String,
    /// English name.
    pub name_en: String,
    /// Agency.
    pub agency: String,
    /// Description.
    pub description: String,
    /// Eligible, not eligible, or unknown.
    pub eligibility: Eligibility,
    /// For unknown results: what is missing and which document would supply it.
    pub missing: Vec<MissingAttribute>,
    /// The deciding conditions, e.g. `age (70) >= 65: yes`.
    pub explanation: Vec<String>,
    /// Documents an application needs.
    pub documents: Vec<String>,
}

/// The attributes benefit rules can use.
#[uniffi::export]
pub fn benefit_attributes() -> Vec<AttributeInfo> {
    ATTRIBUTES
        .iter()
        .map(|(name, ty, meaning, document)| AttributeInfo {
            name: name.to_string(),
            type_name: match ty {
                Type::Int => "int",
                Type::Bool => "bool",
                Type::Text => "text",
            }
            .into(),
            meaning: meaning.to_string(),
            document: document.to_string(),
        })
        .collect()
}

fn to_val(v: &FactValue) -> Val {
    match v {
        FactValue::Int { value } => Val::Int(*value),
        FactValue::Bool { value } => Val::Bool(*value),
        FactValue::Text { value } => Val::Text(value.clone()),
    }
}

impl Wallet {
    fn opted_in(&self) -> Result<bool, WalletError> {
        Ok(self.store.get_meta(META_OPT_IN)?.is_some())
    }

    fn stored_facts(&self) -> Result<Vec<CitizenFact>, WalletError> {
        match self.store.get_meta(META_FACTS)? {
            None => Ok(Vec::new()),
            Some(bytes) => {
                ciborium::from_reader(bytes.as_slice()).map_err(|e| WalletError::StoreCorrupt {
                    reason: format!("facts: {e}"),
                })
            }
        }
    }

    /// Attributes the wallet's own credentials prove: age from a valid mobile ID's birth date.
    fn credential_facts(&self, today: i64) -> Result<HashMap<String, Val>, WalletError> {
        let mut out = HashMap::new();
        let page = self.list_credentials(
            CredentialFilter {
                format: Some(CredentialFormat::MsoMdoc),
                state: Some(CredentialState::Valid),
                ..Default::default()
            },
            0,
            super::MAX_PAGE_SIZE,
        )?;
        for summary in page.items {
            let Ok(parsed) = IssuerSigned::parse(&self.get_credential(summary.id)?.raw) else {
                continue;
            };
            for (_, items) in &parsed.namespaces {
                for item in items
                    .iter()
                    .filter(|i| i.element_identifier == "birth_date")
                {
                    let text = match &item.element_value {
                        Value::Tag(cbor::TAG_FULL_DATE, inner) => {
                            cbor::text(inner, "birth_date").ok()
                        }
                        Value::Text(t) => Some(t.as_str()),
                        _ => None,
                    };
                    if let Some(birth) = text.and_then(time::parse_full_date) {
                        out.insert(
                            "age".to_string(),
                            Val::Int(time::age_in_years(birth, today)),
                        );
                    }
                }
            }
        }
        Ok(out)
    }
}

#[uniffi::export]
impl Wallet {
    /// Opts in to on-device benefit checks, or withdraws: withdrawing deletes every entered fact.
    pub fn set_benefit_opt_in(&self, opt_in: bool) -> Result<(), WalletError> {
        self.require_unlocked()?;
        if opt_in {
            self.store.put_meta(META_OPT_IN, &[1])?;
        } else {
            self.store.delete_meta(META_FACTS)?;
            self.store.delete_meta(META_OPT_IN)?;
        }
        Ok(())
    }

    /// Records facts the citizen enters (replacing earlier values of the same attributes).
    /// Needs the opt-in; an unknown attribute or a value of the wrong type is refused.
    pub fn set_citizen_facts(&self, facts: Vec<CitizenFact>) -> Result<(), WalletError> {
        self.require_unlocked()?;
        if !self.opted_in()? {
            return Err(WalletError::invalid(
                "opt in to benefit checks first (set_benefit_opt_in)",
            ));
        }
        for fact in &facts {
            let ty = attribute_type(&fact.name)
                .ok_or_else(|| WalletError::invalid(format!("unknown attribute {}", fact.name)))?;
            if to_val(&fact.value).ty() != ty {
                return Err(WalletError::invalid(format!(
                    "{} takes a {ty:?} value",
                    fact.name
                )));
            }
        }
        let mut all = self.stored_facts()?;
        for fact in facts {
            all.retain(|f| f.name != fact.name);
            all.push(fact);
        }
        let mut bytes = Vec::new();
        ciborium::into_writer(&all, &mut bytes).map_err(|e| WalletError::Internal {
            reason: e.to_string(),
        })?;
        Ok(self.store.put_meta(META_FACTS, &bytes)?)
    }

    /// The facts the citizen entered.
    pub fn citizen_facts(&self) -> Result<Vec<CitizenFact>, WalletError> {
        self.require_unlocked()?;
        self.stored_facts()
    }

    /// Evaluates a benefit catalog signed by a trusted `CatalogPublisher`, on the device, with
    /// the credential-proven and entered facts. Benefits newly found eligible leave a
    /// notification in the inbox.
    pub fn evaluate_benefits(
        &self,
        signed_catalog: Vec<u8>,
    ) -> Result<Vec<BenefitResult>, WalletError> {
        self.require_unlocked()?;
        if !self.opted_in()? {
            return Err(WalletError::invalid(
                "opt in to benefit checks first (set_benefit_opt_in)",
            ));
        }
        let anchors: Vec<ParsedCertificate> = self
            .store
            .trust_anchors(Some(TrustRole::CatalogPublisher.code()))?
            .into_iter()
            .filter_map(|(_, _, der)| ParsedCertificate::from_der(&der).ok())
            .collect();
        let payload = signed::verify(
            &signed_catalog,
            &anchors,
            self.now()?,
            TrustRole::CatalogPublisher,
        )?;
        let benefits = catalog::parse(&payload.body).map_err(|e| WalletError::Verification {
            failure: VerificationFailure::Malformed,
            detail: e.to_string(),
        })?;
        let today = self.now()?.div_euclid(86_400);
        let mut facts: HashMap<String, Val> = self
            .stored_facts()?
            .iter()
            .map(|f| (f.name.clone(), to_val(&f.value)))
            .collect();
        // What credentials prove wins over what was typed.
        facts.extend(self.credential_facts(today)?);
        let mut out = Vec::with_capacity(benefits.len());
        for evaluation in catalog::evaluate(&benefits, &facts) {
            let b = benefits
                .get(evaluation.index)
                .ok_or_else(|| WalletError::Internal {
                    reason: "an evaluation names no benefit".into(),
                })?;
            if evaluation.eligibility == Eligibility::Eligible {
                self.local_notification(
                    format!("local:benefit:{}", b.id),
                    NotificationCategory::Benefit,
                    format!("받을 수 있는 혜택: {}", b.name_ko),
                    format!(
                        "{} — {} ({})",
                        b.description,
                        b.agency,
                        evaluation.explanation.join(", ")
                    ),
                    Some(b.id.clone()),
                )?;
            }
            out.push(BenefitResult {
                benefit_id: b.id.clone(),
                name_ko: b.name_ko.clone(),
                name_en: b.name_en.clone(),
                agency: b.agency.clone(),
                description: b.description.clone(),
                eligibility: evaluation.eligibility,
                missing: evaluation
                    .missing
                    .into_iter()
                    .map(|(attribute, document)| MissingAttribute {
                        attribute,
                        document,
                    })
                    .collect(),
                explanation: evaluation.explanation,
                documents: b.documents.clone(),
            });
        }
        Ok(out)
    }
}
