//! The few URL operations issuance needs, on text from outside: checking that an identifier or
//! an endpoint is an `https` URL (or plain `http` on the loopback interface, when the host
//! allowed it for testing), building well-known locations (RFC 8414 section 3), and reading
//! and writing query strings (with the `form_urlencoded` crate). No byte-index slicing: every
//! split is on ASCII delimiters.

use super::error::{IssuanceError, IssuanceFailure};
use crate::limits::MAX_URL_BYTES;

/// Which URLs a flow accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UrlPolicy {
    /// Accept `http://` on 127.0.0.1, `localhost` and `[::1]` (test servers); `https` only
    /// otherwise.
    pub allow_loopback_http: bool,
}

fn bad(what: &str, why: &str) -> IssuanceError {
    IssuanceError::new(IssuanceFailure::Metadata, format!("{what}: {why}"))
}

/// The scheme, the authority and the rest (path, query, fragment) of an absolute URL.
fn split(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at_checked(end)?;
    Some((scheme, authority, tail))
}

/// The host of an authority, without port (brackets kept for IPv6).
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .split_once(']')
            .map_or(authority, |(h, _)| h.strip_prefix('[').unwrap_or(h));
    }
    authority.split(':').next().unwrap_or(authority)
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

/// Checks that `url` is an absolute `https` URL without user info or fragment (or loopback
/// `http` when `policy` allows), at most [`MAX_URL_BYTES`] of visible ASCII.
pub fn check(url: &str, what: &str, policy: UrlPolicy) -> Result<(), IssuanceError> {
    if url.len() > MAX_URL_BYTES {
        return Err(bad(what, "longer than the limit"));
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(what, "not a URL of visible ASCII characters"));
    }
    let (scheme, authority, tail) = split(url).ok_or_else(|| bad(what, "not an absolute URL"))?;
    if authority.is_empty() || authority.contains('@') {
        return Err(bad(what, "no host, or user information in the URL"));
    }
    if tail.contains('#') {
        return Err(bad(what, "a fragment in the URL"));
    }
    match scheme {
        "https" => Ok(()),
        "http" if policy.allow_loopback_http && is_loopback(host_of(authority)) => Ok(()),
        _ => Err(bad(what, "not an https URL")),
    }
}

/// The well-known location `suffix` (e.g. `openid-credential-issuer`) of `identifier`: the
/// well-known path goes between the host and the identifier's path, whose terminating `/` is
/// removed (RFC 8414 section 3.1; OpenID4VCI 1.0 section 12.2.2).
pub fn well_known(identifier: &str, suffix: &str) -> Result<String, IssuanceError> {
    let (scheme, authority, path) =
        split(identifier).ok_or_else(|| bad("identifier", "not an absolute URL"))?;
    if path.contains(['?', '#']) {
        return Err(bad("identifier", "an identifier has no query or fragment"));
    }
    let path = path.strip_suffix('/').unwrap_or(path);
    Ok(format!("{scheme}://{authority}/.well-known/{suffix}{path}"))
}

/// The query parameters of a URL (after `?`, before `#`), decoded.
pub fn query(url: &str) -> Vec<(String, String)> {
    let Some((_, after)) = url.split_once('?') else {
        return Vec::new();
    };
    let query = after.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The part of a URL before its query and fragment.
pub fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// `url` with `params` appended to its query.
pub fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let encoded = form(params);
    if url.contains('?') {
        format!("{url}&{encoded}")
    } else {
        format!("{url}?{encoded}")
    }
}

/// `params` as an `application/x-www-form-urlencoded` body.
pub fn form(params: &[(&str, &str)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        out.append_pair(name, value);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_only_unless_loopback_http_is_allowed() {
        let strict = UrlPolicy::default();
        let loopback = UrlPolicy {
            allow_loopback_http: true,
        };
        assert!(check("https://issuer.example/tenant", "x", strict).is_ok());
        assert!(check("http://issuer.example", "x", loopback).is_err());
        assert!(check("http://127.0.0.1:8080", "x", strict).is_err());
        assert!(check("http://127.0.0.1:8080/x", "x", loopback).is_ok());
        assert!(check("http://[::1]:80", "x", loopback).is_ok());
        assert!(check("http://localhost.evil.example", "x", loopback).is_err());
        assert!(check("https://user@issuer.example", "x", strict).is_err());
        assert!(check("https://issuer.example/#frag", "x", strict).is_err());
        assert!(check("https://issuer.example/ é", "x", strict).is_err());
        assert!(check("https:///path", "x", strict).is_err());
        assert!(check("issuer.example", "x", strict).is_err());
        assert!(check(&format!("https://a/{}", "x".repeat(3000)), "x", strict).is_err());
    }

    #[test]
    fn well_known_goes_between_host_and_path() {
        assert_eq!(
            well_known("https://issuer.example.com", "openid-credential-issuer").unwrap(),
            "https://issuer.example.com/.well-known/openid-credential-issuer"
        );
        assert_eq!(
            well_known("https://issuer.example.com/", "openid-credential-issuer").unwrap(),
            "https://issuer.example.com/.well-known/openid-credential-issuer"
        );
        assert_eq!(
            well_known(
                "https://issuer.example.com/tenant",
                "oauth-authorization-server"
            )
            .unwrap(),
            "https://issuer.example.com/.well-known/oauth-authorization-server/tenant"
        );
        assert!(well_known("https://i.example/?q", "x").is_err());
    }

    #[test]
    fn queries_round_trip() {
        let url = with_query("https://as.example/authorize", &[("a", "1 2"), ("b", "&=")]);
        assert_eq!(url, "https://as.example/authorize?a=1+2&b=%26%3D");
        assert_eq!(
            query(&url),
            [("a".into(), "1 2".into()), ("b".into(), "&=".into())]
        );
        assert_eq!(without_query(&url), "https://as.example/authorize");
        assert_eq!(query("no-query"), []);
        assert_eq!(query("app://cb?code=x#frag"), [("code".into(), "x".into())]);
    }
}
