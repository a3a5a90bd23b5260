//! Plain HTTP/1.1 over loopback for the CLI: a GET client (the CLI's `HttpClient`) and a tiny
//! server for test status lists. Only `http://` URLs: on a phone the host's own network stack
//! (with TLS, proxies and pinning) implements `HttpClient`; the CLI talks to local test servers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use wallet_core::{HttpClient, HttpResponse, WalletError};

/// Largest response body the client reads.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Largest request or header block either side reads.
const MAX_HEAD: usize = 16 * 1024;

fn split_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("the CLI fetches only http:// URLs (test servers), not {url}"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(format!("no host in {url}"));
    }
    let authority = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path.to_string()))
}

/// GET `url` (blocking).
pub fn get(url: &str) -> Result<HttpResponse, String> {
    let (authority, path) = split_url(url)?;
    let mut stream =
        TcpStream::connect(&authority).map_err(|e| format!("connecting to {authority}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let host = authority.split(':').next().unwrap_or_default();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/statuslist+jwt, application/statuslist+cwt, */*\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .map_err(|e| e.to_string())?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {}", status_line.trim()))?;
    let mut content_type = None;
    let mut content_length = None;
    let mut head = status_line.len();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).map_err(|e| e.to_string())?;
        head += n;
        if head > MAX_HEAD {
            return Err("response headers too large".into());
        }
        let line = line.trim_end();
        if n == 0 || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-type" => content_type = Some(value.trim().to_string()),
                "content-length" => content_length = value.trim().parse::<usize>().ok(),
                "transfer-encoding" if !value.trim().eq_ignore_ascii_case("identity") => {
                    return Err("chunked responses are not supported by the CLI's client".into())
                }
                _ => {}
            }
        }
    }
    let mut body = Vec::new();
    match content_length {
        Some(len) if len > MAX_BODY => return Err("response too large".into()),
        Some(len) => {
            body.resize(len, 0);
            reader.read_exact(&mut body).map_err(|e| e.to_string())?;
        }
        None => {
            reader
                .take(MAX_BODY as u64 + 1)
                .read_to_end(&mut body)
                .map_err(|e| e.to_string())?;
            if body.len() > MAX_BODY {
                return Err("response too large".into());
            }
        }
    }
    Ok(HttpResponse {
        status,
        content_type,
        body,
    })
}

/// The CLI's `HttpClient`: plain HTTP on a blocking thread.
pub struct CliHttpClient;

#[async_trait::async_trait]
impl HttpClient for CliHttpClient {
    async fn get(&self, url: String) -> Result<HttpResponse, WalletError> {
        tokio::task::spawn_blocking(move || get(&url))
            .await
            .map_err(|e| WalletError::HostCallback {
                reason: e.to_string(),
            })?
            .map_err(|reason| WalletError::HostCallback { reason })
    }
}

/// Serves GET requests from `listener` with `route(path)` → (content type, body), one
/// connection at a time, until `keep_going` says stop. Returns after the listener fails.
pub fn serve(
    listener: TcpListener,
    route: impl Fn(&str) -> Option<(String, Vec<u8>)>,
    keep_going: impl Fn() -> bool,
) {
    for stream in listener.incoming() {
        if !keep_going() {
            return;
        }
        let Ok(mut stream) = stream else { continue };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut reader = BufReader::new(match stream.try_clone() {
            Ok(s) => s,
            Err(_) => continue,
        });
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            continue;
        }
        let mut head = request_line.len();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(n) => head += n,
            }
            if line.trim_end().is_empty() || head > MAX_HEAD {
                break;
            }
        }
        let mut parts = request_line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let response = match (method, route(path)) {
            ("GET", Some((content_type, body))) => (200, "OK", content_type, body),
            ("GET", None) => (
                404,
                "Not Found",
                "text/plain".to_string(),
                b"not found\n".to_vec(),
            ),
            _ => (
                405,
                "Method Not Allowed",
                "text/plain".to_string(),
                b"GET only\n".to_vec(),
            ),
        };
        let _ = write!(
            stream,
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            response.0,
            response.1,
            response.2,
            response.3.len()
        );
        let _ = stream.write_all(&response.3);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_and_serve_over_loopback() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let served = std::sync::atomic::AtomicUsize::new(0);
            serve(
                listener,
                |path| {
                    (path == "/lists/1")
                        .then(|| ("application/statuslist+jwt".to_string(), b"token".to_vec()))
                },
                || served.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2,
            );
        });
        let ok = get(&format!("http://127.0.0.1:{port}/lists/1")).unwrap();
        assert_eq!(
            (ok.status, ok.body.as_slice(), ok.content_type.as_deref()),
            (200, &b"token"[..], Some("application/statuslist+jwt"))
        );
        assert_eq!(
            get(&format!("http://127.0.0.1:{port}/other"))
                .unwrap()
                .status,
            404
        );
        // The third connection tells the server to stop.
        let _ = get(&format!("http://127.0.0.1:{port}/"));
        server.join().unwrap();
        assert!(get("https://example.com/x")
            .unwrap_err()
            .contains("http://"));
        assert!(get("http:///x").is_err());
    }
}
