//! The module tree tells the truth: each capability imports only the layers its module doc
//! names, and nothing but `api` reaches the exported surface. A new `crate::` path that
//! crosses a line fails here, naming the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

/// Each top-level module and the modules it may import (`limits` and `time` are leaves any
/// module may use).
const ALLOWED: &[(&str, &[&str])] = &[
    ("crypto", &[]),
    ("journal", &["crypto"]),
    ("policy", &[]),
    ("cose", &["crypto"]),
    ("trust", &["cose", "crypto"]),
    ("store", &["crypto", "trust", "journal"]),
    ("access", &["cose", "crypto", "store"]),
    ("mdoc", &["cose", "crypto", "trust"]),
    ("sdjwt", &["crypto", "trust"]),
    ("documents", &["cose", "crypto", "trust"]),
    ("inbox", &["cose"]),
    ("benefits", &["cose"]),
    (
        "issuance",
        &["cose", "crypto", "trust", "mdoc", "sdjwt", "verifier"],
    ),
    ("verifier", &["cose", "crypto", "mdoc", "sdjwt", "trust"]),
    (
        "openid4vp",
        &["cose", "crypto", "mdoc", "sdjwt", "trust", "verifier"],
    ),
    (
        "issuer",
        &[
            "benefits",
            "cose",
            "crypto",
            "documents",
            "inbox",
            "policy",
            "mdoc",
            "sdjwt",
            "trust",
            "verifier",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file names through `crate::`.
fn imports(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in source.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
            rest = tail;
        }
    }
    found
}

#[test]
fn every_module_imports_only_what_its_doc_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for (module, allowed) in ALLOWED {
        let mut files = Vec::new();
        rust_files(&src.join(module), &mut files);
        assert!(!files.is_empty(), "no sources for {module}");
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            for name in imports(&source) {
                let ok = name == *module
                    || name == "limits"
                    || name == "time"
                    || allowed.contains(&name.as_str());
                if !ok {
                    violations.push(format!(
                        "{} imports crate::{name}",
                        file.strip_prefix(&src).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layer violations:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_test_authority_is_reached_only_through_api_authority() {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut files = Vec::new();
    rust_files(&api, &mut files);
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        if file.file_name().is_some_and(|n| n != "authority.rs") {
            assert!(
                !imports(&source).contains("issuer"),
                "{} imports the test authority (crate::issuer)",
                file.display()
            );
        }
    }
}

#[test]
fn every_folder_says_what_it_owns_and_must_never_import() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let doc = std::fs::read_to_string(path.join("mod.rs")).unwrap();
            let header: String = doc
                .lines()
                .take_while(|l| l.starts_with("//!"))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                header.contains("Owns:") && header.contains("never"),
                "{}/mod.rs does not say what it owns and must never import",
                path.display()
            );
        }
    }
}
