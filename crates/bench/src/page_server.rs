//! A page server that costs (almost) nothing: answers recorded once from a running sandbox,
//! served again from memory over loopback, so a benchmark times the client and not the
//! sandbox building its pages.
//!
//! ```text
//! let mut pages = PageServer::new(&sandbox.bank_url(Bank::OpenPayments))?;
//! // GET the first page with these headers, then every `_links.next` after it:
//! let crawl = pages.crawl(&http, "/psd2/accountinformation/v1/accounts/ID/transactions?bookingStatus=both", &headers).await?;
//! let server = pages.start().await?;          // serves until dropped
//! let base = server.base_url();               // http://127.0.0.1:PORT/openpayments
//! // ... point the client under test at `base` ...
//! let stats = server.stats();                 // how many answers came from memory
//! ```
//!
//! A request is answered from memory when its method is `GET` and its path and query match
//! a recorded request; query parameters are compared as decoded pairs in any order, headers
//! are not compared (the server checks no token or consent; like the sandbox, it echoes
//! `X-Request-ID`). Every other request (token,
//! consent, account calls, a window that was not recorded) is forwarded to the upstream
//! sandbox and answered with what it says, counted in [`PageStats::forwarded`]. The base
//! URL keeps the upstream's path prefix, so the links in recorded bodies (relative to the
//! bank, e.g. `/psd2/...`) resolve against it as they did against the sandbox.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use crate::BenchError;

/// Bodies larger than this are not forwarded (the sandbox's requests are small).
const MAX_FORWARDED_BODY: usize = 16 * 1024 * 1024;

/// Headers that describe one connection or one encoding, never copied into an answer.
const HOP_BY_HOP: [&str; 5] = [
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "date",
];

/// One recorded answer: status, headers and the exact body bytes.
#[derive(Debug, Clone)]
pub struct Page {
    /// HTTP status.
    pub status: StatusCode,
    /// Headers as the sandbox sent them, without hop-by-hop headers.
    pub headers: HeaderMap,
    /// The body, byte for byte.
    pub body: Bytes,
}

/// What a [`PageServer::crawl`] recorded and how fast the sandbox answered it.
#[derive(Debug, Clone, Serialize)]
pub struct Crawl {
    /// The recorded requests in order (path and query relative to the bank's base).
    #[serde(skip)]
    pub requests: Vec<String>,
    /// Pages recorded (the first one included).
    pub pages: u64,
    /// Entries in the pages' `transactions.booked` and `transactions.pending` lists.
    pub items: u64,
    /// Body bytes recorded.
    pub bytes: u64,
    /// Wall time of the crawl: the sandbox's time to build and send every page, received
    /// with `reqwest` into bytes (plus one `serde_json::Value` parse per page to find the
    /// next link, which is in the figure too).
    pub secs: f64,
}

/// Answers counted by a running server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PageStats {
    /// Requests answered from memory.
    pub served: u64,
    /// Requests forwarded to the upstream sandbox.
    pub forwarded: u64,
    /// Body bytes answered from memory.
    pub served_bytes: u64,
}

/// Recorded answers and the sandbox they came from; [`PageServer::start`] serves them.
#[derive(Debug)]
pub struct PageServer {
    upstream: url::Url,
    pages: HashMap<String, Page>,
}

/// The key of a request: its path, then its query as sorted decoded pairs.
pub fn request_key(path: &str, query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    pairs.sort();
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        out.append_pair(k, v);
    }
    let query = out.finish();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

fn unexpected(what: &str, e: impl std::fmt::Display) -> BenchError {
    BenchError::Unexpected(format!("page server: {what}: {e}"))
}

/// The `_links.next.href` of a transactions answer (`transactions._links` as Open Payments
/// and Berlin Group put it, or a top-level `_links`).
pub fn next_href(body: &Value) -> Option<&str> {
    let in_report = body
        .get("transactions")
        .and_then(|t| t.get("_links"))
        .and_then(|l| l.get("next"));
    in_report
        .or_else(|| body.get("_links").and_then(|l| l.get("next")))
        .and_then(|n| n.get("href"))
        .and_then(Value::as_str)
}

/// Entries in `transactions.booked` and `transactions.pending` of an answer.
fn entries(body: &Value) -> u64 {
    ["booked", "pending"]
        .iter()
        .filter_map(|list| body.get("transactions")?.get(list)?.as_array())
        .map(|a| a.len() as u64)
        .sum()
}

impl PageServer {
    /// An empty server in front of `upstream`, a bank's base URL on the sandbox
    /// (`RunningSandbox::bank_url`, e.g. `http://127.0.0.1:PORT/openpayments`).
    pub fn new(upstream: &str) -> Result<PageServer, BenchError> {
        let upstream = url::Url::parse(upstream).map_err(|e| unexpected(upstream, e))?;
        Ok(PageServer {
            upstream,
            pages: HashMap::new(),
        })
    }

    /// The upstream URL of `path_and_query` (relative to the bank's base, e.g.
    /// `/psd2/accountinformation/v1/accounts/ID/transactions?...`).
    fn upstream_url(&self, path_and_query: &str) -> Result<url::Url, BenchError> {
        if path_and_query.starts_with("http://") || path_and_query.starts_with("https://") {
            return url::Url::parse(path_and_query).map_err(|e| unexpected(path_and_query, e));
        }
        let base = self.upstream.as_str().trim_end_matches('/');
        url::Url::parse(&format!("{base}{path_and_query}"))
            .map_err(|e| unexpected(path_and_query, e))
    }

    /// GETs `path_and_query` (relative to the bank's base) from the sandbox with `headers`
    /// and records the answer, whatever its status; returns it.
    pub async fn record(
        &mut self,
        http: &reqwest::Client,
        path_and_query: &str,
        headers: &HeaderMap,
    ) -> Result<Page, BenchError> {
        let url = self.upstream_url(path_and_query)?;
        let resp = http
            .get(url.clone())
            .headers(headers.clone())
            .send()
            .await?;
        let status = resp.status();
        let mut kept = HeaderMap::new();
        for (name, value) in resp.headers() {
            if !HOP_BY_HOP.contains(&name.as_str()) {
                kept.append(name.clone(), value.clone());
            }
        }
        let body = resp.bytes().await?;
        let page = Page {
            status,
            headers: kept,
            body,
        };
        self.pages
            .insert(request_key(url.path(), url.query()), page.clone());
        Ok(page)
    }

    /// Records `first` and every page its `_links.next` chain leads to (each with
    /// `headers`); fails on an answer other than 200 or on a link back to a recorded page.
    pub async fn crawl(
        &mut self,
        http: &reqwest::Client,
        first: &str,
        headers: &HeaderMap,
    ) -> Result<Crawl, BenchError> {
        let start = Instant::now();
        let mut crawl = Crawl {
            requests: Vec::new(),
            pages: 0,
            items: 0,
            bytes: 0,
            secs: 0.0,
        };
        let mut next = Some(first.to_string());
        let mut seen = std::collections::HashSet::new();
        while let Some(href) = next.take() {
            let url = self.upstream_url(&href)?;
            if !seen.insert(request_key(url.path(), url.query())) {
                return Err(unexpected("a next link back to a recorded page", href));
            }
            let page = self.record(http, &href, headers).await?;
            crawl.requests.push(href.clone());
            if page.status != StatusCode::OK {
                return Err(unexpected(&href, format!("answered {}", page.status)));
            }
            let body: Value = serde_json::from_slice(&page.body)?;
            crawl.pages = crawl.pages.saturating_add(1);
            crawl.items = crawl.items.saturating_add(entries(&body));
            crawl.bytes = crawl.bytes.saturating_add(page.body.len() as u64);
            next = next_href(&body).map(str::to_owned);
        }
        crawl.secs = start.elapsed().as_secs_f64();
        Ok(crawl)
    }

    /// Adds (or replaces) the answer to `GET path_and_query` (relative to the bank's base).
    pub fn insert(&mut self, path_and_query: &str, page: Page) -> Result<(), BenchError> {
        let url = self.upstream_url(path_and_query)?;
        self.pages
            .insert(request_key(url.path(), url.query()), page);
        Ok(())
    }

    /// Recorded answers.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Body bytes of all recorded answers.
    pub fn bytes(&self) -> u64 {
        self.pages.values().map(|p| p.body.len() as u64).sum()
    }

    /// Binds `127.0.0.1` on a free port and serves until the returned handle is dropped.
    pub async fn start(self) -> Result<RunningPageServer, BenchError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let prefix = self.upstream.path().trim_end_matches('/').to_string();
        let state = Arc::new(Shared {
            pages: self.pages,
            upstream: self.upstream,
            http: reqwest::Client::new(),
            served: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
            served_bytes: AtomicU64::new(0),
        });
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(RunningPageServer {
            base_url: format!("http://{addr}{prefix}"),
            state,
            task,
        })
    }
}

/// What the handler shares.
#[derive(Debug)]
struct Shared {
    pages: HashMap<String, Page>,
    upstream: url::Url,
    http: reqwest::Client,
    served: AtomicU64,
    forwarded: AtomicU64,
    served_bytes: AtomicU64,
}

/// A serving page server; stops when dropped.
#[derive(Debug)]
pub struct RunningPageServer {
    base_url: String,
    state: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningPageServer {
    /// The bank's base URL on this server (`http://127.0.0.1:PORT` + the upstream's path).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Answers counted since the start.
    pub fn stats(&self) -> PageStats {
        PageStats {
            served: self.state.served.load(Ordering::Relaxed),
            forwarded: self.state.forwarded.load(Ordering::Relaxed),
            served_bytes: self.state.served_bytes.load(Ordering::Relaxed),
        }
    }
}

impl Drop for RunningPageServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The only handler: a recorded answer, or the upstream's.
async fn answer(
    axum::extract::State(state): axum::extract::State<Arc<Shared>>,
    request: Request<Body>,
) -> Response<Body> {
    if request.method() == Method::GET {
        let key = request_key(request.uri().path(), request.uri().query());
        if let Some(page) = state.pages.get(&key) {
            state.served.fetch_add(1, Ordering::Relaxed);
            state
                .served_bytes
                .fetch_add(page.body.len() as u64, Ordering::Relaxed);
            let mut resp = Response::new(Body::from(page.body.clone()));
            *resp.status_mut() = page.status;
            *resp.headers_mut() = page.headers.clone();
            // The sandbox echoes the request's id; so does the page server.
            if let Some(id) = request.headers().get("x-request-id") {
                resp.headers_mut().insert("x-request-id", id.clone());
            }
            return resp;
        }
    }
    state.forwarded.fetch_add(1, Ordering::Relaxed);
    match forward(&state, request).await {
        Ok(resp) => resp,
        Err(why) => {
            let mut resp = Response::new(Body::from(why));
            *resp.status_mut() = StatusCode::BAD_GATEWAY;
            resp
        }
    }
}

/// Sends `request` to the upstream (same method, path, query, headers and body).
async fn forward(state: &Shared, request: Request<Body>) -> Result<Response<Body>, String> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_FORWARDED_BODY)
        .await
        .map_err(|e| format!("request body: {e}"))?;
    let mut url = state.upstream.clone();
    url.set_path(parts.uri.path());
    url.set_query(parts.uri.query());
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        if name != "host" && !HOP_BY_HOP.contains(&name.as_str()) {
            headers.append(name.clone(), value.clone());
        }
    }
    let resp = state
        .http
        .request(parts.method, url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("upstream: {e}"))?;
    let status = resp.status();
    let mut out_headers = HeaderMap::new();
    for (name, value) in resp.headers() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            out_headers.append(name.clone(), value.clone());
        }
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| format!("upstream body: {e}"))?;
    let mut out = Response::new(Body::from(bytes));
    *out.status_mut() = status;
    *out.headers_mut() = out_headers;
    Ok(out)
}

/// A header map from name/value pairs (for [`PageServer::record`] and
/// [`PageServer::crawl`]); fails on a name or value HTTP does not allow.
pub fn headers(pairs: &[(&str, &str)]) -> Result<HeaderMap, BenchError> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| unexpected(name, e))?;
        let value = HeaderValue::from_str(value).map_err(|e| unexpected("header value", e))?;
        map.append(name, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_query_order_and_encoding() {
        // The sandbox writes next links with sorted parameters, clients send their own order.
        assert_eq!(
            request_key(
                "/a/tx",
                Some("dateTo=2026-01-02&bookingStatus=both&continuationKey=k%3D1")
            ),
            request_key(
                "/a/tx",
                Some("bookingStatus=both&continuationKey=k=1&dateTo=2026-01-02")
            ),
        );
        assert_ne!(
            request_key("/a/tx", Some("bookingStatus=both")),
            request_key("/a/tx", Some("bookingStatus=booked")),
        );
        assert_eq!(request_key("/a/tx", None), "/a/tx");
        assert_eq!(request_key("/a/tx", Some("")), "/a/tx");
    }

    #[test]
    fn next_links_in_the_report_or_at_the_top() {
        let bg = serde_json::json!({"transactions": {"booked": [1, 2], "pending": [3],
            "_links": {"next": {"href": "/v1/x?continuationKey=2"}}}});
        assert_eq!(next_href(&bg), Some("/v1/x?continuationKey=2"));
        assert_eq!(entries(&bg), 3);
        let top = serde_json::json!({"_links": {"next": {"href": "/n"}}});
        assert_eq!(next_href(&top), Some("/n"));
        assert_eq!(next_href(&serde_json::json!({"transactions": {}})), None);
    }
}
