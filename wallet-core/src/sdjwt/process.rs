//! Applying disclosures to an SD-JWT payload (RFC 9901 section 7.1, steps 3 to 5), for the
//! verifier and the holder alike.
//!
//! The walk uses an explicit stack and an arena, never recursion, and refuses a payload whose
//! claims nest deeper than [`MAX_CLAIMS_DEPTH`] or whose disclosures nest deeper than
//! [`MAX_DISCLOSURE_DEPTH`]: a hostile SD-JWT costs bounded stack and memory, and every
//! disclosed subtree is built once (no clone per level).

use serde_json::{Map, Value};

use super::disclosure::{Disclosure, SdAlg};
use super::SdJwtError;
use crate::limits::{MAX_CLAIMS_DEPTH, MAX_DISCLOSURES, MAX_DISCLOSURE_DEPTH};

/// The payload with its disclosures applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The claims with every disclosure applied and `_sd`, `_sd_alg` and undisclosed array
    /// placeholders removed.
    pub claims: Value,
    /// Each applied disclosure, in document order: the path of the claim it discloses (JSON
    /// pointer syntax; array elements by their index in the issuer's array, counting
    /// undisclosed ones), the disclosed value with nested disclosures applied, and the
    /// disclosure's index in the SD-JWT.
    pub disclosed: Vec<(String, Value, usize)>,
}

/// One node of the output tree.
enum Node<'a> {
    Object(Vec<(String, usize)>),
    Array(Vec<usize>),
    Leaf(&'a Value),
}

struct Pending<'a> {
    source: &'a Value,
    node: usize,
    path: String,
    depth: usize,
    disclosure_depth: usize,
}

/// `parent` followed by `/` and `key` escaped as a JSON pointer token (RFC 6901).
pub(crate) fn child_path(parent: &str, key: &str) -> String {
    let mut path = String::with_capacity(parent.len() + key.len() + 1);
    path.push_str(parent);
    path.push('/');
    if key.contains(['~', '/']) {
        for c in key.chars() {
            match c {
                '~' => path.push_str("~0"),
                '/' => path.push_str("~1"),
                c => path.push(c),
            }
        }
    } else {
        path.push_str(key);
    }
    path
}

/// The index of the disclosure whose digest is `digest`, in `by_digest` sorted by digest.
fn find(by_digest: &[(String, usize)], digest: &str) -> Option<usize> {
    by_digest
        .binary_search_by(|(d, _)| d.as_str().cmp(digest))
        .ok()
        .and_then(|at| by_digest.get(at))
        .map(|(_, index)| *index)
}

/// Applies `disclosures` (decoded, in presentation order) to `payload`, hashing with `alg`.
/// Every disclosure must be referenced exactly once, by a digest in the right kind of
/// container; a digest may appear only once; a disclosed name may not clash with a claim.
pub fn apply(
    payload: &Value,
    disclosures: &[Disclosure],
    alg: SdAlg,
) -> Result<Applied, SdJwtError> {
    if disclosures.len() > MAX_DISCLOSURES {
        return Err(SdJwtError::Malformed(format!(
            "{} disclosures (at most {MAX_DISCLOSURES})",
            disclosures.len()
        )));
    }
    // Sorted digests and binary search rather than a hash map: a few dozen short keys, and
    // no hashing of input with a keyed hasher on every lookup.
    let mut by_digest: Vec<(String, usize)> = disclosures
        .iter()
        .enumerate()
        .map(|(i, d)| (d.digest(alg), i))
        .collect();
    by_digest.sort_unstable();
    if let Some(pair) = by_digest
        .windows(2)
        .find(|w| matches!(w, [a, b] if a.0 == b.0))
    {
        let index = pair.first().map_or(0, |(_, i)| *i);
        let encoded = disclosures.get(index).map(|d| d.encoded.clone());
        return Err(SdJwtError::DuplicateDisclosure(encoded.unwrap_or_default()));
    }
    // Digests no disclosure matches (decoys, undisclosed claims): checked for repeats at the
    // end. A repeated matching digest is caught when its disclosure is found already used.
    let mut unmatched: Vec<&str> = Vec::new();
    let mut used = vec![false; disclosures.len()];
    let mut disclosed_nodes: Vec<(String, usize, usize)> = Vec::new();
    let mut nodes: Vec<Node<'_>> = vec![Node::Leaf(payload)];
    let mut stack = vec![Pending {
        source: payload,
        node: 0,
        path: String::new(),
        depth: 1,
        disclosure_depth: 0,
    }];

    while let Some(p) = stack.pop() {
        if p.depth > MAX_CLAIMS_DEPTH {
            return Err(SdJwtError::Malformed(format!(
                "claims nested deeper than {MAX_CLAIMS_DEPTH} levels"
            )));
        }
        match p.source {
            Value::Object(map) => {
                let mut disclosed_names: Vec<&str> = Vec::new();
                let mut children: Vec<(String, usize)> = Vec::with_capacity(map.len());
                for (key, value) in map {
                    if key == "_sd" || (p.node == 0 && key == "_sd_alg") {
                        continue;
                    }
                    let id = nodes.len();
                    nodes.push(Node::Leaf(value));
                    children.push((key.clone(), id));
                    stack.push(Pending {
                        source: value,
                        node: id,
                        path: child_path(&p.path, key),
                        depth: p.depth + 1,
                        disclosure_depth: p.disclosure_depth,
                    });
                }
                if let Some(sd) = map.get("_sd") {
                    let Value::Array(digests) = sd else {
                        return Err(SdJwtError::Malformed("_sd is not an array".into()));
                    };
                    for digest in digests {
                        let digest = digest.as_str().ok_or_else(|| {
                            SdJwtError::Malformed("_sd digest is not a string".into())
                        })?;
                        // A digest no disclosure matches is a decoy or an undisclosed claim.
                        let Some(index) = find(&by_digest, digest) else {
                            unmatched.push(digest);
                            continue;
                        };
                        if used.get(index).copied().unwrap_or(false) {
                            return Err(SdJwtError::DuplicateDigest(digest.to_owned()));
                        }
                        let disclosure = disclosures.get(index).ok_or_else(|| {
                            SdJwtError::Malformed("disclosure index out of range".into())
                        })?;
                        let name = disclosure.name.as_deref().ok_or_else(|| {
                            SdJwtError::Malformed(
                                "an array-element disclosure is referenced from _sd".into(),
                            )
                        })?;
                        if map.contains_key(name) || disclosed_names.contains(&name) {
                            return Err(SdJwtError::ClaimConflict(format!(
                                "{}/{name} is both disclosed and present",
                                p.path
                            )));
                        }
                        if p.disclosure_depth + 1 > MAX_DISCLOSURE_DEPTH {
                            return Err(SdJwtError::Malformed(format!(
                                "disclosures nested deeper than {MAX_DISCLOSURE_DEPTH} levels"
                            )));
                        }
                        if let Some(flag) = used.get_mut(index) {
                            *flag = true;
                        }
                        disclosed_names.push(name);
                        let id = nodes.len();
                        nodes.push(Node::Leaf(&disclosure.value));
                        children.push((name.to_owned(), id));
                        let path = child_path(&p.path, name);
                        disclosed_nodes.push((path.clone(), id, index));
                        stack.push(Pending {
                            source: &disclosure.value,
                            node: id,
                            path,
                            depth: p.depth + 1,
                            disclosure_depth: p.disclosure_depth + 1,
                        });
                    }
                }
                if let Some(slot) = nodes.get_mut(p.node) {
                    *slot = Node::Object(children);
                }
            }
            Value::Array(items) => {
                let mut children = Vec::with_capacity(items.len());
                for (position, item) in items.iter().enumerate() {
                    let path = format!("{}/{position}", p.path);
                    let placeholder = item
                        .as_object()
                        .filter(|o| o.len() == 1)
                        .and_then(|o| o.get("..."));
                    let (source, disclosure_depth) = match placeholder {
                        Some(digest) => {
                            let digest = digest.as_str().ok_or_else(|| {
                                SdJwtError::Malformed("'...' digest is not a string".into())
                            })?;
                            let Some(index) = find(&by_digest, digest) else {
                                unmatched.push(digest);
                                continue;
                            };
                            if used.get(index).copied().unwrap_or(false) {
                                return Err(SdJwtError::DuplicateDigest(digest.to_owned()));
                            }
                            let disclosure = disclosures.get(index).ok_or_else(|| {
                                SdJwtError::Malformed("disclosure index out of range".into())
                            })?;
                            if disclosure.name.is_some() {
                                return Err(SdJwtError::Malformed(
                                    "an object-property disclosure is referenced from an array"
                                        .into(),
                                ));
                            }
                            if p.disclosure_depth + 1 > MAX_DISCLOSURE_DEPTH {
                                return Err(SdJwtError::Malformed(format!(
                                    "disclosures nested deeper than {MAX_DISCLOSURE_DEPTH} levels"
                                )));
                            }
                            if let Some(flag) = used.get_mut(index) {
                                *flag = true;
                            }
                            disclosed_nodes.push((path.clone(), nodes.len(), index));
                            (&disclosure.value, p.disclosure_depth + 1)
                        }
                        None => (item, p.disclosure_depth),
                    };
                    let id = nodes.len();
                    nodes.push(Node::Leaf(source));
                    children.push(id);
                    stack.push(Pending {
                        source,
                        node: id,
                        path,
                        depth: p.depth + 1,
                        disclosure_depth,
                    });
                }
                if let Some(slot) = nodes.get_mut(p.node) {
                    *slot = Node::Array(children);
                }
            }
            _ => {}
        }
    }

    unmatched.sort_unstable();
    if let Some(pair) = unmatched.windows(2).find(|w| matches!(w, [a, b] if a == b)) {
        let digest = pair.first().copied().unwrap_or_default();
        return Err(SdJwtError::DuplicateDigest(digest.to_owned()));
    }
    if let Some(unused) = used
        .iter()
        .zip(disclosures)
        .find_map(|(u, d)| (!u).then_some(d))
    {
        return Err(SdJwtError::UnreferencedDisclosure(unused.encoded.clone()));
    }

    // Children always come after their parent in `nodes`: build from the last node back.
    let mut wanted: Vec<Option<usize>> = vec![None; nodes.len()];
    for (i, (_, node, _)) in disclosed_nodes.iter().enumerate() {
        if let Some(slot) = wanted.get_mut(*node) {
            *slot = Some(i);
        }
    }
    let mut disclosed_values: Vec<Option<Value>> = vec![None; disclosed_nodes.len()];
    let mut built: Vec<Option<Value>> = Vec::with_capacity(nodes.len());
    built.resize_with(nodes.len(), || None);
    for id in (0..nodes.len()).rev() {
        let mut take = |child: usize| {
            built
                .get_mut(child)
                .and_then(Option::take)
                .ok_or_else(|| SdJwtError::Malformed("claims tree out of order".into()))
        };
        let value = match nodes.get(id) {
            Some(Node::Object(children)) => {
                let mut map = Map::new();
                for (key, child) in children {
                    map.insert(key.clone(), take(*child)?);
                }
                Value::Object(map)
            }
            Some(Node::Array(children)) => Value::Array(
                children
                    .iter()
                    .map(|c| take(*c))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(Node::Leaf(v)) => (*v).clone(),
            None => return Err(SdJwtError::Malformed("claims tree out of order".into())),
        };
        if let Some(&Some(i)) = wanted.get(id) {
            if let Some(slot) = disclosed_values.get_mut(i) {
                *slot = Some(value.clone());
            }
        }
        if let Some(slot) = built.get_mut(id) {
            *slot = Some(value);
        }
    }
    let claims = built
        .into_iter()
        .next()
        .flatten()
        .ok_or_else(|| SdJwtError::Malformed("empty claims".into()))?;
    let disclosed = disclosed_nodes
        .into_iter()
        .zip(disclosed_values)
        .map(|((path, _, index), value)| (path, value.unwrap_or(Value::Null), index))
        .collect();
    Ok(Applied { claims, disclosed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn disclose(name: Option<&str>, value: Value) -> Disclosure {
        Disclosure::new(name, value).unwrap()
    }

    #[test]
    fn nested_disclosures_apply_without_recursion() {
        // A chain of disclosures, each an object holding the next one's digest.
        let depth = MAX_DISCLOSURE_DEPTH;
        let mut disclosures = Vec::new();
        let mut inner = json!({"leaf": true});
        for level in 0..depth {
            let d = disclose(Some(&format!("l{level}")), inner);
            inner = json!({ "_sd": [d.digest(SdAlg::Sha256)] });
            disclosures.push(d);
        }
        let applied = apply(&inner, &disclosures, SdAlg::Sha256).unwrap();
        assert_eq!(applied.disclosed.len(), depth);
        let mut too_deep = disclosures;
        let d = disclose(Some("one_more"), inner);
        let payload = json!({ "_sd": [d.digest(SdAlg::Sha256)] });
        too_deep.push(d);
        assert!(matches!(
            apply(&payload, &too_deep, SdAlg::Sha256),
            Err(SdJwtError::Malformed(m)) if m.contains("nested deeper")
        ));
    }

    #[test]
    fn array_elements_keep_their_issued_index() {
        let fr = disclose(None, json!("FR"));
        let de = disclose(None, json!("DE"));
        let payload = json!({
            "nationalities": [{"...": fr.digest(SdAlg::Sha256)}, {"...": de.digest(SdAlg::Sha256)}, "KR"]
        });
        let applied = apply(&payload, std::slice::from_ref(&de), SdAlg::Sha256).unwrap();
        assert_eq!(applied.claims, json!({"nationalities": ["DE", "KR"]}));
        assert_eq!(applied.disclosed.len(), 1);
        assert_eq!(applied.disclosed[0].0, "/nationalities/1");
        assert_eq!(applied.disclosed[0].1, json!("DE"));
    }

    #[test]
    fn refuses_misplaced_duplicate_and_unused_disclosures() {
        let named = disclose(Some("a"), json!(1));
        let also_a = disclose(Some("a"), json!(3));
        let element = disclose(None, json!(2));
        let h = |d: &Disclosure| d.digest(SdAlg::Sha256);
        let decoy = SdAlg::Sha256.digest("decoy");
        type Check = fn(&SdJwtError) -> bool;
        let malformed: Check = |e| matches!(e, SdJwtError::Malformed(_));
        let digest_twice: Check = |e| matches!(e, SdJwtError::DuplicateDigest(_));
        let conflict: Check = |e| matches!(e, SdJwtError::ClaimConflict(_));
        let cases: [(Value, Vec<Disclosure>, Check); 11] = [
            (
                json!({"_sd": [h(&element)]}),
                vec![element.clone()],
                malformed,
            ),
            (
                json!({"x": [{"...": h(&named)}]}),
                vec![named.clone()],
                malformed,
            ),
            (
                json!({"_sd": [h(&named), h(&named)]}),
                vec![named.clone()],
                digest_twice,
            ),
            // The same digest in an object and in an array.
            (
                json!({"_sd": [h(&element)], "x": [{"...": h(&element)}]}),
                vec![],
                digest_twice,
            ),
            (
                json!({"x": [{"...": h(&element)}], "y": [{"...": h(&element)}]}),
                vec![element.clone()],
                digest_twice,
            ),
            // A decoy repeated, in one object or across the payload.
            (
                json!({"_sd": [decoy.clone(), decoy.clone()]}),
                vec![],
                digest_twice,
            ),
            (
                json!({"_sd": [decoy.clone()], "o": {"_sd": [decoy.clone()]}}),
                vec![],
                digest_twice,
            ),
            (
                json!({"a": 0, "_sd": [h(&named)]}),
                vec![named.clone()],
                conflict,
            ),
            (
                json!({"_sd": [h(&named), h(&also_a)]}),
                vec![named.clone(), also_a.clone()],
                conflict,
            ),
            (json!({"b": 0}), vec![named.clone()], |e| {
                matches!(e, SdJwtError::UnreferencedDisclosure(_))
            }),
            (
                json!({"_sd": [h(&named)]}),
                vec![named.clone(), named.clone()],
                |e| matches!(e, SdJwtError::DuplicateDisclosure(_)),
            ),
        ];
        for (payload, ds, expected) in cases {
            match apply(&payload, &ds, SdAlg::Sha256) {
                Err(e) => assert!(expected(&e), "{payload}: {e:?}"),
                Ok(_) => panic!("{payload} was accepted"),
            }
        }
        assert!(matches!(
            apply(&json!({"_sd": "x"}), &[], SdAlg::Sha256),
            Err(SdJwtError::Malformed(_))
        ));
        // Decoys that differ are fine, and a disclosure may sit beside them.
        let other = SdAlg::Sha256.digest("other decoy");
        let applied = apply(
            &json!({"_sd": [decoy, h(&named), other]}),
            std::slice::from_ref(&named),
            SdAlg::Sha256,
        )
        .unwrap();
        assert_eq!(applied.claims, json!({"a": 1}));
    }

    #[test]
    fn a_digest_inside_a_disclosure_counts_with_those_of_the_payload() {
        let inner = disclose(Some("locality"), json!("종로구"));
        let h = |d: &Disclosure| d.digest(SdAlg::Sha256);
        let address = disclose(Some("address"), json!({"_sd": [h(&inner)]}));
        // The inner digest also sits in the payload: refused whether the inner disclosure is
        // presented or withheld.
        let payload = json!({"_sd": [h(&address), h(&inner)]});
        for presented in [vec![address.clone(), inner.clone()], vec![address.clone()]] {
            assert!(
                matches!(
                    apply(&payload, &presented, SdAlg::Sha256),
                    Err(SdJwtError::DuplicateDigest(_) | SdJwtError::ClaimConflict(_))
                ),
                "{} presented",
                presented.len()
            );
        }
    }

    #[test]
    fn paths_escape_tilde_and_slash() {
        let odd = disclose(Some("a/b~c"), json!(1));
        let payload = json!({"o~/": {"_sd": [odd.digest(SdAlg::Sha256)]}});
        let applied = apply(&payload, std::slice::from_ref(&odd), SdAlg::Sha256).unwrap();
        assert_eq!(applied.disclosed[0].0, "/o~0~1/a~1b~0c");
        assert_eq!(applied.claims.pointer("/o~0~1/a~1b~0c"), Some(&json!(1)));
    }

    #[test]
    fn deep_plain_claims_are_refused() {
        let mut value = json!(1);
        for _ in 0..MAX_CLAIMS_DEPTH + 1 {
            value = json!([value]);
        }
        assert!(apply(&json!({ "deep": value }), &[], SdAlg::Sha256).is_err());
    }
}
