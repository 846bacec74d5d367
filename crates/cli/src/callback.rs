//! The local HTTP listener for the redirect SCA callback (axum).
//!
//! It waits for the one request that is the bank's redirect: the redirect URI's path with
//! the `state` this SCA was started with. `state` is checked before anything else in the
//! query is looked at, so a stray or forged request (another web page the PSU has open, a
//! favicon fetch, `?error=access_denied` without the right state) can neither finish nor
//! abort the SCA: it gets a page saying it was ignored, and the listener keeps waiting
//! until the real redirect or the timeout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Html;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

use crate::error::CliError;

/// The page for the bank's redirect carrying an authorisation code.
pub const PAGE_RECEIVED: &str = "<html><body><p>psd2: authorisation received. You can close \
     this window and return to the terminal.</p></body></html>";
/// The page for the bank's redirect reporting that authorisation was not given.
pub const PAGE_NOT_GIVEN: &str = "<html><body><p>psd2: the bank reports that authorisation \
     was not given. Return to the terminal for details.</p></body></html>";
/// The page for a request on the callback path without this SCA's `state`.
pub const PAGE_IGNORED: &str = "<html><body><p>psd2: this request does not belong to the \
     authorisation in progress and was ignored; psd2 is still waiting for the bank's \
     redirect.</p></body></html>";
/// The page for any other path.
pub const PAGE_WAITING: &str =
    "<html><body><p>psd2: waiting for the bank's redirect.</p></body></html>";

/// A bound callback listener.
pub struct CallbackServer {
    listener: TcpListener,
    path: String,
}

/// What the handler shares: the path and state waited for, and where the hit goes.
struct Waiting {
    path: String,
    state: String,
    hit: Mutex<Option<oneshot::Sender<Url>>>,
}

impl CallbackServer {
    /// Binds `127.0.0.1:port`; `redirect_uri`'s path is the one waited for.
    pub async fn bind(port: u16, redirect_uri: &Url) -> Result<Self, CliError> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            CliError::Usage(format!(
                "cannot listen on 127.0.0.1:{port} for the SCA redirect: {} (choose another \
                 --callback-port)",
                e.kind()
            ))
        })?;
        Ok(Self {
            listener,
            path: redirect_uri.path().to_string(),
        })
    }

    /// The port it listens on.
    #[cfg(test)]
    pub fn port(&self) -> Option<u16> {
        self.listener.local_addr().ok().map(|a| a.port())
    }

    /// Waits for the bank's redirect carrying `state`; the URL it came back to. Requests
    /// without that state are answered and ignored. After `timeout`, the SCA-timeout error.
    pub async fn wait(self, state: &str, timeout: Duration) -> Result<Url, CliError> {
        let (tx, rx) = oneshot::channel();
        let waiting = Arc::new(Waiting {
            path: self.path,
            state: state.to_string(),
            hit: Mutex::new(Some(tx)),
        });
        let app = Router::new().fallback(handle).with_state(waiting);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        });
        let server = tokio::spawn(async move { server.await });
        let result = tokio::time::timeout(timeout, rx).await;
        let _ = stop_tx.send(());
        // The answer page has been written by then; shutting down only waits for it.
        let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
        match result {
            Ok(Ok(url)) => Ok(url),
            Ok(Err(_)) => Err(CliError::Local(
                "the SCA callback listener stopped unexpectedly".into(),
            )),
            Err(_) => Err(CliError::ScaTimeout(format!(
                "no redirect from the bank arrived within {} s",
                timeout.as_secs()
            ))),
        }
    }
}

/// Compares two strings in time independent of where they first differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

async fn handle(State(waiting): State<Arc<Waiting>>, uri: Uri) -> (StatusCode, Html<&'static str>) {
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let Ok(url) = Url::parse("http://127.0.0.1/").and_then(|base| base.join(target)) else {
        return (StatusCode::BAD_REQUEST, Html(PAGE_IGNORED));
    };
    if url.path() != waiting.path {
        return (StatusCode::NOT_FOUND, Html(PAGE_WAITING));
    }
    // `state` first: nothing else in a request counts unless it carries this SCA's state.
    let states: Vec<String> = url
        .query_pairs()
        .filter(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .collect();
    let [state] = states.as_slice() else {
        return (StatusCode::BAD_REQUEST, Html(PAGE_IGNORED));
    };
    if !same_secret(state, &waiting.state) {
        return (StatusCode::BAD_REQUEST, Html(PAGE_IGNORED));
    }
    let has_code = url.query_pairs().any(|(k, _)| k == "code");
    let has_error = url.query_pairs().any(|(k, _)| k == "error");
    let sender = match waiting.hit.lock() {
        Ok(mut slot) => slot.take(),
        Err(poisoned) => poisoned.into_inner().take(),
    };
    let Some(sender) = sender else {
        // A second redirect after the first was taken: nothing more to do.
        return (StatusCode::OK, Html(PAGE_IGNORED));
    };
    let _ = sender.send(url);
    if has_code && !has_error {
        (StatusCode::OK, Html(PAGE_RECEIVED))
    } else {
        (StatusCode::OK, Html(PAGE_NOT_GIVEN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(port: u16, path_and_query: &str) -> (u16, String) {
        let response = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}{path_and_query}"))
            .send()
            .await
            .expect("send");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    #[tokio::test]
    async fn only_the_request_with_this_state_counts() {
        let uri = Url::parse("http://127.0.0.1:0/callback").expect("url");
        let server = CallbackServer::bind(0, &uri).await.expect("bind");
        let port = server.port().expect("port");
        let waiter = tokio::spawn(server.wait("s-expected", Duration::from_secs(20)));
        // Other paths, and requests on the callback path without the right state, are
        // answered without "authorisation received" and ignored.
        let (status, body) = get(port, "/favicon.ico").await;
        assert_eq!((status, body.as_str()), (404, PAGE_WAITING));
        for stray in [
            "/callback?error=access_denied",
            "/callback?error=access_denied&state=s-other",
            "/callback?code=c1",
            "/callback?code=c1&state=s-expecte",
            "/callback?code=c1&state=s-expected&state=s-other",
            "/callback?code=c1&state=S-EXPECTED",
        ] {
            let (status, body) = get(port, stray).await;
            assert_eq!(status, 400, "{stray}");
            assert!(!body.contains("authorisation received"), "{stray}: {body}");
            assert!(body.contains("ignored"), "{stray}: {body}");
        }
        assert!(!waiter.is_finished(), "a stray request ended the wait");
        // The real redirect is still served (the listener did not stop).
        let (status, body) = get(port, "/callback?code=c1&state=s-expected").await;
        assert_eq!((status, body.as_str()), (200, PAGE_RECEIVED));
        let url = waiter.await.expect("join").expect("url");
        assert_eq!(url.query(), Some("code=c1&state=s-expected"));
    }

    #[tokio::test]
    async fn a_refusal_with_the_right_state_ends_the_wait_without_claiming_success() {
        let uri = Url::parse("http://127.0.0.1:0/cb").expect("url");
        let server = CallbackServer::bind(0, &uri).await.expect("bind");
        let port = server.port().expect("port");
        let waiter = tokio::spawn(server.wait("s1", Duration::from_secs(20)));
        let (status, body) = get(port, "/cb?error=access_denied&state=s1").await;
        assert_eq!((status, body.as_str()), (200, PAGE_NOT_GIVEN));
        let url = waiter.await.expect("join").expect("url");
        assert_eq!(url.query(), Some("error=access_denied&state=s1"));
    }

    #[tokio::test]
    async fn no_redirect_is_an_sca_timeout() {
        let uri = Url::parse("http://127.0.0.1:0/cb").expect("url");
        let server = CallbackServer::bind(0, &uri).await.expect("bind");
        let e = server
            .wait("s1", Duration::from_millis(200))
            .await
            .expect_err("timeout");
        assert!(matches!(e, CliError::ScaTimeout(_)), "{e}");
        assert_eq!(e.exit_code(), crate::error::EXIT_SCA_TIMEOUT);
    }
}
