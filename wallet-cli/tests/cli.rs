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

    let file = run.dir.path().join("cred.bin");
    let bytes: Vec<u8> = (0..=255u8).collect();
    std::fs::write(&file, &bytes).unwrap();
    let pin = [("JIGAP_PIN", "135790")];
    let stored = run.json(
        &[
            "credentials",
            "import",
            file.to_str().unwrap(),
            "--format",
            "mso-mdoc",
            "--doc-type",
            "org.iso.18013.5.1.mDL",
            "--issuer",
            "KR NPA",
            "--name-ko",
            "운전면허증",
            "--name-en",
            "Licence",
        ],
        &pin,
    );
    let id = stored["id"].as_str().unwrap().to_owned();
    let list = run.json(&["credentials", "list", "--issuer", "KR NPA"], &pin);
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["display_name_ko"], "운전면허증");
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
    assert_eq!(shown["raw_length"], 256);
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
    for expected in ["open", "pin", "device key", "store", "reopen", "wipe"] {
        assert!(
            steps.contains(&expected),
            "{expected} missing from {steps:?}"
        );
    }
}
