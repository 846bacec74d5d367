//! Helpers the plumbing tests of every bank share: a fast retry policy and views of what a
//! mock bank received.

use std::time::Duration;

use psd2::retry::RetryPolicy;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// Retries without noticeable waits.
pub fn fast() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        jitter: false,
        ..RetryPolicy::default()
    }
}

pub async fn requests_to(server: &MockServer, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .collect()
}

pub fn key_of(r: &Request) -> Option<String> {
    r.url
        .query_pairs()
        .find(|(k, _)| k == "continuationKey")
        .map(|(_, v)| v.into_owned())
}

/// Answers `status` to the first `times` matching requests (priority over the normal mock).
pub fn failing(m: wiremock::MockBuilder, status: u16, times: u64) -> Mock {
    m.respond_with(ResponseTemplate::new(status).set_body_string("<html>busy</html>"))
        .up_to_n_times(times)
        .with_priority(1)
}
