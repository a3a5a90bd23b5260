//! The host's network stack as the core sees it: one `HttpClient` foreign trait that sends a
//! request and returns the response. The core has no HTTP stack of its own; status lists,
//! OpenID4VCI and OpenID4VP all go through this, so the host's TLS settings, proxies and
//! certificate pinning apply.

use super::WalletError;

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HttpMethod {
    /// GET.
    Get,
    /// POST.
    Post,
}

/// A header.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// Name (compare case-insensitively).
    pub name: String,
    /// Value.
    pub value: String,
}

/// A request for the host to send.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// Method.
    pub method: HttpMethod,
    /// The URL (https, except where a test server was explicitly configured otherwise).
    pub url: String,
    /// Headers to send (`Content-Type`, `Authorization`, ...).
    pub headers: Vec<HttpHeader>,
    /// The body (empty for GET).
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A GET of `url`.
    pub fn get(url: &str) -> Self {
        HttpRequest {
            method: HttpMethod::Get,
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A POST of `body` with `content_type` to `url`.
    pub fn post(url: &str, content_type: &str, body: Vec<u8>) -> Self {
        HttpRequest {
            method: HttpMethod::Post,
            url: url.to_owned(),
            headers: vec![HttpHeader {
                name: "Content-Type".into(),
                value: content_type.to_owned(),
            }],
            body,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push(HttpHeader {
            name: name.to_owned(),
            value: value.to_owned(),
        });
        self
    }
}

/// An HTTP response from the host's network stack.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// The Content-Type header, if any.
    pub content_type: Option<String>,
    /// Every header (names as received).
    #[uniffi(default = [])]
    pub headers: Vec<HttpHeader>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

/// The host's HTTP client: status lists, issuance and online presentation go through the
/// host's network stack, proxies and certificate pinning.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait HttpClient: Send + Sync {
    /// Sends `request` and returns the response; a transport failure is an error, an HTTP
    /// error status is a response. Follow no redirects: the core handles them where a
    /// protocol allows them.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, WalletError>;
}
