//! The `jigap` binary as a user runs it: exit codes, one-line errors, JSON output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output, Stdio};

struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn new() -> Self {
        Run {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn wallet(&self) -> String {
        self.dir
            .path()
            .join("w.jigap")
            .to_string_lossy()
            .into_owned()
    }

    fn jigap(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_jigap"));
        cmd.arg("--wallet").arg(self.wallet()).args(args);
        cmd.env_remove("JIGAP_PIN")
            .env_remove("JIGAP_NEW_PIN")
            .env_remove("JIGAP_WALLET");
        cmd.env("JIGAP_PASSPHRASE", "cli test passphrase");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        {
            use std::io::Write;
            let mut input = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).unwrap();
            }
        }
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.jigap(args, env, None);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(self.ok(&all, env).trim()).unwrap()
    }

    fn fails(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.jigap(args, env, None);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.starts_with("jigap: error: "), "{err}");
        err
    }
}

#[test]
fn init_status_pin_and_credentials() {
    let run = Run::new();
    assert!(run.fails(&["status"], &[]).contains("not found"));
    run.ok(&["init"], &[]);
    assert!(run.fails(&["init"], &[]).contains("already exists"));
    let status = run.json(&["status"], &[]);
    assert_eq!(status["pin_set"], false);
    assert_eq!(status["credential_count"], 0);

    // PIN from stdin when the variable is unset.
    let out = run.jigap(&["pin", "set"], &[], Some("135790\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wrong = run.fails(&["pin", "verify"], &[("JIGAP_PIN", "000000")]);
    assert!(wrong.contains("4 tries left"), "{wrong}");
    run.ok(&["pin", "verify"], &[("JIGAP_PIN", "135790")]);

    // A device key exported for another issuer, which issues to it; the wallet then imports
    // the credential after checking it.
    let pin = [("JIGAP_PIN", "135790")];
    let public = run.dir.path().join("device.pub");
    let key = run.json(&["keys", "create", "--out", public.to_str().unwrap()], &pin);
    let alias = key["alias"].as_str().unwrap().to_owned();
    assert_eq!(key["jwk"]["crv"], "P-256");
    assert_eq!(std::fs::read(&public).unwrap().len(), 65);
    let authority = run.dir.path().join("npa");
    run.ok(
        &[
            "issuer",
            "init",
            "--dir",
            authority.to_str().unwrap(),
            "--name",
            "KR NPA",
        ],
        &[],
    );
    let file = run.dir.path().join("mdl.cbor");
    run.ok(
        &[
            "issue",
            "mdl",
            "--issuer",
            authority.to_str().unwrap(),
            "--public-key",
            public.to_str().unwrap(),
            "--out",
            file.to_str().unwrap(),
            "--family-name",
            "Hong",
            "--given-name",
            "Gildong",
            "--birth-date",
            "1990-05-05",
        ],
        &[],
    );
    let bytes = std::fs::read(&file).unwrap();
    // 100 random bytes, or a credential for another key, are refused and nothing is stored.
    let junk = run.dir.path().join("junk.bin");
    std::fs::write(
        &junk,
        (0..100u32).map(|i| (i * 89 + 7) as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    let err = run.fails(
        &[
            "credentials",
            "import",
            junk.to_str().unwrap(),
            "--key-alias",
            &alias,
        ],
        &pin,
    );
    assert!(err.contains("verification failed"), "{err}");
    let other = run.json(&["keys", "create"], &pin)["alias"]
        .as_str()
        .unwrap()
        .to_owned();
    let err = run.fails(
        &[
            "credentials",
            "import",
            file.to_str().unwrap(),
            "--key-alias",
            &other,
        ],
        &pin,
    );
    assert!(err.contains("different device key"), "{err}");
    assert_eq!(run.json(&["credentials", "list"], &pin)["total"], 0);
    let stored = run.json(
        &[
            "credentials",
            "import",
            file.to_str().unwrap(),
            "--key-alias",
            &alias,
        ],
        &pin,
    );
    let id = stored["id"].as_str().unwrap().to_owned();
    let issuer = stored["issuer"].as_str().unwrap().to_owned();
    assert!(issuer.contains("KR NPA Document Signer"), "{issuer}");
    let list = run.json(&["credentials", "list", "--issuer", &issuer], &pin);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["display_name_ko"], "모바일 운전면허증");
    let out_file = run.dir.path().join("out.bin");
    let shown = run.json(
        &[
            "credentials",
            "show",
            &id,
            "--raw-out",
            out_file.to_str().unwrap(),
        ],
        &pin,
    );
    assert_eq!(shown["raw_length"], bytes.len());
    assert_eq!(std::fs::read(&out_file).unwrap(), bytes);
    run.ok(&["credentials", "set-state", &id, "suspended"], &pin);
    assert_eq!(
        run.json(&["credentials", "list", "--state", "suspended"], &pin)["total"],
        1
    );
    // Locked without the PIN.
    assert!(run
        .fails(&["credentials", "list"], &[])
        .contains("PIN needed"));
    assert!(run
        .fails(&["credentials", "list"], &[("JIGAP_PIN", "111111")])
        .contains("wrong PIN"));
    run.ok(&["credentials", "delete", &id], &pin);
    assert!(run
        .fails(&["credentials", "show", &id], &pin)
        .contains("not found"));

    run.ok(
        &["pin", "change"],
        &[("JIGAP_PIN", "135790"), ("JIGAP_NEW_PIN", "864200")],
    );
    run.ok(&["pin", "verify"], &[("JIGAP_PIN", "864200")]);
}

#[test]
fn wrong_passphrase_and_corrupt_files_are_one_line_errors() {
    let run = Run::new();
    run.ok(&["init"], &[]);
    let err = run.fails(&["status"], &[("JIGAP_PASSPHRASE", "wrong")]);
    assert!(err.contains("wrong passphrase"), "{err}");
    std::fs::write(run.wallet(), vec![0x5a; 4096]).unwrap();
    let err = run.fails(&["status"], &[]);
    assert!(err.contains("corrupt"), "{err}");
    assert_eq!(
        std::fs::read(run.wallet()).unwrap(),
        vec![0x5a; 4096],
        "left alone"
    );
}

#[test]
fn wipe_needs_confirmation_and_reports() {
    let run = Run::new();
    run.ok(&["init"], &[]);
    assert!(run.fails(&["wipe"], &[]).contains("--yes"));
    let report = run.json(&["wipe", "--yes"], &[]);
    assert_eq!(report["data_key_destroyed"], true);
    assert_eq!(report["records_removed"], 2);
}

#[test]
fn demo_runs_the_whole_story() {
    let run = Run::new();
    let out = run.json(&["demo"], &[]);
    assert_eq!(out["demo"], "ok");
    let steps: Vec<&str> = out["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    for expected in [
        "open",
        "pin",
        "issuer",
        "offer",
        "issue",
        "engage",
        "request",
        "verify",
        "policy",
        "certificate",
        "online",
        "revoke",
        "record",
        "reopen",
        "wipe",
    ] {
        assert!(
            steps.contains(&expected),
            "{expected} missing from {steps:?}"
        );
    }
    let detail = |step: &str| -> String {
        out["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["step"] == step)
            .map(|s| s["detail"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
            .join(" / ")
    };
    assert!(
        detail("online").contains("verified relying party")
            && detail("online").contains("verifies 2 credential(s)"),
        "{}",
        detail("online")
    );
    assert!(detail("record").contains("checked"), "{}", detail("record"));
    assert!(
        detail("policy").contains("withheld: restricted identifier")
            && detail("policy").contains("receives only age_over_19"),
        "{}",
        detail("policy")
    );
    assert!(
        detail("record").contains("document_number (restricted)"),
        "{}",
        detail("record")
    );
}

#[test]
fn issue_present_and_verify_across_processes() {
    let run = Run::new();
    run.ok(&["init"], &[]);
    let authority = run.dir.path().join("authority");
    let a = authority.to_str().unwrap();
    run.ok(&["issuer", "init", "--dir", a], &[]);
    assert!(run
        .fails(&["issuer", "init", "--dir", a], &[])
        .contains("already"));
    let wallet = run.wallet();
    let issued = run.json(
        &[
            "issue",
            "mdl",
            "--issuer",
            a,
            "--holder",
            &wallet,
            "--family-name",
            "Hong",
            "--given-name",
            "Gildong",
            "--birth-date",
            "1990-05-05",
        ],
        &[],
    );
    assert_eq!(issued["doc_type"], "org.iso.18013.5.1.mDL");
    let card = run.json(
        &[
            "issue",
            "resident-card",
            "--issuer",
            a,
            "--holder",
            &wallet,
            "--name-ko",
            "홍길동",
            "--rrn",
            "900505-1234567",
            "--birth-date",
            "1990-05-05",
            "--address",
            "서울특별시 종로구",
        ],
        &[],
    );
    assert_eq!(card["doc_type"], "kr.jigap.mdoc.resident-registration.1");
    assert!(run
        .fails(
            &[
                "issue",
                "mdl",
                "--issuer",
                a,
                "--holder",
                &wallet,
                "--family-name",
                "H",
                "--given-name",
                "G",
                "--birth-date",
                "1990-13-05"
            ],
            &[]
        )
        .contains("YYYY-MM-DD"));
    let reader_root = authority.join("mdoc-reader-root.der");
    run.ok(
        &[
            "trust",
            "add",
            "--role",
            "mdoc-reader",
            reader_root.to_str().unwrap(),
        ],
        &[],
    );

    let session = run.dir.path().join("session");
    let s = session.to_str().unwrap();
    let holder = Command::new(env!("CARGO_BIN_EXE_jigap"))
        .args([
            "--wallet",
            &wallet,
            "--json",
            "present",
            "--dir",
            s,
            "--approve",
            "age_over_19",
            "--timeout",
            "60",
        ])
        .env("JIGAP_PASSPHRASE", "cli test passphrase")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    run.ok(
        &[
            "reader",
            "request",
            "--dir",
            s,
            "--issuer",
            a,
            "--request",
            "org.iso.18013.5.1.mDL=age_over_19,family_name",
        ],
        &[],
    );
    let verified = run.json(
        &[
            "reader", "verify", "--dir", s, "--issuer", a, "--wait", "60",
        ],
        &[],
    );
    let out = holder.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let holder_log = String::from_utf8_lossy(&out.stderr);
    assert!(
        holder_log.contains("signed by trusted reader"),
        "{holder_log}"
    );
    assert!(session.join("engagement.png").exists());
    let doc = &verified["documents"][0];
    assert_eq!(doc["elements"].as_array().unwrap().len(), 1);
    assert_eq!(doc["elements"][0]["identifier"], "age_over_19");
    assert_eq!(doc["elements"][0]["value"], "true");
    assert_eq!(doc["not_returned"][0], "org.iso.18013.5.1/family_name");

    // The plain DeviceResponse and SessionTranscript are kept, and verify on their own against
    // what was asked; a response checked against another request is refused.
    let response = session.join("device-response.cbor");
    let transcript = session.join("session-transcript.cbor");
    let checked = run.json(
        &[
            "reader",
            "check",
            "--response",
            response.to_str().unwrap(),
            "--transcript",
            transcript.to_str().unwrap(),
            "--issuer",
            a,
            "--request",
            "org.iso.18013.5.1.mDL=age_over_19,family_name",
        ],
        &[],
    );
    assert_eq!(
        checked["documents"][0]["elements"][0]["identifier"],
        "age_over_19"
    );
    let err = run.fails(
        &[
            "reader",
            "check",
            "--response",
            response.to_str().unwrap(),
            "--transcript",
            transcript.to_str().unwrap(),
            "--issuer",
            a,
            "--request",
            "org.iso.18013.5.1.mDL=family_name",
        ],
        &[],
    );
    assert!(err.contains("NotRequested"), "{err}");

    // A reader that trusts another authority rejects the same kind of response.
    let other = run.dir.path().join("other");
    run.ok(
        &[
            "issuer",
            "init",
            "--dir",
            other.to_str().unwrap(),
            "--name",
            "Elsewhere",
        ],
        &[],
    );
    let session2 = run.dir.path().join("session2");
    let s2 = session2.to_str().unwrap();
    let holder = Command::new(env!("CARGO_BIN_EXE_jigap"))
        .args([
            "--wallet",
            &wallet,
            "present",
            "--dir",
            s2,
            "--approve",
            "all",
            "--timeout",
            "60",
        ])
        .env("JIGAP_PASSPHRASE", "cli test passphrase")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    run.ok(
        &[
            "reader",
            "request",
            "--dir",
            s2,
            "--issuer",
            other.to_str().unwrap(),
        ],
        &[],
    );
    let out = run.jigap(
        &[
            "reader",
            "verify",
            "--dir",
            s2,
            "--issuer",
            other.to_str().unwrap(),
            "--wait",
            "60",
        ],
        &[],
        None,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("jigap: error: ") && last.contains("UntrustedIssuer"),
        "{err}"
    );
    assert!(holder.wait_with_output().unwrap().status.success());
}

#[test]
fn present_speaks_base64_lines_on_stdio() {
    use std::io::{BufRead, BufReader, Write};
    let run = Run::new();
    run.ok(&["init"], &[]);
    let authority = run.dir.path().join("authority");
    let a = authority.to_str().unwrap();
    run.ok(&["issuer", "init", "--dir", a], &[]);
    let wallet = run.wallet();
    run.ok(
        &[
            "issue",
            "mdl",
            "--issuer",
            a,
            "--holder",
            &wallet,
            "--family-name",
            "Hong",
            "--given-name",
            "Gildong",
            "--birth-date",
            "1990-05-05",
        ],
        &[],
    );
    // The reader signs its request; the wallet trusts it (an unauthenticated reader would
    // get no name under the default disclosure policy).
    let reader_root = authority.join("mdoc-reader-root.der");
    run.ok(
        &[
            "trust",
            "add",
            "--role",
            "mdoc-reader",
            reader_root.to_str().unwrap(),
        ],
        &[],
    );
    let mut holder = Command::new(env!("CARGO_BIN_EXE_jigap"))
        .args(["--wallet", &wallet, "present", "--approve", "all"])
        .env("JIGAP_PASSPHRASE", "cli test passphrase")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(holder.stdout.take().unwrap());
    let mut uri = String::new();
    out.read_line(&mut uri).unwrap();
    assert!(uri.starts_with("mdoc:"));
    let cwd = run.dir.path();
    let request = Command::new(env!("CARGO_BIN_EXE_jigap"))
        .current_dir(cwd)
        .args([
            "reader",
            "request",
            "--engagement",
            uri.trim(),
            "--issuer",
            a,
            "--request",
            "org.iso.18013.5.1.mDL=given_name",
        ])
        .output()
        .unwrap();
    assert!(
        request.status.success(),
        "{}",
        String::from_utf8_lossy(&request.stderr)
    );
    let mut stdin = holder.stdin.take().unwrap();
    stdin.write_all(&request.stdout).unwrap();
    stdin.flush().unwrap();
    let mut response = String::new();
    out.read_line(&mut response).unwrap();
    drop(stdin);
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(response.trim())
        .unwrap();
    let response_file = cwd.join("response.cbor");
    std::fs::write(&response_file, bytes).unwrap();
    let verify = Command::new(env!("CARGO_BIN_EXE_jigap"))
        .current_dir(cwd)
        .args([
            "--json",
            "reader",
            "verify",
            "--response",
            response_file.to_str().unwrap(),
            "--issuer",
            a,
        ])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert_eq!(report["documents"][0]["elements"][0]["value"], "Gildong");
    assert!(holder.wait().unwrap().success());
}

#[test]
fn certificate_issue_present_verify() {
    let run = Run::new();
    run.ok(&["init"], &[]);
    let authority = run.dir.path().join("authority");
    let a = authority.to_str().unwrap();
    run.ok(&["issuer", "init", "--dir", a], &[]);
    let wallet = run.wallet();
    let claims = r#"{"name":"홍길동","resident_registration_number":"900505-1234567","address":{"region":"서울특별시","locality":"종로구"}}"#;
    let issued = run.json(
        &[
            "issue",
            "e-certificate",
            "--issuer",
            a,
            "--holder",
            &wallet,
            "--type",
            "resident-abstract",
            "--claims",
            claims,
        ],
        &[],
    );
    let id = issued["id"].as_str().unwrap().to_owned();
    assert!(issued["disclosable"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "/resident_registration_number"));
    let presented = run.json(
        &[
            "present",
            "e-certificate",
            "--id",
            &id,
            "--claims",
            "/name,/address/locality",
            "--aud",
            "https://bank.example",
            "--nonce",
            "n-7",
        ],
        &[],
    );
    let file = run.dir.path().join("presentation.txt");
    std::fs::write(&file, presented["presentation"].as_str().unwrap()).unwrap();
    let f = file.to_str().unwrap();
    let verified = run.json(
        &[
            "verify",
            "sd-jwt",
            f,
            "--issuer",
            a,
            "--aud",
            "https://bank.example",
            "--nonce",
            "n-7",
        ],
        &[],
    );
    assert_eq!(verified["key_bound"], true);
    assert_eq!(verified["claims"]["name"], "홍길동");
    assert_eq!(verified["claims"]["address"]["locality"], "종로구");
    assert!(verified["claims"]
        .get("resident_registration_number")
        .is_none());
    let err = run.fails(
        &[
            "verify",
            "sd-jwt",
            f,
            "--issuer",
            a,
            "--aud",
            "https://bank.example",
            "--nonce",
            "other",
        ],
        &[],
    );
    assert!(err.contains("KeyBindingNonce"), "{err}");
}

#[test]
fn revocation_over_loopback_http() {
    use std::io::{BufRead, BufReader};
    let run = Run::new();
    run.ok(&["init"], &[]);
    let authority = run.dir.path().join("authority");
    let a = authority.to_str().unwrap();
    run.ok(&["issuer", "init", "--dir", a], &[]);
    let mut server = Command::new(env!("CARGO_BIN_EXE_jigap"))
        .args(["status", "serve", "--issuer", a, "--port", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(base.starts_with("https://127.0.0.1:"), "{line}");
    let result = std::panic::catch_unwind(|| {
        run.ok(
            &[
                "status",
                "publish",
                "--issuer",
                a,
                "--base-url",
                &base,
                "--size",
                "64",
            ],
            &[],
        );
        // A CWT list on another path, decoded whole after its signature is checked.
        run.ok(
            &[
                "status",
                "publish",
                "--issuer",
                a,
                "--base-url",
                &base,
                "--path",
                "/lists/2",
                "--size",
                "32",
                "--format",
                "cwt",
            ],
            &[],
        );
        run.ok(
            &[
                "status", "suspend", "--issuer", a, "--path", "/lists/2", "--index", "3",
            ],
            &[],
        );
        let cwt = authority.join("status").join("lists_2.cwt");
        let decoded = run.json(
            &[
                "status",
                "decode",
                cwt.to_str().unwrap(),
                "--uri",
                &format!("{base}/lists/2"),
                "--issuer",
                a,
            ],
            &[],
        );
        assert_eq!(decoded["size"], 32, "{decoded}");
        assert_eq!(decoded["not_valid"][0]["index"], 3);
        assert_eq!(decoded["not_valid"][0]["status"], 2);
        let err = run.fails(
            &[
                "status",
                "decode",
                cwt.to_str().unwrap(),
                "--uri",
                &format!("{base}/lists/1"),
                "--issuer",
                a,
            ],
            &[],
        );
        assert!(err.contains("not"), "{err}");
        let uri = format!("{base}/lists/1");
        let wallet = run.wallet();
        let status_root = authority.join("status-list-issuer-root.der");
        run.ok(
            &[
                "trust",
                "add",
                "--role",
                "status-list-issuer",
                status_root.to_str().unwrap(),
            ],
            &[],
        );
        let claims = r#"{"name":"홍길동","arrears":false}"#;
        let id = run.json(
            &[
                "issue",
                "e-certificate",
                "--issuer",
                a,
                "--holder",
                &wallet,
                "--type",
                "tax-payment",
                "--claims",
                claims,
                "--status-uri",
                &uri,
                "--status-index",
                "9",
            ],
            &[],
        )["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let tls_root = authority.join("tls-root.der");
        let report = run.json(
            &[
                "status",
                "refresh",
                "--tls-root",
                tls_root.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(report["checked"], 1, "{report}");
        assert_eq!(report["changed"].as_array().unwrap().len(), 0);

        let presented = run.json(
            &[
                "present",
                "e-certificate",
                "--id",
                &id,
                "--claims",
                "/name",
                "--aud",
                "https://bank",
                "--nonce",
                "n",
            ],
            &[],
        );
        let file = run.dir.path().join("p.txt");
        std::fs::write(&file, presented["presentation"].as_str().unwrap()).unwrap();
        let f = file.to_str().unwrap();
        run.ok(
            &[
                "verify",
                "sd-jwt",
                f,
                "--issuer",
                a,
                "--aud",
                "https://bank",
                "--nonce",
                "n",
                "--status-list",
                &uri,
            ],
            &[],
        );

        run.ok(&["status", "revoke", "--issuer", a, "--index", "9"], &[]);
        let tls_root = authority.join("tls-root.der");
        let report = run.json(
            &[
                "status",
                "refresh",
                "--tls-root",
                tls_root.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(report["changed"][0]["to"], "revoked", "{report}");
        let listed = run.json(&["credentials", "list", "--state", "revoked"], &[]);
        assert_eq!(listed["total"], 1);
        let err = run.fails(
            &[
                "verify",
                "sd-jwt",
                f,
                "--issuer",
                a,
                "--aud",
                "https://bank",
                "--nonce",
                "n",
                "--status-list",
                &uri,
            ],
            &[],
        );
        assert!(err.contains("Revoked"), "{err}");
        assert!(run
            .fails(&["status", "reinstate", "--issuer", a, "--index", "9"], &[])
            .contains("final"));
    });
    server.kill().unwrap();
    let _ = server.wait();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn bills_and_inbox_from_a_registered_sender() {
    let run = Run::new();
    run.ok(&["init"], &[]);
    let authority = run.dir.path().join("authority");
    let a = authority.to_str().unwrap();
    run.ok(&["issuer", "init", "--dir", a], &[]);
    run.ok(
        &[
            "trust",
            "add",
            "--role",
            "sender",
            authority.join("sender-root.der").to_str().unwrap(),
        ],
        &[],
    );
    let bill = run.dir.path().join("bill.cose");
    let due = "2099-12-31";
    run.ok(
        &[
            "issue",
            "bill",
            "--issuer",
            a,
            "--id",
            "TAX-1",
            "--title",
            "주민세",
            "--amount",
            "75000",
            "--due",
            due,
            "--out",
            bill.to_str().unwrap(),
        ],
        &[],
    );
    let stored = run.json(&["bills", "add", bill.to_str().unwrap()], &[]);
    assert_eq!(
        (stored["state"].as_str(), stored["amount_krw"].as_u64()),
        (Some("unpaid"), Some(75_000))
    );
    assert_eq!(
        run.json(&["bills", "list"], &[]).as_array().unwrap().len(),
        1
    );
    assert_eq!(run.json(&["bills", "totals"], &[])[0]["unpaid_krw"], 75_000);
    assert_eq!(
        run.json(&["bills", "pay", "TAX-1", "--receipt", "R-1"], &[])["state"],
        "paid"
    );

    let note = run.dir.path().join("note.cose");
    run.ok(
        &[
            "issue",
            "notification",
            "--issuer",
            a,
            "--id",
            "N-1",
            "--category",
            "health-checkup",
            "--title",
            "건강검진",
            "--body",
            "올해 검진 대상자입니다.",
            "--out",
            note.to_str().unwrap(),
        ],
        &[],
    );
    run.ok(&["inbox", "add", note.to_str().unwrap()], &[]);
    let smish = run.dir.path().join("smish.cose");
    run.ok(
        &[
            "issue",
            "notification",
            "--issuer",
            a,
            "--id",
            "N-2",
            "--title",
            "환급",
            "--body",
            "환급금 조회 https://bit.ly/x",
            "--out",
            smish.to_str().unwrap(),
        ],
        &[],
    );
    let err = run.fails(&["inbox", "add", smish.to_str().unwrap()], &[]);
    assert!(
        err.contains("CallToAction") && err.contains("link"),
        "{err}"
    );
    let listed = run.json(&["inbox", "list"], &[]);
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["read"], false);
    run.ok(&["inbox", "read", "N-1"], &[]);
    assert_eq!(run.json(&["inbox", "list", "--unread"], &[])["total"], 0);
    // A sender the wallet does not trust.
    let other = run.dir.path().join("other");
    run.ok(
        &[
            "issuer",
            "init",
            "--dir",
            other.to_str().unwrap(),
            "--name",
            "Elsewhere",
        ],
        &[],
    );
    let fake = run.dir.path().join("fake.cose");
    run.ok(
        &[
            "issue",
            "bill",
            "--issuer",
            other.to_str().unwrap(),
            "--id",
            "X",
            "--title",
            "x",
            "--amount",
            "1",
            "--due",
            due,
            "--out",
            fake.to_str().unwrap(),
        ],
        &[],
    );
    assert!(run
        .fails(&["bills", "add", fake.to_str().unwrap()], &[])
        .contains("UntrustedSender"));
}

#[test]
fn mydata_consent_verify_and_revoke() {
    let run = Run::new();
    run.ok(&["init"], &[]);
    let bank = run.dir.path().join("bank");
    run.ok(
        &[
            "issuer",
            "init",
            "--dir",
            bank.to_str().unwrap(),
            "--name",
            "Hana Bank",
        ],
        &[],
    );
    run.ok(
        &[
            "trust",
            "add",
            "--role",
            "data-recipient",
            bank.join("data-recipient-root.der").to_str().unwrap(),
        ],
        &[],
    );
    let recipient = bank.join("data-recipient.der");
    let token = run.dir.path().join("consent.cose");
    let made = run.json(
        &[
            "mydata",
            "consent",
            "--recipient",
            recipient.to_str().unwrap(),
            "--bundles",
            "income,health_insurance",
            "--purpose",
            "대출 심사",
            "--mode",
            "selected",
            "--days",
            "90",
            "--out",
            token.to_str().unwrap(),
        ],
        &[],
    );
    let id = made["id"].as_str().unwrap().to_owned();
    let verified = run.json(
        &[
            "mydata",
            "verify",
            token.to_str().unwrap(),
            "--recipient",
            recipient.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(verified["bundles"][1], "health_insurance");
    run.ok(
        &[
            "mydata",
            "transfer",
            &id,
            "--bundle",
            "income",
            "--holder",
            "국세청",
        ],
        &[],
    );
    assert_eq!(
        run.json(&["mydata", "list"], &[])[0]["transfers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let revocation = run.dir.path().join("revocation.cose");
    run.ok(
        &[
            "mydata",
            "revoke",
            &id,
            "--out",
            revocation.to_str().unwrap(),
        ],
        &[],
    );
    assert!(run
        .fails(
            &[
                "mydata",
                "verify",
                token.to_str().unwrap(),
                "--recipient",
                recipient.to_str().unwrap(),
                "--revocation",
                revocation.to_str().unwrap()
            ],
            &[]
        )
        .contains("revoked"));
    assert_eq!(
        run.json(&["mydata", "list"], &[]).as_array().unwrap().len(),
        0
    );
    // An unregistered recipient is refused.
    let other = run.dir.path().join("other");
    run.ok(
        &[
            "issuer",
            "init",
            "--dir",
            other.to_str().unwrap(),
            "--name",
            "Unknown",
        ],
        &[],
    );
    let err = run.fails(
        &[
            "mydata",
            "consent",
            "--recipient",
            other.join("data-recipient.der").to_str().unwrap(),
            "--bundles",
            "income",
            "--purpose",
            "x",
            "--out",
            token.to_str().unwrap(),
        ],
        &[],
    );
    assert!(err.contains("UntrustedRecipient"), "{err}");
}

#[test]
fn benefits_check_and_explain_on_the_device() {
    let run = Run::new();
    run.ok(&["init"], &[]);
    let gov = run.dir.path().join("gov");
    let g = gov.to_str().unwrap();
    run.ok(&["issuer", "init", "--dir", g], &[]);
    run.ok(
        &[
            "trust",
            "add",
            "--role",
            "catalog-publisher",
            gov.join("catalog-publisher-root.der").to_str().unwrap(),
        ],
        &[],
    );
    let catalog = run.dir.path().join("catalog.cose");
    run.ok(
        &[
            "benefits",
            "catalog",
            "--issuer",
            g,
            "--out",
            catalog.to_str().unwrap(),
        ],
        &[],
    );
    let c = catalog.to_str().unwrap();
    assert!(run
        .fails(&["benefits", "check", "--catalog", c], &[])
        .contains("opt in"));
    run.ok(&["benefits", "opt-in"], &[]);
    run.ok(
        &[
            "benefits",
            "facts",
            "--set",
            "age=70",
            "--set",
            "income_percent_median=50",
            "--set",
            "homeowner=false",
        ],
        &[],
    );
    assert!(run
        .fails(&["benefits", "facts", "--set", "salary=1"], &[])
        .contains("unknown attribute"));
    let results = run.json(&["benefits", "check", "--catalog", c], &[]);
    let find = |id: &str| {
        results
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(find("basic-pension")["eligibility"], "eligible");
    assert_eq!(find("youth-savings")["eligibility"], "not eligible");
    assert_eq!(find("parental-benefit")["eligibility"], "unknown");
    let explained = run.json(
        &["benefits", "explain", "basic-pension", "--catalog", c],
        &[],
    );
    assert_eq!(explained["eligibility"], "eligible", "{explained}");
    assert_eq!(explained["explanation"][0], "age (70) >= 65: yes");
    run.ok(&["benefits", "opt-out"], &[]);
    assert_eq!(run.json(&["benefits", "opt-in"], &[])["opted_in"], true);
    assert_eq!(
        run.json(&["benefits", "facts"], &[])
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn key_files_are_owner_only_and_a_closed_pipe_is_quiet() {
    use std::os::unix::fs::PermissionsExt;
    let run = Run::new();
    let authority = run.dir.path().join("authority");
    run.ok(
        &["issuer", "init", "--dir", authority.to_str().unwrap()],
        &[],
    );
    let mut keys = 0;
    for entry in std::fs::read_dir(&authority).unwrap() {
        let path = entry.unwrap().path();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        if path.extension().is_some_and(|e| e == "key") {
            keys += 1;
            assert_eq!(mode, 0o600, "{}", path.display());
        }
    }
    assert_eq!(
        keys, 24,
        "a root and a signer key for each of 11 roles, and the TLS pair"
    );

    // `jigap ... | head`: the reader of the pipe is gone before jigap writes.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_jigap"))
        .args(["--wallet", &run.wallet(), "init"])
        .env("JIGAP_PASSPHRASE", "pw")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_locked_out_wallet_unlocks_with_a_re_verification() {
    let run = Run::new();
    run.ok(&["init"], &[]);
    let gov = run.dir.path().join("gov");
    let g = gov.to_str().unwrap();
    run.ok(&["issuer", "init", "--dir", g], &[]);
    run.ok(
        &[
            "trust",
            "add",
            "--role",
            "identity-verifier",
            gov.join("identity-verifier-root.der").to_str().unwrap(),
        ],
        &[],
    );
    run.ok(&["pin", "set"], &[("JIGAP_NEW_PIN", "135790")]);
    for _ in 0..3 {
        run.fails(&["pin", "verify"], &[("JIGAP_PIN", "000000")]);
    }
    let delayed = run.fails(&["pin", "verify"], &[("JIGAP_PIN", "135790")]);
    assert!(delayed.contains("too soon"), "{delayed}");
    let refused = run.fails(&["pin", "challenge"], &[("JIGAP_PIN", "135790")]);
    assert!(refused.contains("only possible after lockout"), "{refused}");
}

#[test]
fn the_record_is_listed_exported_and_verified_and_tampering_is_caught() {
    let run = Run::new();
    run.ok(&["init"], &[]);
    let authority = run.dir.path().join("authority");
    let a = authority.to_str().unwrap();
    run.ok(&["issuer", "init", "--dir", a], &[]);
    let wallet = run.wallet();
    let issued = run.json(
        &[
            "issue",
            "mdl",
            "--issuer",
            a,
            "--holder",
            &wallet,
            "--family-name",
            "Hong",
            "--given-name",
            "Gildong",
            "--birth-date",
            "1990-05-05",
        ],
        &[],
    );
    let id = issued["id"].as_str().unwrap().to_owned();
    run.ok(&["credentials", "delete", &id], &[]);

    let listed = run.json(&["log", "list"], &[]);
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["entries"][0]["kind"], "deletion");
    assert_eq!(listed["entries"][1]["kind"], "issuance");
    assert_eq!(
        listed["entries"][0]["details"]["credential_id"],
        id.as_str()
    );
    let only = run.json(&["log", "list", "--kind", "issuance", "--limit", "1"], &[]);
    assert_eq!(only["total"], 1);
    assert!(run
        .fails(&["log", "list", "--kind", "gossip"], &[])
        .contains("unknown kind"));
    assert!(run
        .fails(&["log", "list", "--since", "yesterday"], &[])
        .contains("RFC 3339"));
    let text = run.ok(&["log", "list"], &[]);
    assert!(
        text.contains("deletion") && text.contains("2 of 2 shown"),
        "{text}"
    );

    let checked = run.json(&["log", "verify"], &[]);
    assert_eq!(
        (checked["valid"].as_bool(), checked["entries"].as_u64()),
        (Some(true), Some(2))
    );
    let key = checked["public_key"].as_str().unwrap().to_owned();
    let export = run.dir.path().join("record.jsonl");
    let e = export.to_str().unwrap();
    run.ok(&["log", "export", "--out", e], &[]);
    let verified = run.json(&["log", "verify", e, "--key", &key], &[]);
    assert_eq!(verified["entries"], 2);
    assert_eq!(verified["key_checked"], true);

    // An edited entry, and an intact export checked against another key, are refused.
    let original = std::fs::read_to_string(&export).unwrap();
    std::fs::write(&export, original.replacen("\"seq\":1", "\"seq\":3", 1)).unwrap();
    assert!(run.fails(&["log", "verify", e], &[]).contains("record"));
    std::fs::write(&export, &original).unwrap();
    let other = format!("04{}", "11".repeat(64));
    assert!(run
        .fails(&["log", "verify", e, "--key", &other], &[])
        .contains("another key"));
}

#[test]
fn present_over_simulated_nfc_and_ble_between_two_processes() {
    let run = Run::new();
    run.ok(&["init"], &[]);
    let authority = run.dir.path().join("authority");
    let a = authority.to_str().unwrap();
    run.ok(&["issuer", "init", "--dir", a], &[]);
    let wallet = run.wallet();
    run.ok(
        &[
            "issue",
            "mdl",
            "--issuer",
            a,
            "--holder",
            &wallet,
            "--family-name",
            "Hong",
            "--given-name",
            "Gildong",
            "--birth-date",
            "1990-05-05",
        ],
        &[],
    );
    let reader_root = authority.join("mdoc-reader-root.der");
    run.ok(
        &[
            "trust",
            "add",
            "--role",
            "mdoc-reader",
            reader_root.to_str().unwrap(),
        ],
        &[],
    );
    for (link, options, progress) in [
        ("nfc", vec![], "APDUs"),
        ("nfc", vec!["--extended"], "APDUs"),
        ("nfc", vec!["--negotiated"], "negotiated handover"),
        ("ble", vec!["--mtu", "23"], "notifications (MTU 23)"),
        ("ble", vec!["--mtu", "512"], "notifications (MTU 512)"),
    ] {
        let socket = run.dir.path().join(format!("{link}.sock"));
        let s = socket.to_str().unwrap();
        let mut holder_args = vec![
            "--wallet",
            &wallet,
            "--json",
            "present",
            "--link",
            link,
            "--socket",
            s,
            "--approve",
            "age_over_19,portrait",
            "--timeout",
            "60",
        ];
        if link == "ble" || options == ["--negotiated"] {
            holder_args.extend(&options);
        }
        let holder = Command::new(env!("CARGO_BIN_EXE_jigap"))
            .args(&holder_args)
            .env("JIGAP_PASSPHRASE", "cli test passphrase")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let reader_options: Vec<&str> = options
            .iter()
            .copied()
            .filter(|o| *o != "--negotiated")
            .collect();
        let mut reader_args = vec![
            "--json",
            "reader",
            "connect",
            "--link",
            link,
            "--socket",
            s,
            "--issuer",
            a,
            "--request",
            "org.iso.18013.5.1.mDL=age_over_19,family_name,portrait",
        ];
        reader_args.extend(&reader_options);
        let out = run.jigap(&reader_args, &[], None);
        let reader_log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{link} {options:?}: {reader_log}");
        assert!(reader_log.contains(progress), "{reader_log}");
        let verified: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let doc = &verified["documents"][0];
        let names: Vec<&str> = doc["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["identifier"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["portrait", "age_over_19"], "{verified}");
        assert_eq!(doc["not_returned"][0], "org.iso.18013.5.1/family_name");

        let out = holder.wait_with_output().unwrap();
        let holder_log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{holder_log}");
        assert!(
            holder_log.contains("signed by trusted reader"),
            "{holder_log}"
        );
        assert!(
            holder_log.contains("the reader ended the session"),
            "{holder_log}"
        );
        let said: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(said, serde_json::json!({"answered": 1, "released": 2}));
    }
    // Nobody listening: a one-line error after the timeout.
    let missing = run.dir.path().join("nobody.sock");
    assert!(run
        .fails(
            &[
                "reader",
                "connect",
                "--link",
                "nfc",
                "--socket",
                missing.to_str().unwrap(),
                "--issuer",
                a,
                "--timeout",
                "1",
            ],
            &[],
        )
        .contains("no holder"));
}
