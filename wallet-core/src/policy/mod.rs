//! The disclosure policy: which requested items may leave the wallet, to whom, and, when one
//! may not, why. The same decision serves every channel (in person, OpenID4VP, the Digital
//! Credentials API); the API turns it into the consent step the host shows and enforces it
//! on whatever the host answers.
//!
//! - Restricted identifiers (resident registration number, driver's licence number; Korea's
//!   PIPA art. 24-2) go only to an authenticated relying party whose certificate carries a
//!   legal-basis policy.
//! - An unauthenticated relying party gets only the unauthenticated allowance (by default age
//!   predicates and the portrait).
//! - Predicates first: when a document request asks for a full value (`birth_date`,
//!   `age_in_years`, `age_birth_year`) and for an `age_over_NN` that can be released, the
//!   predicate is offered and the full value needs its own approval.
//!
//! Owns: item patterns, the defaults, verdicts and their reasons, applying them to an answer,
//! grant eligibility. Imports
//! nothing of the crate and must never import `store`, `trust` or `api`: the relying party's
//! facts arrive already verified.

use serde::{Deserialize, Serialize};

/// A certificate policy for tests that marks a relying party's certificate as carrying a legal
/// basis for restricted identifiers: RFC 7229's `id-TEST-certPolicyOne`, an OID set aside for
/// testing. No policy is trusted for this by default: a deployment names the OID its trust
/// framework assigns (`DisclosurePolicy::legal_basis_policies`), and until it does restricted
/// identifiers go to no one.
pub const TEST_LEGAL_BASIS_POLICY: &str = "1.3.6.1.5.5.7.13.1";

/// Restricted identifiers by default: the resident registration number wherever it appears,
/// and the driver's licence number.
pub const DEFAULT_RESTRICTED: &[&str] = &[
    "resident_registration_number",
    "org.iso.18013.5.1/document_number",
];

/// What an unauthenticated relying party may have by default.
pub const DEFAULT_UNAUTHENTICATED_ALLOWED: &[&str] = &["age_over_*", "portrait"];

/// Full values that an age predicate answers more narrowly.
const FULL_AGE_VALUES: &[&str] = &["birth_date", "age_in_years", "age_birth_year", "birthdate"];

/// The policy, as the host configures it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
pub struct DisclosurePolicy {
    /// Item patterns that are restricted identifiers. A pattern with a `/` names a whole path
    /// (`org.iso.18013.5.1/document_number`, `/resident_registration_number`); one without
    /// names an element or claim anywhere (`resident_registration_number`); a trailing `*`
    /// matches any ending.
    pub restricted: Vec<String>,
    /// Item patterns an unauthenticated relying party may receive.
    pub unauthenticated_allowed: Vec<String>,
    /// Item patterns no relying party receives, authenticated or not.
    pub never_released: Vec<String>,
    /// Certificate policy OIDs that give a relying party a legal basis for restricted
    /// identifiers.
    pub legal_basis_policies: Vec<String>,
    /// Offer age predicates before the full values they stand for.
    pub predicates_first: bool,
}

impl Default for DisclosurePolicy {
    fn default() -> Self {
        DisclosurePolicy {
            restricted: DEFAULT_RESTRICTED.iter().map(|s| (*s).to_owned()).collect(),
            unauthenticated_allowed: DEFAULT_UNAUTHENTICATED_ALLOWED
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            never_released: Vec::new(),
            legal_basis_policies: Vec::new(),
            predicates_first: true,
        }
    }
}

/// Why an item is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
pub enum WithheldReason {
    /// The policy does not release it to this relying party.
    Policy,
    /// No credential that could answer holds it.
    NotHeld,
    /// The citizen did not approve it.
    RefusedByCitizen,
    /// A restricted identifier, and the relying party has no authenticated legal basis.
    Restricted,
}

impl WithheldReason {
    /// Its name in records.
    pub fn name(self) -> &'static str {
        match self {
            WithheldReason::Policy => "policy",
            WithheldReason::NotHeld => "not_held",
            WithheldReason::RefusedByCitizen => "refused_by_citizen",
            WithheldReason::Restricted => "restricted",
        }
    }
}

/// The policy's verdict on one requested item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It may go, with the citizen's approval.
    Offered,
    /// An age predicate in the same request answers more narrowly: this full value goes
    /// only if the citizen approves it by name.
    NeedsOwnApproval {
        /// The predicate offered instead.
        minimal: String,
    },
    /// It does not go.
    Withheld(WithheldReason),
}

/// An item as the citizen is asked about it: the policy's verdict, or the grant that covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// The policy's verdict.
    Verdict(Verdict),
    /// A remembered grant (its id) covers it.
    Granted(String),
}

/// What leaves, and what does not and why.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Release {
    /// The items that go.
    pub released: Vec<String>,
    /// The items that do not, each with its reason.
    pub withheld: Vec<(String, WithheldReason)>,
    /// The grants that answered.
    pub grants_used: Vec<String>,
}

/// Applies the standings of the asked items to an answer: with `named` the citizen named the
/// items (a full value that needs its own approval goes only if named); without, every offered
/// or granted item goes. Withheld items never go. Naming an item not asked is an error (its
/// path).
pub fn release(items: &[(String, Standing)], named: Option<&[String]>) -> Result<Release, String> {
    if let Some(list) = named {
        if let Some(extra) = list.iter().find(|n| !items.iter().any(|(p, _)| p == *n)) {
            return Err(extra.clone());
        }
    }
    let is_named = |path: &str| named.is_some_and(|list| list.iter().any(|n| n == path));
    let mut out = Release::default();
    for (path, standing) in items {
        let goes = match standing {
            Standing::Verdict(Verdict::Withheld(reason)) => {
                out.withheld.push((path.clone(), *reason));
                continue;
            }
            Standing::Granted(grant) => {
                let goes = named.is_none() || is_named(path);
                if goes && !out.grants_used.contains(grant) {
                    out.grants_used.push(grant.clone());
                }
                goes
            }
            Standing::Verdict(Verdict::Offered) => named.is_none() || is_named(path),
            Standing::Verdict(Verdict::NeedsOwnApproval { .. }) => is_named(path),
        };
        if goes {
            out.released.push(path.clone());
        } else {
            out.withheld
                .push((path.clone(), WithheldReason::RefusedByCitizen));
        }
    }
    Ok(out)
}

/// Whether the citizen need not be asked: every item that could go is covered by a grant, and
/// at least one is.
pub fn fully_granted<'a>(standings: impl IntoIterator<Item = &'a Standing> + Clone) -> bool {
    standings
        .clone()
        .into_iter()
        .any(|s| matches!(s, Standing::Granted(_)))
        && standings.into_iter().all(|s| {
            matches!(
                s,
                Standing::Granted(_) | Standing::Verdict(Verdict::Withheld(_))
            )
        })
}

/// What the policy knows of the relying party (already verified by the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Asker {
    /// Its request was signed by a certificate that chains to an anchor of its role.
    pub authenticated: bool,
    /// The certificate policy OIDs of that certificate.
    pub policies: Vec<String>,
}

/// One requested item of a document request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// `namespace/element` (mdoc) or a JSON pointer (SD-JWT VC).
    pub path: String,
    /// A credential that would answer holds it.
    pub held: bool,
}

/// The last segment of a path: the element or claim name.
fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether `pattern` (see [`DisclosurePolicy::restricted`]) matches `path`.
pub fn matches(pattern: &str, path: &str) -> bool {
    let subject = if pattern.contains('/') {
        path
    } else {
        name_of(path)
    };
    match pattern.strip_suffix('*') {
        Some(prefix) => subject.starts_with(prefix),
        None => subject == pattern,
    }
}

fn any(patterns: &[String], path: &str) -> bool {
    patterns.iter().any(|p| matches(p, path))
}

/// Whether `text` is a dotted OID this crate's certificates can carry: two to 32 arcs, each a
/// decimal number below 2^32, the first 0, 1 or 2.
pub fn is_oid(text: &str) -> bool {
    let arcs: Vec<&str> = text.split('.').collect();
    (2..=32).contains(&arcs.len())
        && arcs.iter().all(|arc| {
            !arc.is_empty()
                && arc.len() <= 10
                && arc.bytes().all(|b| b.is_ascii_digit())
                && (arc.len() == 1 || !arc.starts_with('0'))
                && arc.parse::<u32>().is_ok()
        })
        && matches!(arcs.first(), Some(&("0" | "1" | "2")))
}

/// Whether `path` is an `age_over_NN` predicate.
fn is_age_predicate(path: &str) -> bool {
    name_of(path)
        .strip_prefix("age_over_")
        .is_some_and(|n| !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()))
}

impl DisclosurePolicy {
    /// Whether `path` is a restricted identifier.
    pub fn is_restricted(&self, path: &str) -> bool {
        any(&self.restricted, path)
    }

    /// Whether `asker` has a legal basis for restricted identifiers.
    pub fn has_legal_basis(&self, asker: &Asker) -> bool {
        asker.authenticated
            && asker
                .policies
                .iter()
                .any(|p| self.legal_basis_policies.contains(p))
    }

    /// The verdict on one item on its own (before predicates are weighed).
    fn alone(&self, asker: &Asker, item: &Item) -> Verdict {
        if !item.held {
            return Verdict::Withheld(WithheldReason::NotHeld);
        }
        if self.is_restricted(&item.path) {
            return if self.has_legal_basis(asker) {
                Verdict::Offered
            } else {
                Verdict::Withheld(WithheldReason::Restricted)
            };
        }
        if any(&self.never_released, &item.path) {
            return Verdict::Withheld(WithheldReason::Policy);
        }
        if !asker.authenticated && !any(&self.unauthenticated_allowed, &item.path) {
            return Verdict::Withheld(WithheldReason::Policy);
        }
        Verdict::Offered
    }

    /// Why `path` may not go to `asker` whatever was asked for or approved: a restricted
    /// identifier without an authenticated legal basis, or an item never released. This is
    /// what holds for everything a presentation carries beyond the items decided one by one,
    /// such as the claims inside a disclosed object.
    pub fn refused_regardless(&self, asker: &Asker, path: &str) -> Option<WithheldReason> {
        if self.is_restricted(path) && !self.has_legal_basis(asker) {
            Some(WithheldReason::Restricted)
        } else if any(&self.never_released, path) {
            Some(WithheldReason::Policy)
        } else {
            None
        }
    }

    /// The verdicts on the items of one document request, in order.
    pub fn decide(&self, asker: &Asker, items: &[Item]) -> Vec<Verdict> {
        let mut verdicts: Vec<Verdict> = items.iter().map(|i| self.alone(asker, i)).collect();
        if !self.predicates_first {
            return verdicts;
        }
        // The narrowest offered predicate stands in for the full values (the highest age:
        // it says the least about the citizen's actual age among those asked).
        let minimal = items
            .iter()
            .zip(&verdicts)
            .filter(|(i, v)| **v == Verdict::Offered && is_age_predicate(&i.path))
            .map(|(i, _)| i.path.clone())
            .max_by_key(|p| {
                name_of(p)
                    .trim_start_matches("age_over_")
                    .parse::<u32>()
                    .unwrap_or(0)
            });
        if let Some(minimal) = minimal {
            for (item, verdict) in items.iter().zip(verdicts.iter_mut()) {
                if *verdict == Verdict::Offered && FULL_AGE_VALUES.contains(&name_of(&item.path)) {
                    *verdict = Verdict::NeedsOwnApproval {
                        minimal: minimal.clone(),
                    };
                }
            }
        }
        verdicts
    }

    /// Whether a decision about `path` may be remembered for `asker`: only for an
    /// authenticated relying party, and never for a restricted identifier.
    pub fn may_remember(&self, asker: &Asker, path: &str) -> bool {
        asker.authenticated && !self.is_restricted(path)
    }

    /// Checks the policy's own shape: patterns non-empty and bounded, OIDs dotted numbers.
    pub fn check(&self) -> Result<(), String> {
        const MAX_PATTERNS: usize = 256;
        const MAX_PATTERN_BYTES: usize = 256;
        for (what, list) in [
            ("restricted", &self.restricted),
            ("unauthenticated_allowed", &self.unauthenticated_allowed),
            ("never_released", &self.never_released),
        ] {
            if list.len() > MAX_PATTERNS {
                return Err(format!("{what}: at most {MAX_PATTERNS} patterns"));
            }
            if let Some(bad) = list
                .iter()
                .find(|p| p.trim().is_empty() || p.len() > MAX_PATTERN_BYTES || p.trim() == "*")
            {
                return Err(format!(
                    "{what}: the pattern {bad:?} is empty, too long or matches everything"
                ));
            }
        }
        if self.legal_basis_policies.len() > MAX_PATTERNS {
            return Err(format!("legal_basis_policies: at most {MAX_PATTERNS}"));
        }
        if let Some(bad) = self.legal_basis_policies.iter().find(|oid| !is_oid(oid)) {
            return Err(format!("legal_basis_policies: {bad:?} is not an OID"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(paths: &[(&str, bool)]) -> Vec<Item> {
        paths
            .iter()
            .map(|(p, held)| Item {
                path: (*p).to_owned(),
                held: *held,
            })
            .collect()
    }

    const MDL: &str = "org.iso.18013.5.1";

    fn asker(authenticated: bool, legal_basis: bool) -> Asker {
        Asker {
            authenticated,
            policies: if legal_basis {
                vec![TEST_LEGAL_BASIS_POLICY.to_owned()]
            } else {
                vec!["1.2.3".to_owned()]
            },
        }
    }

    #[test]
    fn patterns_match_whole_paths_names_and_prefixes() {
        assert!(matches("portrait", "org.iso.18013.5.1/portrait"));
        assert!(matches("portrait", "/portrait"));
        assert!(!matches(
            "portrait",
            "org.iso.18013.5.1/portrait_capture_date"
        ));
        assert!(matches("age_over_*", "org.iso.18013.5.1/age_over_19"));
        assert!(matches(
            "org.iso.18013.5.1/document_number",
            "org.iso.18013.5.1/document_number"
        ));
        assert!(!matches(
            "org.iso.18013.5.1/document_number",
            "kr.example/document_number"
        ));
        assert!(matches(
            "resident_registration_number",
            "/resident_registration_number"
        ));
        assert!(matches("/address/*", "/address/locality"));
    }

    fn with_test_basis() -> DisclosurePolicy {
        DisclosurePolicy {
            legal_basis_policies: vec![TEST_LEGAL_BASIS_POLICY.to_owned()],
            ..DisclosurePolicy::default()
        }
    }

    #[test]
    fn restricted_identifiers_need_an_authenticated_legal_basis() {
        // By default no certificate gives a legal basis.
        let asked = items(&[("/resident_registration_number", true)]);
        assert_eq!(
            DisclosurePolicy::default().decide(&asker(true, true), &asked),
            vec![Verdict::Withheld(WithheldReason::Restricted)]
        );
        let policy = with_test_basis();
        let asked = items(&[
            (&format!("{MDL}/document_number"), true),
            ("kr.jigap.resident.1/resident_registration_number", true),
        ]);
        for who in [asker(false, false), asker(false, true), asker(true, false)] {
            assert_eq!(
                policy.decide(&who, &asked),
                vec![Verdict::Withheld(WithheldReason::Restricted); 2],
                "{who:?}"
            );
        }
        assert_eq!(
            policy.decide(&asker(true, true), &asked),
            vec![Verdict::Offered; 2]
        );
    }

    #[test]
    fn an_unauthenticated_reader_gets_the_allowance_only() {
        let policy = DisclosurePolicy::default();
        let asked = items(&[
            (&format!("{MDL}/age_over_19"), true),
            (&format!("{MDL}/portrait"), true),
            (&format!("{MDL}/family_name"), true),
            (&format!("{MDL}/age_over_65"), false),
        ]);
        assert_eq!(
            policy.decide(&asker(false, false), &asked),
            vec![
                Verdict::Offered,
                Verdict::Offered,
                Verdict::Withheld(WithheldReason::Policy),
                Verdict::Withheld(WithheldReason::NotHeld),
            ]
        );
        let mut narrower = policy.clone();
        narrower.unauthenticated_allowed = vec!["age_over_*".into()];
        assert_eq!(
            narrower.decide(&asker(false, false), &asked)[1],
            Verdict::Withheld(WithheldReason::Policy)
        );
        let mut never = policy;
        never.never_released = vec!["family_name".into()];
        assert_eq!(
            never.decide(&asker(true, true), &asked)[2],
            Verdict::Withheld(WithheldReason::Policy)
        );
    }

    #[test]
    fn predicates_come_first() {
        let policy = DisclosurePolicy::default();
        let asked = items(&[
            (&format!("{MDL}/birth_date"), true),
            (&format!("{MDL}/age_over_19"), true),
            (&format!("{MDL}/age_over_65"), true),
            (&format!("{MDL}/age_in_years"), true),
            (&format!("{MDL}/family_name"), true),
        ]);
        let minimal = format!("{MDL}/age_over_65");
        assert_eq!(
            policy.decide(&asker(true, false), &asked),
            vec![
                Verdict::NeedsOwnApproval {
                    minimal: minimal.clone()
                },
                Verdict::Offered,
                Verdict::Offered,
                Verdict::NeedsOwnApproval { minimal },
                Verdict::Offered,
            ]
        );
        // No predicate to stand in: the full value is offered as it is.
        assert_eq!(
            policy.decide(
                &asker(true, false),
                &items(&[(&format!("{MDL}/birth_date"), true)])
            ),
            vec![Verdict::Offered]
        );
        // A predicate the wallet does not hold stands in for nothing.
        let unheld = items(&[
            (&format!("{MDL}/birth_date"), true),
            (&format!("{MDL}/age_over_19"), false),
        ]);
        assert_eq!(
            policy.decide(&asker(true, false), &unheld)[0],
            Verdict::Offered
        );
        let off = DisclosurePolicy {
            predicates_first: false,
            ..DisclosurePolicy::default()
        };
        assert_eq!(policy.decide(&asker(true, false), &asked).len(), 5);
        assert_eq!(off.decide(&asker(true, false), &asked)[0], Verdict::Offered);
    }

    #[test]
    fn grants_only_for_authenticated_parties_and_never_for_restricted_items() {
        let policy = DisclosurePolicy::default();
        assert!(policy.may_remember(&asker(true, false), "org.iso.18013.5.1/age_over_19"));
        assert!(!policy.may_remember(&asker(false, false), "org.iso.18013.5.1/age_over_19"));
        assert!(!policy.may_remember(&asker(true, true), "/resident_registration_number"));
    }

    #[test]
    fn release_enforces_the_standings_on_any_answer() {
        let items = vec![
            (
                "ns/age_over_19".to_string(),
                Standing::Verdict(Verdict::Offered),
            ),
            (
                "ns/birth_date".to_string(),
                Standing::Verdict(Verdict::NeedsOwnApproval {
                    minimal: "ns/age_over_19".into(),
                }),
            ),
            (
                "ns/document_number".to_string(),
                Standing::Verdict(Verdict::Withheld(WithheldReason::Restricted)),
            ),
            ("ns/family_name".to_string(), Standing::Granted("g1".into())),
        ];
        let all = release(&items, None).unwrap();
        assert_eq!(all.released, ["ns/age_over_19", "ns/family_name"]);
        assert_eq!(
            all.withheld,
            vec![
                (
                    "ns/birth_date".to_string(),
                    WithheldReason::RefusedByCitizen
                ),
                ("ns/document_number".to_string(), WithheldReason::Restricted),
            ]
        );
        assert_eq!(all.grants_used, ["g1"]);
        let named: Vec<String> = items.iter().map(|(p, _)| p.clone()).collect();
        let explicit = release(&items, Some(&named)).unwrap();
        assert_eq!(
            explicit.released,
            ["ns/age_over_19", "ns/birth_date", "ns/family_name"]
        );
        assert_eq!(
            release(&items, Some(&["ns/portrait".to_string()])),
            Err("ns/portrait".to_string())
        );
        let granted = [
            Standing::Granted("g".into()),
            Standing::Verdict(Verdict::Withheld(WithheldReason::Policy)),
        ];
        assert!(fully_granted(granted.iter()));
        assert!(!fully_granted(granted[1..].iter()));
        assert!(!fully_granted(
            [
                Standing::Granted("g".into()),
                Standing::Verdict(Verdict::Offered)
            ]
            .iter()
        ));
    }

    #[test]
    fn a_policy_checks_its_own_shape() {
        assert!(DisclosurePolicy::default().check().is_ok());
        let p = DisclosurePolicy {
            unauthenticated_allowed: vec!["*".into()],
            ..DisclosurePolicy::default()
        };
        assert!(p.check().is_err());
        for bad in [
            "not.an.oid",
            "1",
            "3.1",
            "1.2.99999999999",
            "1.02",
            "2.25.63799473042521439463284834449016777220",
        ] {
            let p = DisclosurePolicy {
                legal_basis_policies: vec![bad.into()],
                ..DisclosurePolicy::default()
            };
            assert!(p.check().is_err(), "{bad}");
        }
        assert!(with_test_basis().check().is_ok());
        let p = DisclosurePolicy {
            restricted: vec![String::new()],
            ..DisclosurePolicy::default()
        };
        assert!(p.check().is_err());
    }
}
