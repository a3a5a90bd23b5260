//! The test authority's side of the CLI: its directory — for each role, `ROLE-root.der` (the
//! trust anchor), `ROLE.der` (the signer) and their `.key` files (owner-only) — and where an
//! issued credential goes (a wallet, or a file for an exported public key).

use std::path::{Path, PathBuf};

use clap::Args;
use wallet_core::{AuthorityMaterial, RoleMaterial, StatusListEntry, TrustRole};

use crate::context::{open, read, unlock, write, CliError, Result};

/// The files of a test authority directory: for each role, its root and its signer.
pub fn material_files(role: TrustRole) -> [String; 4] {
    let name = role.name();
    [
        format!("{name}-root.der"),
        format!("{name}-root.key"),
        format!("{name}.der"),
        format!("{name}.key"),
    ]
}

/// The files of the authority's web servers' TLS chain.
pub const TLS_FILES: [&str; 4] = ["tls-root.der", "tls-root.key", "tls.der", "tls.key"];

/// The TLS root of a test authority directory (DER), for clients of its servers.
pub fn tls_root_of(dir: &Path) -> Result<Vec<u8>> {
    read(&dir.join(TLS_FILES[0]))
}

/// Writes every role's chain and the TLS chain into `dir` (keys owner-only).
pub fn save_material(dir: &Path, m: &AuthorityMaterial) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let [root_der, root_key, der, key] = TLS_FILES;
    write(&dir.join(root_der), &m.tls_root_certificate, false)?;
    write(&dir.join(root_key), &m.tls_root_key, true)?;
    write(&dir.join(der), &m.tls_certificate, false)?;
    write(&dir.join(key), &m.tls_key, true)?;
    for role in &m.roles {
        let [root_der, root_key, der, key] = material_files(role.role);
        write(&dir.join(root_der), &role.root_certificate, false)?;
        write(&dir.join(root_key), &role.root_key, true)?;
        write(&dir.join(der), &role.certificate, false)?;
        write(&dir.join(key), &role.key, true)?;
    }
    Ok(())
}

/// Loads a test authority directory.
pub fn load_material(dir: &Path) -> Result<AuthorityMaterial> {
    let f = |name: &str| read(&dir.join(name));
    let mut roles = Vec::new();
    for role in TrustRole::ALL {
        let [root_der, root_key, der, key] = material_files(role);
        roles.push(RoleMaterial {
            role,
            root_certificate: f(&root_der)?,
            root_key: f(&root_key)?,
            certificate: f(&der)?,
            key: f(&key)?,
        });
    }
    Ok(AuthorityMaterial {
        roles,
        tls_root_certificate: f(TLS_FILES[0])?,
        tls_root_key: f(TLS_FILES[1])?,
        tls_certificate: f(TLS_FILES[2])?,
        tls_key: f(TLS_FILES[3])?,
    })
}

/// A test authority directory's root certificate of `role` (DER).
pub fn root_of(dir: &Path, role: TrustRole) -> Result<Vec<u8>> {
    read(&dir.join(&material_files(role)[0]))
}

/// A test authority directory's signer certificate and key of `role`.
pub fn signer_of(dir: &Path, role: TrustRole) -> Result<(Vec<u8>, Vec<u8>)> {
    let [_, _, der, key] = material_files(role);
    Ok((read(&dir.join(der))?, read(&dir.join(key))?))
}

/// The status list entry from `--status-uri` and `--status-index`.
pub fn status_entry(uri: &Option<String>, index: Option<u64>) -> Result<Option<StatusListEntry>> {
    match (uri, index) {
        (Some(uri), Some(index)) => Ok(Some(StatusListEntry {
            index,
            uri: uri.clone(),
        })),
        (None, None) => Ok(None),
        _ => Err(CliError::from(
            "give both --status-uri and --status-index".to_string(),
        )),
    }
}

/// Where `jigap issue` puts a credential: into a wallet (with a fresh device key), or into a
/// file, bound to a public key exported by any wallet (`jigap keys create --out`).
#[derive(Args, Debug)]
pub struct IssueTarget {
    /// The holder's wallet file: a device key is created there and the credential stored.
    #[arg(long, conflicts_with_all = ["public_key", "out"])]
    pub holder: Option<PathBuf>,
    /// The holder's device public key (SEC1, 65 bytes) to bind the credential to.
    #[arg(long, requires = "out")]
    pub public_key: Option<PathBuf>,
    /// Where to write the issued credential (with --public-key).
    #[arg(long, requires = "public_key")]
    pub out: Option<PathBuf>,
}

/// Where an issued credential goes, resolved.
pub enum Destination {
    /// Into this wallet, under this device key.
    Wallet(
        std::sync::Arc<wallet_core::Wallet>,
        wallet_core::DeviceKey,
        PathBuf,
    ),
    /// Into a file, for this public key.
    File(Vec<u8>, PathBuf),
}

impl IssueTarget {
    /// Opens the wallet (creating a device key) or reads the public key.
    pub fn resolve(&self) -> Result<Destination> {
        match (&self.holder, &self.public_key, &self.out) {
            (Some(holder), None, None) => {
                let wallet = open(holder, false)?;
                unlock(&wallet)?;
                let key = wallet.create_device_key()?;
                Ok(Destination::Wallet(wallet, key, holder.clone()))
            }
            (None, Some(public_key), Some(out)) => {
                Ok(Destination::File(read(public_key)?, out.clone()))
            }
            _ => Err(CliError::from(
                "give --holder WALLET, or --public-key FILE and --out FILE".to_string(),
            )),
        }
    }
}

impl Destination {
    /// The public key to issue to.
    pub fn public_key(&self) -> Vec<u8> {
        match self {
            Destination::Wallet(_, key, _) => key.public_key.clone(),
            Destination::File(key, _) => key.clone(),
        }
    }
}
