//! Secrets: reading them from an environment variable when set, otherwise one line of
//! standard input (with a prompt on stderr when it is a terminal), never from arguments, which
//! other users of the machine can see; and making random ones from the operating system.

use std::io::{BufRead, IsTerminal, Read, Write};

use zeroize::Zeroizing;

/// Reads a secret from `var`, or else a line from stdin after showing `prompt`.
pub fn read(var: &str, prompt: &str) -> Result<Zeroizing<String>, String> {
    if let Ok(value) = std::env::var(var) {
        return Ok(Zeroizing::new(value));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("{prompt} ({var} not set): ");
        let _ = std::io::stderr().flush();
    }
    let mut line = Zeroizing::new(String::new());
    let read = stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("reading {prompt}: {e}"))?;
    if read == 0 {
        return Err(format!("{prompt} needed: set {var} or pipe it on stdin"));
    }
    let trimmed = line.trim_end_matches(['\r', '\n']).to_owned();
    Ok(Zeroizing::new(trimmed))
}

/// `n` random bytes from the operating system (`/dev/urandom`): keys the CLI keeps, and the
/// tokens, codes and nonces its test servers hand out.
pub fn random_bytes(n: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes)
}
