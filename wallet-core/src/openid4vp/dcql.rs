//! DCQL, the Digital Credentials Query Language (OpenID4VP 1.0 section 6): the query a relying
//! party sends, checked as the specification requires, and matched against the wallet's
//! credentials — which credential can answer each query, with exactly which claims, or why none
//! can.

use serde_json::{json, Map, Value};

use crate::crypto::jose;
use crate::limits::{MAX_DOCUMENTS, MAX_REQUESTED_ELEMENTS};

/// The format identifier of an ISO mdoc.
pub const FORMAT_MDOC: &str = "mso_mdoc";
/// The format identifier of an SD-JWT VC.
pub const FORMAT_SD_JWT: &str = "dc+sd-jwt";
/// Deepest claims path accepted.
pub const MAX_PATH_ELEMENTS: usize = 16;
/// Most options or sets accepted.
pub const MAX_OPTIONS: usize = 64;

/// Why a query is not a valid DCQL query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid DCQL query: {0}")]
pub struct DcqlError(pub String);

fn bad(why: impl Into<String>) -> DcqlError {
    DcqlError(why.into())
}

/// One element of a claims path pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathElement {
    /// An object member.
    Key(String),
    /// An array index.
    Index(u64),
    /// Every element of an array (`null`).
    All,
}

/// A value a claim may be required to have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimValue {
    /// A string.
    Text(String),
    /// An integer.
    Integer(i64),
    /// A boolean.
    Bool(bool),
}

impl ClaimValue {
    fn matches(&self, value: &Value) -> bool {
        match (self, value) {
            (ClaimValue::Text(t), Value::String(v)) => t == v,
            (ClaimValue::Integer(i), Value::Number(n)) => n.as_i64() == Some(*i),
            (ClaimValue::Bool(b), Value::Bool(v)) => b == v,
            _ => false,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            ClaimValue::Text(t) => Value::String(t.clone()),
            ClaimValue::Integer(i) => Value::from(*i),
            ClaimValue::Bool(b) => Value::Bool(*b),
        }
    }
}

/// A claims query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsQuery {
    /// Its id (required when the credential query has `claim_sets`).
    pub id: Option<String>,
    /// Where the claim is.
    pub path: Vec<PathElement>,
    /// Values it must have (any of); empty: any value.
    pub values: Vec<ClaimValue>,
    /// mdoc: whether the relying party intends to keep it.
    pub intent_to_retain: Option<bool>,
}

/// What kind of credential a query asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meta {
    /// An mdoc of this docType.
    MsoMdoc {
        /// `doctype_value`.
        doctype: String,
    },
    /// An SD-JWT VC of one of these types.
    SdJwtVc {
        /// `vct_values`.
        vcts: Vec<String>,
    },
    /// Another format's constraints (kept as sent).
    Other(Map<String, Value>),
}

/// An authority a credential must be issued under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedAuthority {
    /// `aki`, `etsi_tl`, `openid_federation`, ...
    pub kind: String,
    /// Its values.
    pub values: Vec<String>,
}

/// A credential query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialQuery {
    /// Its id.
    pub id: String,
    /// The credential format asked for.
    pub format: String,
    /// Whether several credentials may answer it.
    pub multiple: bool,
    /// Format-specific constraints.
    pub meta: Meta,
    /// Authorities the credential must be issued under (any of).
    pub trusted_authorities: Vec<TrustedAuthority>,
    /// Whether the presentation must prove possession of the credential's key.
    pub require_holder_binding: bool,
    /// The claims asked for; `None`: only what is always disclosed.
    pub claims: Option<Vec<ClaimsQuery>>,
    /// Alternative sets of claim ids, in order of preference.
    pub claim_sets: Vec<Vec<String>>,
}

/// A credential set query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialSetQuery {
    /// Alternatives: each a list of credential query ids to answer together.
    pub options: Vec<Vec<String>>,
    /// Whether the set must be satisfied.
    pub required: bool,
}

/// A DCQL query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcqlQuery {
    /// The credential queries.
    pub credentials: Vec<CredentialQuery>,
    /// The credential sets; empty: every credential query is required.
    pub credential_sets: Vec<CredentialSetQuery>,
}

fn identifier(value: Option<&Value>, what: &str) -> Result<String, DcqlError> {
    let id = value
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("{what} has no id")))?;
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(id.to_owned())
    } else {
        Err(bad(format!(
            "{what} id is not 1 to 64 of A-Z, a-z, 0-9, '_', '-'"
        )))
    }
}

fn non_empty_array<'a>(value: &'a Value, what: &str, max: usize) -> Result<&'a [Value], DcqlError> {
    match value.as_array() {
        Some(items) if !items.is_empty() && items.len() <= max => Ok(items),
        _ => Err(bad(format!("{what} is not an array of 1 to {max} items"))),
    }
}

fn strings(value: &Value, what: &str, max: usize) -> Result<Vec<String>, DcqlError> {
    non_empty_array(value, what, max)?
        .iter()
        .map(|v| {
            v.as_str()
                .filter(|s| !s.is_empty() && s.len() <= 1024)
                .map(str::to_owned)
                .ok_or_else(|| bad(format!("{what} holds a non-string")))
        })
        .collect()
}

fn path(value: &Value, mdoc: bool) -> Result<Vec<PathElement>, DcqlError> {
    let elements = non_empty_array(value, "a claims path", MAX_PATH_ELEMENTS)?
        .iter()
        .map(|e| match e {
            Value::String(s) => Ok(PathElement::Key(s.clone())),
            Value::Null => Ok(PathElement::All),
            Value::Number(n) => n
                .as_u64()
                .map(PathElement::Index)
                .ok_or_else(|| bad("a path index is not a non-negative integer")),
            _ => Err(bad("a path element is not a string, null or an index")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if mdoc && (elements.len() != 2 || !elements.iter().all(|e| matches!(e, PathElement::Key(_)))) {
        return Err(bad(
            "an mdoc claims path is [namespace, element identifier]",
        ));
    }
    Ok(elements)
}

fn claims_query(value: &Value, mdoc: bool) -> Result<ClaimsQuery, DcqlError> {
    let m = value
        .as_object()
        .ok_or_else(|| bad("a claims query is not an object"))?;
    let id = match m.get("id") {
        None => None,
        some => Some(identifier(some, "a claims query")?),
    };
    let values = match m.get("values") {
        None => Vec::new(),
        Some(v) => non_empty_array(v, "values", 256)?
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(ClaimValue::Text(s.clone())),
                Value::Bool(b) => Ok(ClaimValue::Bool(*b)),
                Value::Number(n) => n
                    .as_i64()
                    .map(ClaimValue::Integer)
                    .ok_or_else(|| bad("a value is not an integer")),
                _ => Err(bad("a value is not a string, integer or boolean")),
            })
            .collect::<Result<_, _>>()?,
    };
    let intent_to_retain = match m.get("intent_to_retain") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(bad("intent_to_retain is not a boolean")),
    };
    Ok(ClaimsQuery {
        id,
        path: path(
            m.get("path")
                .ok_or_else(|| bad("a claims query has no path"))?,
            mdoc,
        )?,
        values,
        intent_to_retain,
    })
}

fn flag(m: &Map<String, Value>, key: &str, default: bool) -> Result<bool, DcqlError> {
    match m.get(key) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(format!("{key} is not a boolean"))),
    }
}

fn credential_query(value: &Value) -> Result<CredentialQuery, DcqlError> {
    let m = value
        .as_object()
        .ok_or_else(|| bad("a credential query is not an object"))?;
    let id = identifier(m.get("id"), "a credential query")?;
    let format = m
        .get("format")
        .and_then(Value::as_str)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| bad(format!("credential query {id} has no format")))?
        .to_owned();
    let meta_map = m
        .get("meta")
        .and_then(Value::as_object)
        .ok_or_else(|| bad(format!("credential query {id} has no meta object")))?;
    let meta = match format.as_str() {
        FORMAT_MDOC => Meta::MsoMdoc {
            doctype: meta_map
                .get("doctype_value")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
                .ok_or_else(|| bad(format!("credential query {id}: no doctype_value")))?
                .to_owned(),
        },
        FORMAT_SD_JWT => Meta::SdJwtVc {
            vcts: strings(
                meta_map
                    .get("vct_values")
                    .ok_or_else(|| bad(format!("credential query {id}: no vct_values")))?,
                "vct_values",
                64,
            )?,
        },
        _ => Meta::Other(meta_map.clone()),
    };
    let mdoc = format == FORMAT_MDOC;
    let claims = match m.get("claims") {
        None => None,
        Some(v) => Some(
            non_empty_array(v, "claims", MAX_REQUESTED_ELEMENTS)?
                .iter()
                .map(|c| claims_query(c, mdoc))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let claim_sets = match m.get("claim_sets") {
        None => Vec::new(),
        Some(v) => {
            let claims = claims
                .as_ref()
                .ok_or_else(|| bad(format!("credential query {id}: claim_sets without claims")))?;
            non_empty_array(v, "claim_sets", MAX_OPTIONS)?
                .iter()
                .map(|set| {
                    let ids = strings(set, "a claim set", MAX_REQUESTED_ELEMENTS)?;
                    for claim_id in &ids {
                        if !claims.iter().any(|c| c.id.as_deref() == Some(claim_id)) {
                            return Err(bad(format!(
                                "credential query {id}: claim set names unknown claim {claim_id}"
                            )));
                        }
                    }
                    Ok(ids)
                })
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    if let Some(claims) = &claims {
        let mut ids: Vec<&str> = claims.iter().filter_map(|c| c.id.as_deref()).collect();
        if !claim_sets.is_empty() && ids.len() != claims.len() {
            return Err(bad(format!(
                "credential query {id}: with claim_sets every claim needs an id"
            )));
        }
        ids.sort_unstable();
        if ids.windows(2).any(|w| w.first() == w.get(1)) {
            return Err(bad(format!("credential query {id}: claim ids repeat")));
        }
    }
    let trusted_authorities = match m.get("trusted_authorities") {
        None => Vec::new(),
        Some(v) => non_empty_array(v, "trusted_authorities", MAX_OPTIONS)?
            .iter()
            .map(|a| {
                Ok(TrustedAuthority {
                    kind: a
                        .get("type")
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad("a trusted authority has no type"))?
                        .to_owned(),
                    values: strings(
                        a.get("values")
                            .ok_or_else(|| bad("a trusted authority has no values"))?,
                        "trusted authority values",
                        MAX_OPTIONS,
                    )?,
                })
            })
            .collect::<Result<_, DcqlError>>()?,
    };
    Ok(CredentialQuery {
        multiple: flag(m, "multiple", false)?,
        require_holder_binding: flag(m, "require_cryptographic_holder_binding", true)?,
        id,
        format,
        meta,
        trusted_authorities,
        claims,
        claim_sets,
    })
}

impl DcqlQuery {
    /// Reads and checks a DCQL query; unknown members are ignored, as the specification
    /// requires.
    pub fn parse(value: &Value) -> Result<Self, DcqlError> {
        let m = value
            .as_object()
            .ok_or_else(|| bad("the query is not a JSON object"))?;
        let credentials = non_empty_array(
            m.get("credentials")
                .ok_or_else(|| bad("the query has no credentials"))?,
            "credentials",
            MAX_DOCUMENTS,
        )?
        .iter()
        .map(credential_query)
        .collect::<Result<Vec<_>, _>>()?;
        let mut ids: Vec<&str> = credentials.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w.first() == w.get(1)) {
            return Err(bad("credential query ids repeat"));
        }
        let credential_sets = match m.get("credential_sets") {
            None => Vec::new(),
            Some(v) => non_empty_array(v, "credential_sets", MAX_OPTIONS)?
                .iter()
                .map(|set| {
                    let s = set
                        .as_object()
                        .ok_or_else(|| bad("a credential set is not an object"))?;
                    let options = non_empty_array(
                        s.get("options")
                            .ok_or_else(|| bad("a credential set has no options"))?,
                        "options",
                        MAX_OPTIONS,
                    )?
                    .iter()
                    .map(|o| {
                        let option = strings(o, "an option", MAX_DOCUMENTS)?;
                        for id in &option {
                            if !credentials.iter().any(|c| c.id == *id) {
                                return Err(bad(format!(
                                    "a credential set names unknown credential query {id}"
                                )));
                            }
                        }
                        Ok(option)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                    Ok(CredentialSetQuery {
                        options,
                        required: flag(s, "required", true)?,
                    })
                })
                .collect::<Result<Vec<_>, DcqlError>>()?,
        };
        Ok(DcqlQuery {
            credentials,
            credential_sets,
        })
    }

    /// The query as JSON (what a relying party sends).
    pub fn to_json(&self) -> Value {
        let credentials: Vec<Value> = self
            .credentials
            .iter()
            .map(|c| {
                let mut q = Map::new();
                q.insert("id".into(), c.id.clone().into());
                q.insert("format".into(), c.format.clone().into());
                if c.multiple {
                    q.insert("multiple".into(), true.into());
                }
                if !c.require_holder_binding {
                    q.insert("require_cryptographic_holder_binding".into(), false.into());
                }
                let meta = match &c.meta {
                    Meta::MsoMdoc { doctype } => json!({ "doctype_value": doctype }),
                    Meta::SdJwtVc { vcts } => json!({ "vct_values": vcts }),
                    Meta::Other(m) => Value::Object(m.clone()),
                };
                q.insert("meta".into(), meta);
                if !c.trusted_authorities.is_empty() {
                    q.insert(
                        "trusted_authorities".into(),
                        c.trusted_authorities
                            .iter()
                            .map(|a| json!({ "type": a.kind, "values": a.values }))
                            .collect(),
                    );
                }
                if let Some(claims) = &c.claims {
                    q.insert(
                        "claims".into(),
                        claims
                            .iter()
                            .map(|claim| {
                                let mut m = Map::new();
                                if let Some(id) = &claim.id {
                                    m.insert("id".into(), id.clone().into());
                                }
                                m.insert("path".into(), path_json(&claim.path));
                                if !claim.values.is_empty() {
                                    m.insert(
                                        "values".into(),
                                        claim.values.iter().map(ClaimValue::to_json).collect(),
                                    );
                                }
                                if let Some(retain) = claim.intent_to_retain {
                                    m.insert("intent_to_retain".into(), retain.into());
                                }
                                Value::Object(m)
                            })
                            .collect(),
                    );
                }
                if !c.claim_sets.is_empty() {
                    q.insert("claim_sets".into(), json!(c.claim_sets));
                }
                Value::Object(q)
            })
            .collect();
        let mut out = json!({ "credentials": credentials });
        if !self.credential_sets.is_empty() {
            if let Some(m) = out.as_object_mut() {
                m.insert(
                    "credential_sets".into(),
                    self.credential_sets
                        .iter()
                        .map(|s| {
                            let mut set = json!({ "options": s.options });
                            if !s.required {
                                if let Some(m) = set.as_object_mut() {
                                    m.insert("required".into(), false.into());
                                }
                            }
                            set
                        })
                        .collect(),
                );
            }
        }
        out
    }

    /// The credential query `id`.
    pub fn credential(&self, id: &str) -> Option<&CredentialQuery> {
        self.credentials.iter().find(|c| c.id == id)
    }
}

/// A claims path as JSON.
pub fn path_json(path: &[PathElement]) -> Value {
    Value::Array(
        path.iter()
            .map(|e| match e {
                PathElement::Key(k) => Value::String(k.clone()),
                PathElement::Index(i) => Value::from(*i),
                PathElement::All => Value::Null,
            })
            .collect(),
    )
}

/// One step of a concrete path (after `null` was expanded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// An object member.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A concrete path as a JSON pointer (RFC 6901).
pub fn pointer(path: &[Segment]) -> String {
    path.iter()
        .map(|s| match s {
            Segment::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
            Segment::Index(i) => format!("/{i}"),
        })
        .collect()
}

/// A credential the wallet could present, as a query sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// `mso_mdoc` or `dc+sd-jwt`.
    pub format: String,
    /// docType or `vct`.
    pub doc_type: String,
    /// Its claims as JSON: for an mdoc `{namespace: {element: value}}` (CBOR as JSON, RFC 8949
    /// section 6.1), for an SD-JWT VC the claims with every disclosure applied.
    pub claims: Value,
    /// The authority key identifiers of its issuer's certificate chain (for `aki`).
    pub authority_key_ids: Vec<Vec<u8>>,
    /// Whether it is bound to a device key.
    pub holder_bound: bool,
}

/// A claim that would be disclosed.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosed {
    /// The claims query it answers.
    pub claim_id: Option<String>,
    /// Its concrete path.
    pub path: Vec<Segment>,
    /// Its value.
    pub value: Value,
    /// mdoc: the relying party intends to keep it.
    pub intent_to_retain: bool,
}

/// A credential that answers a credential query, with the claims it would disclose.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialMatch {
    /// Index into the candidates.
    pub candidate: usize,
    /// The claims (none: only what the format always discloses).
    pub claims: Vec<Disclosed>,
}

/// A credential query the wallet can answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answerable {
    /// The query's id.
    pub query_id: String,
    /// Every credential that can answer it (the citizen chooses; one unless `multiple`).
    pub matches: Vec<CredentialMatch>,
    /// Whether it must be answered (else the citizen may leave it out).
    pub required: bool,
}

/// Why a query cannot be satisfied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the request cannot be satisfied: {}", reasons.join("; "))]
pub struct Unsatisfiable {
    /// One reason per unanswerable credential query that was required.
    pub reasons: Vec<String>,
}

/// Resolves a claims path in `root` (OpenID4VP 1.0 section 7): the concrete paths and values
/// it selects, or `None` when it selects nothing or walks into the wrong kind of value.
pub fn resolve(root: &Value, path: &[PathElement]) -> Option<Vec<(Vec<Segment>, Value)>> {
    let mut selected: Vec<(Vec<Segment>, &Value)> = vec![(Vec::new(), root)];
    for element in path {
        let mut next = Vec::new();
        for (at, value) in selected {
            match element {
                PathElement::Key(key) => {
                    let object = value.as_object()?;
                    if let Some(v) = object.get(key) {
                        let mut p = at.clone();
                        p.push(Segment::Key(key.clone()));
                        next.push((p, v));
                    }
                }
                PathElement::All => {
                    for (i, v) in value.as_array()?.iter().enumerate() {
                        let mut p = at.clone();
                        p.push(Segment::Index(i));
                        next.push((p, v));
                    }
                }
                PathElement::Index(i) => {
                    let array = value.as_array()?;
                    let index = usize::try_from(*i).ok()?;
                    if let Some(v) = array.get(index) {
                        let mut p = at.clone();
                        p.push(Segment::Index(index));
                        next.push((p, v));
                    }
                }
            }
        }
        selected = next;
    }
    (!selected.is_empty()).then(|| selected.into_iter().map(|(p, v)| (p, v.clone())).collect())
}

fn resolve_claim(candidate: &Candidate, claim: &ClaimsQuery) -> Result<Vec<Disclosed>, String> {
    let found = resolve(&candidate.claims, &claim.path)
        .ok_or_else(|| format!("it has no claim at {}", path_json(&claim.path)))?;
    let kept: Vec<(Vec<Segment>, Value)> = if claim.values.is_empty() {
        found
    } else {
        found
            .into_iter()
            .filter(|(_, v)| claim.values.iter().any(|want| want.matches(v)))
            .collect()
    };
    if kept.is_empty() {
        return Err(format!(
            "its claim at {} has none of the values asked for",
            path_json(&claim.path)
        ));
    }
    Ok(kept
        .into_iter()
        .map(|(path, value)| Disclosed {
            claim_id: claim.id.clone(),
            path,
            value,
            intent_to_retain: claim.intent_to_retain.unwrap_or(false),
        })
        .collect())
}

/// Whether `candidate` answers `query`, and with which claims; else why not.
pub fn match_candidate(
    query: &CredentialQuery,
    candidate: &Candidate,
) -> Result<Vec<Disclosed>, String> {
    if candidate.format != query.format {
        return Err(format!("it is {}, not {}", candidate.format, query.format));
    }
    match &query.meta {
        Meta::MsoMdoc { doctype } if *doctype != candidate.doc_type => {
            return Err(format!("it is a {}, not a {doctype}", candidate.doc_type))
        }
        Meta::SdJwtVc { vcts } if !vcts.contains(&candidate.doc_type) => {
            return Err(format!(
                "its type {} is not one asked for",
                candidate.doc_type
            ))
        }
        Meta::Other(_) => return Err(format!("the format {} is not supported", query.format)),
        _ => {}
    }
    if !query.trusted_authorities.is_empty() {
        let trusted = query.trusted_authorities.iter().any(|a| {
            a.kind == "aki"
                && a.values.iter().any(|v| {
                    jose::b64url_decode(v)
                        .is_ok_and(|aki| candidate.authority_key_ids.contains(&aki))
                })
        });
        if !trusted {
            return Err("its issuer is not under an authority the relying party names".into());
        }
    }
    if query.require_holder_binding && !candidate.holder_bound {
        return Err("it is not bound to a device key".into());
    }
    let Some(claims) = &query.claims else {
        return Ok(Vec::new());
    };
    if query.claim_sets.is_empty() {
        let mut all = Vec::new();
        for claim in claims {
            all.extend(resolve_claim(candidate, claim)?);
        }
        return Ok(all);
    }
    let mut last = String::new();
    for set in &query.claim_sets {
        let mut all = Vec::new();
        let mut satisfied = true;
        for claim_id in set {
            let Some(claim) = claims.iter().find(|c| c.id.as_deref() == Some(claim_id)) else {
                satisfied = false;
                break;
            };
            match resolve_claim(candidate, claim) {
                Ok(found) => all.extend(found),
                Err(why) => {
                    last = why;
                    satisfied = false;
                    break;
                }
            }
        }
        if satisfied {
            return Ok(all);
        }
    }
    Err(format!("no claim set can be answered ({last})"))
}

/// Which credential queries the wallet can answer with `candidates`, following the credential
/// sets (the first satisfiable option of each); or why a required one cannot be.
pub fn evaluate(
    query: &DcqlQuery,
    candidates: &[Candidate],
) -> Result<Vec<Answerable>, Unsatisfiable> {
    let mut matches: Vec<(String, Vec<CredentialMatch>, Vec<String>)> = Vec::new();
    for q in &query.credentials {
        let mut found = Vec::new();
        let mut why = Vec::new();
        for (i, candidate) in candidates.iter().enumerate() {
            match match_candidate(q, candidate) {
                Ok(claims) => found.push(CredentialMatch {
                    candidate: i,
                    claims,
                }),
                Err(reason) => {
                    let same_kind = candidate.format == q.format
                        && match &q.meta {
                            Meta::MsoMdoc { doctype } => *doctype == candidate.doc_type,
                            Meta::SdJwtVc { vcts } => vcts.contains(&candidate.doc_type),
                            Meta::Other(_) => false,
                        };
                    // Only credentials of the kind asked for explain why they do not fit.
                    if same_kind {
                        why.push(reason);
                    }
                }
            }
        }
        matches.push((q.id.clone(), found, why));
    }
    let reason_for = |id: &str| -> String {
        let (_, _, why) = matches
            .iter()
            .find(|(q, _, _)| q == id)
            .map(|(a, b, c)| (a, b, c.clone()))
            .unwrap_or((&String::new(), &Vec::new(), Vec::new()));
        let kind = query
            .credential(id)
            .map(|q| match &q.meta {
                Meta::MsoMdoc { doctype } => doctype.clone(),
                Meta::SdJwtVc { vcts } => vcts.join(" or "),
                Meta::Other(_) => q.format.clone(),
            })
            .unwrap_or_default();
        if why.is_empty() {
            format!("{id}: the wallet holds no {kind}")
        } else {
            format!("{id}: no {kind} fits ({})", why.join("; "))
        }
    };
    let answerable = |id: &str| {
        matches
            .iter()
            .any(|(q, found, _)| q == id && !found.is_empty())
    };
    let mut chosen: Vec<(String, bool)> = Vec::new();
    let mut reasons = Vec::new();
    if query.credential_sets.is_empty() {
        for (id, found, _) in &matches {
            if found.is_empty() {
                reasons.push(reason_for(id));
            } else {
                chosen.push((id.clone(), true));
            }
        }
    } else {
        for set in &query.credential_sets {
            match set
                .options
                .iter()
                .find(|o| o.iter().all(|id| answerable(id)))
            {
                Some(option) => {
                    for id in option {
                        if !chosen.iter().any(|(c, _)| c == id) {
                            chosen.push((id.clone(), set.required));
                        } else if set.required {
                            for entry in chosen.iter_mut().filter(|(c, _)| c == id) {
                                entry.1 = true;
                            }
                        }
                    }
                }
                None if set.required => {
                    let missing: Vec<String> = set
                        .options
                        .iter()
                        .flat_map(|o| o.iter())
                        .filter(|id| !answerable(id))
                        .map(|id| reason_for(id))
                        .collect();
                    reasons.push(format!(
                        "no option of a required credential set can be answered: {}",
                        missing.join("; ")
                    ));
                }
                None => {}
            }
        }
    }
    if !reasons.is_empty() {
        return Err(Unsatisfiable { reasons });
    }
    Ok(chosen
        .into_iter()
        .filter_map(|(id, required)| {
            let (_, found, _) = matches.iter().find(|(q, _, _)| *q == id)?;
            Some(Answerable {
                query_id: id,
                matches: found.clone(),
                required,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mdl(age_over_18: bool) -> Candidate {
        Candidate {
            format: FORMAT_MDOC.into(),
            doc_type: "org.iso.18013.5.1.mDL".into(),
            claims: json!({"org.iso.18013.5.1": {
                "family_name": "홍", "given_name": "길동", "age_over_18": age_over_18,
                "driving_privileges": [{"vehicle_category_code": "B"}]}}),
            authority_key_ids: vec![vec![1, 2, 3]],
            holder_bound: true,
        }
    }

    fn pid() -> Candidate {
        Candidate {
            format: FORMAT_SD_JWT.into(),
            doc_type: "urn:eudi:pid:1".into(),
            claims: json!({"given_name": "Erika", "address": {"locality": "Berlin", "country": "DE"},
                "nationalities": ["DE", "FR"], "degrees": [{"type": "BSc"}, {"type": "MSc"}]}),
            authority_key_ids: vec![vec![9]],
            holder_bound: true,
        }
    }

    #[test]
    fn the_specification_examples_parse() {
        // OpenID4VP 1.0 section 6.4 style: an mdoc and an SD-JWT VC with claim sets, and
        // credential sets with an optional one.
        let query = DcqlQuery::parse(&json!({
            "credentials": [
                {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]},
                 "claims": [{"id": "a", "path": ["given_name"]}, {"id": "b", "path": ["address", "locality"]},
                            {"id": "c", "path": ["nationalities", null]}],
                 "claim_sets": [["a", "c"], ["a", "b"]]},
                {"id": "mdl", "format": "mso_mdoc", "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
                 "claims": [{"path": ["org.iso.18013.5.1", "family_name"], "intent_to_retain": false}]},
                {"id": "other", "format": "mso_mdoc", "meta": {"doctype_value": "org.example.other"}}
            ],
            "credential_sets": [
                {"options": [["pid"], ["mdl"]]},
                {"options": [["other"]], "required": false}
            ],
            "unknown_member": 1
        }))
        .unwrap();
        assert_eq!(query.credentials.len(), 3);
        assert_eq!(
            DcqlQuery::parse(&query.to_json()).unwrap(),
            query,
            "round trip"
        );
    }

    #[test]
    fn invalid_queries_are_refused() {
        for bad_query in [
            json!({}),
            json!({"credentials": []}),
            json!({"credentials": [{"id": "a b", "format": "mso_mdoc", "meta": {"doctype_value": "x"}}]}),
            json!({"credentials": [{"id": "a", "format": "mso_mdoc", "meta": {}}]}),
            json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": []}}]}),
            json!({"credentials": [{"id": "a", "format": "mso_mdoc", "meta": {"doctype_value": "x"},
                   "claims": [{"path": ["only-one"]}]}]}),
            json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
                   "claims": [{"path": [1.5]}]}]}),
            json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
                   "claim_sets": [["x"]]}]}),
            json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
                   "claims": [{"id": "x", "path": ["p"]}], "claim_sets": [["y"]]}]}),
            json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]}},
                                   {"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]}}]}),
            json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]}}],
                   "credential_sets": [{"options": [["b"]]}]}),
            json!({"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
                   "multiple": "yes"}]}),
        ] {
            assert!(DcqlQuery::parse(&bad_query).is_err(), "{bad_query}");
        }
    }

    #[test]
    fn paths_select_as_the_specification_says() {
        let claims = pid().claims;
        let key = |k: &str| PathElement::Key(k.into());
        let found = resolve(&claims, &[key("degrees"), PathElement::All, key("type")]).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(pointer(&found[1].0), "/degrees/1/type");
        assert_eq!(
            resolve(&claims, &[key("nationalities"), PathElement::Index(1)]).unwrap()[0].1,
            "FR"
        );
        assert!(resolve(&claims, &[key("missing")]).is_none());
        assert!(
            resolve(&claims, &[key("given_name"), PathElement::All]).is_none(),
            "not an array"
        );
        assert!(
            resolve(&claims, &[key("nationalities"), key("x")]).is_none(),
            "not an object"
        );
        assert_eq!(pointer(&[Segment::Key("a/b~c".into())]), "/a~1b~0c");
    }

    #[test]
    fn matching_values_claim_sets_and_credential_sets() {
        let query = DcqlQuery::parse(&json!({
            "credentials": [
                {"id": "adult", "format": "mso_mdoc", "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
                 "claims": [{"path": ["org.iso.18013.5.1", "age_over_18"], "values": [true]}]},
                {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]},
                 "claims": [{"id": "city", "path": ["address", "city"]},
                            {"id": "locality", "path": ["address", "locality"]}],
                 "claim_sets": [["city"], ["locality"]]}
            ],
            "credential_sets": [{"options": [["adult"], ["pid"]]}]
        }))
        .unwrap();
        // The minor's licence does not satisfy "adult": the PID answers the set instead.
        let answer = evaluate(&query, &[mdl(false), pid()]).unwrap();
        assert_eq!(answer.len(), 1);
        assert_eq!(answer[0].query_id, "pid");
        assert_eq!(
            pointer(&answer[0].matches[0].claims[0].path),
            "/address/locality"
        );
        // With an adult's licence, the first option wins.
        let answer = evaluate(&query, &[mdl(true), pid()]).unwrap();
        assert_eq!(answer[0].query_id, "adult");
        assert_eq!(answer[0].matches[0].candidate, 0);
        // Nothing fits: the reasons name each query.
        let err = evaluate(&query, &[mdl(false)]).unwrap_err();
        assert!(err.to_string().contains("none of the values"), "{err}");
        assert!(err.to_string().contains("holds no urn:eudi:pid:1"), "{err}");
    }

    #[test]
    fn trusted_authorities_and_holder_binding() {
        let query = |aki: &[u8]| {
            DcqlQuery::parse(&json!({"credentials": [{"id": "m", "format": "mso_mdoc",
                "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
                "trusted_authorities": [{"type": "aki", "values": [jose::b64url(aki)]}]}]}))
            .unwrap()
        };
        assert!(evaluate(&query(&[1, 2, 3]), &[mdl(true)]).is_ok());
        assert!(evaluate(&query(&[4]), &[mdl(true)]).is_err());
        let mut unbound = mdl(true);
        unbound.holder_bound = false;
        assert!(evaluate(&query(&[1, 2, 3]), &[unbound]).is_err());
    }
}
