//! What every command shares: the one-line error, opening and unlocking the wallet, printing
//! text or JSON, and reading and writing files (secret ones owner-only from the start).
//! Commands depend on this module; it depends on none of them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wallet_core::{passphrase_key_protector, Wallet, WalletConfig, WalletError};

use crate::{secrets, Cli};

/// A failure the CLI reports on one line.
#[derive(Debug)]
pub struct CliError(pub String);

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<WalletError> for CliError {
    fn from(e: WalletError) -> Self {
        CliError(e.to_string())
    }
}

impl From<String> for CliError {
    fn from(e: String) -> Self {
        CliError(e)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError(e.to_string())
    }
}

/// The CLI's result.
pub type Result<T> = std::result::Result<T, CliError>;

/// The wallet file the command works on.
pub fn wallet_path(cli: &Cli) -> PathBuf {
    cli.wallet
        .clone()
        .or_else(|| std::env::var_os("JIGAP_WALLET").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("wallet.jigap"))
}

/// Opens the wallet at `path` with the passphrase protector.
pub fn open(path: &Path, create: bool) -> Result<Arc<Wallet>> {
    open_with(path, create, false)
}

/// Opens the wallet at `path`, accepting plain-http issuers on the loopback interface when
/// `allow_loopback_http` (test servers only).
pub fn open_with(path: &Path, create: bool, allow_loopback_http: bool) -> Result<Arc<Wallet>> {
    let passphrase = secrets::read("JIGAP_PASSPHRASE", "wallet passphrase")?;
    let key_protector = passphrase_key_protector(passphrase.to_string())?;
    Ok(Wallet::open_blocking(WalletConfig {
        allow_loopback_http,
        path: Some(path.to_string_lossy().into_owned()),
        create_if_missing: create,
        key_protector,
        secure_area: None,
        clock: None,
        listener: None,
    })?)
}

/// Verifies the PIN when one is set and the wallet is locked.
pub fn unlock(wallet: &Wallet) -> Result<()> {
    let status = wallet.status()?;
    if status.pin_set && !status.unlocked {
        let pin = secrets::read("JIGAP_PIN", "PIN")?;
        wallet.verify_pin(pin.to_string())?;
    }
    Ok(())
}

/// Prints `value` as JSON with `--json`, else the text `text` makes.
pub fn say_with(cli: &Cli, value: serde_json::Value, text: impl FnOnce() -> String) {
    if cli.json {
        out!("{value}");
    } else {
        out!("{}", text());
    }
}

/// Prints `value` as JSON with `--json`, else `text`.
pub fn say(cli: &Cli, value: serde_json::Value, text: impl std::fmt::Display) {
    if cli.json {
        out!("{value}");
    } else {
        out!("{text}");
    }
}

/// Reads a file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| CliError::from(format!("reading {}: {e}", path.display())))
}

/// Writes a file; a `secret` one (a private key, a session state) is created readable by its
/// owner only from the first byte, never written first and restricted after.
pub fn write(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    let fail = |e: std::io::Error| CliError::from(format!("writing {}: {e}", path.display()));
    if !secret {
        return std::fs::write(path, bytes).map_err(fail);
    }
    // A file left by an earlier run may have wider permissions: replace it.
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(e)),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)
}

/// Unix seconds as `YYYY-MM-DD` (UTC).
pub fn format_date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!("[year]-[month]-[day]"))
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// Unix seconds as an RFC 3339 date-time (UTC).
pub fn format_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}
