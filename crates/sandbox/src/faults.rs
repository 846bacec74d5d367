//! Faults on demand: server errors, rate limiting, latency, broken bodies and paging bugs.
//!
//! A [`FaultConfig`] is plain JSON (camelCase) so the admin endpoint and the builder share
//! it. Every "every k-th" counter counts the calls that match the fault's bank and path
//! filter, starting at 1: with `serverErrorEvery: 3` calls 3, 6, 9, ... fail.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::config::Bank;
use crate::errors::ApiError;
use crate::rng::hash;
use crate::state::AppState;

/// One fault rule. All fields are optional; set the ones you want.
///
/// ```json
/// {"bank": "swedbank", "pathContains": "/transactions", "method": "GET",
///  "randomShare": 0.05, "seed": 7, "randomKinds": ["serverError", "truncate"],
///  "serverErrorEvery": 3, "serverErrorStatus": 503,
///  "rateLimitEvery": 5, "retryAfterSecs": 1, "latencyMs": 200,
///  "truncateEvery": 4, "malformedEvery": 7,
///  "emptyPageWithNext": true, "repeatContinuationKey": true}
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Bank the rule applies to; absent = every bank.
    pub bank: Option<Bank>,
    /// Only requests whose path (below the bank prefix) contains this text.
    pub path_contains: Option<String>,
    /// Every k-th matching call answers `serverErrorStatus`.
    pub server_error_every: Option<u64>,
    /// Status of injected server errors (500 or 503; default 503).
    pub server_error_status: Option<u16>,
    /// Every k-th matching call answers 429 with `Retry-After`.
    pub rate_limit_every: Option<u64>,
    /// `Retry-After` seconds of injected 429s (default 1).
    pub retry_after_secs: Option<u64>,
    /// Latency added to every matching call.
    pub latency_ms: Option<u64>,
    /// Every k-th matching call gets a body cut in half.
    pub truncate_every: Option<u64>,
    /// Every k-th matching call gets a body that is not valid JSON.
    pub malformed_every: Option<u64>,
    /// First transaction pages come back empty, with a `next` link to the real first page.
    pub empty_page_with_next: bool,
    /// Follow-up transaction pages link to themselves again (a repeated continuation key).
    pub repeat_continuation_key: bool,
    /// Only requests with this HTTP method (e.g. `GET`, so that consent creation and other
    /// calls a client must not retry blindly stay untouched).
    pub method: Option<String>,
    /// A share (0.0 to 1.0) of the matching calls that get a random transient fault, on
    /// top of the "every k-th" rules. The n-th matching call's draw depends only on
    /// `seed` and n, so a run with the same seed and call order faults the same calls.
    pub random_share: Option<f64>,
    /// Seed of `randomShare`.
    pub seed: u64,
    /// What a random fault may be (default: server error, truncated body, malformed body).
    pub random_kinds: Option<Vec<RandomFault>>,
}

/// The kinds of fault a random draw picks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RandomFault {
    /// `serverErrorStatus`, or one of 500, 502, 503, 504.
    ServerError,
    /// 429 with `Retry-After: retryAfterSecs` (default 1).
    RateLimit,
    /// The body cut in half.
    Truncate,
    /// A body that is not valid JSON.
    Malformed,
}

const DEFAULT_RANDOM_KINDS: [RandomFault; 3] = [
    RandomFault::ServerError,
    RandomFault::Truncate,
    RandomFault::Malformed,
];

impl FaultConfig {
    /// Checks the values a rule cannot work with (`randomShare` outside 0..=1).
    pub fn validate(&self) -> Result<(), String> {
        if let Some(share) = self.random_share
            && !(share.is_finite() && (0.0..=1.0).contains(&share))
        {
            return Err("randomShare must be a number from 0.0 to 1.0".to_string());
        }
        if self.random_kinds.as_ref().is_some_and(Vec::is_empty) {
            return Err("randomKinds must name at least one kind".to_string());
        }
        Ok(())
    }

    fn matches(&self, bank: Bank, method: &str, path: &str) -> bool {
        self.bank.is_none_or(|b| b == bank)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.contains(p))
    }
}

#[derive(Debug)]
struct ActiveFault {
    config: FaultConfig,
    calls: AtomicU64,
}

/// The faults currently active.
#[derive(Debug, Default)]
pub struct FaultSet {
    active: RwLock<Vec<Arc<ActiveFault>>>,
}

/// What the faults decided for one call.
#[derive(Debug, Default)]
struct Decision {
    latency: u64,
    error: Option<(StatusCode, Option<u64>)>,
    truncate: bool,
    malformed: bool,
}

impl FaultSet {
    /// A set holding `faults`.
    pub fn new(faults: Vec<FaultConfig>) -> Self {
        let set = Self::default();
        for f in faults {
            set.add(f);
        }
        set
    }

    /// Adds a rule.
    pub fn add(&self, config: FaultConfig) {
        if let Ok(mut a) = self.active.write() {
            a.push(Arc::new(ActiveFault {
                config,
                calls: AtomicU64::new(0),
            }));
        }
    }

    /// Removes all rules.
    pub fn clear(&self) {
        if let Ok(mut a) = self.active.write() {
            a.clear();
        }
    }

    /// The active rules.
    pub fn list(&self) -> Vec<FaultConfig> {
        self.active
            .read()
            .map(|a| a.iter().map(|f| f.config.clone()).collect())
            .unwrap_or_default()
    }

    /// Whether a paging fault is on for this bank and path.
    pub fn paging(&self, bank: Bank, path: &str) -> (bool, bool) {
        let list = self.list();
        let m = list.iter().filter(|f| f.matches(bank, "GET", path));
        let mut empty = false;
        let mut repeat = false;
        for f in m {
            empty |= f.empty_page_with_next;
            repeat |= f.repeat_continuation_key;
        }
        (empty, repeat)
    }

    fn decide(&self, bank: Bank, method: &str, path: &str) -> Decision {
        let mut d = Decision::default();
        let active = self.active.read().map(|a| a.clone()).unwrap_or_default();
        for f in active
            .iter()
            .filter(|f| f.config.matches(bank, method, path))
        {
            let n = f.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let hit = |every: Option<u64>| every.is_some_and(|k| k > 0 && n % k == 0);
            let c = &f.config;
            d.latency = d.latency.max(c.latency_ms.unwrap_or(0));
            if d.error.is_none() && hit(c.server_error_every) {
                d.error = Some((server_error_status(c, None), None));
            }
            if d.error.is_none() && hit(c.rate_limit_every) {
                d.error = Some((
                    StatusCode::TOO_MANY_REQUESTS,
                    Some(c.retry_after_secs.unwrap_or(1)),
                ));
            }
            d.truncate |= hit(c.truncate_every);
            d.malformed |= hit(c.malformed_every);
            if let Some(kind) = random_draw(c, n) {
                match kind {
                    RandomFault::ServerError if d.error.is_none() => {
                        d.error = Some((server_error_status(c, Some(n)), None));
                    }
                    RandomFault::RateLimit if d.error.is_none() => {
                        d.error = Some((
                            StatusCode::TOO_MANY_REQUESTS,
                            Some(c.retry_after_secs.unwrap_or(1)),
                        ));
                    }
                    RandomFault::Truncate => d.truncate = true,
                    RandomFault::Malformed => d.malformed = true,
                    _ => {}
                }
            }
        }
        d
    }
}

/// The status of an injected server error: the rule's, or (random draws) one of the 5xx.
fn server_error_status(c: &FaultConfig, draw: Option<u64>) -> StatusCode {
    const STATUSES: [u16; 4] = [500, 502, 503, 504];
    let status = match (c.server_error_status, draw) {
        (Some(s), _) => s,
        (None, Some(n)) => STATUSES[usize::try_from(hash(&[c.seed, n, 0x5E]) % 4).unwrap_or(0)],
        (None, None) => 503,
    };
    StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
}

/// Whether the n-th matching call gets a random fault, and which.
fn random_draw(c: &FaultConfig, n: u64) -> Option<RandomFault> {
    let share = c.random_share.filter(|s| s.is_finite() && *s > 0.0)?;
    // 53 random bits as a uniform number in [0, 1).
    let u = (hash(&[c.seed, n, 0xFA17]) >> 11) as f64 / (1u64 << 53) as f64;
    if u >= share {
        return None;
    }
    let kinds = c
        .random_kinds
        .as_deref()
        .filter(|k| !k.is_empty())
        .unwrap_or(&DEFAULT_RANDOM_KINDS);
    let i = usize::try_from(hash(&[c.seed, n, 0x7E]) % kinds.len() as u64).unwrap_or(0);
    kinds.get(i).copied()
}

/// Middleware applying the active faults to one bank's routes.
pub async fn fault_layer(
    State((state, bank)): State<(Arc<AppState>, Bank)>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let d = state.faults.decide(bank, req.method().as_str(), &path);
    if d.latency > 0 {
        tokio::time::sleep(Duration::from_millis(d.latency)).await;
    }
    if let Some((status, retry)) = d.error {
        let err = match retry {
            Some(secs) => ApiError::new(
                status,
                "TOO_MANY_REQUESTS",
                "Too many requests (injected fault).",
            )
            .with_retry_after(secs),
            None => match status {
                StatusCode::SERVICE_UNAVAILABLE => ApiError::new(
                    status,
                    "SERVICE_UNAVAILABLE",
                    "Service unavailable (injected fault).",
                ),
                StatusCode::BAD_GATEWAY => {
                    ApiError::new(status, "BAD_GATEWAY", "Bad gateway (injected fault).")
                }
                StatusCode::GATEWAY_TIMEOUT => ApiError::new(
                    status,
                    "GATEWAY_TIMEOUT",
                    "Gateway timeout (injected fault).",
                ),
                _ => ApiError::new(
                    status,
                    "INTERNAL_SERVER_ERROR",
                    "Internal server error (injected fault).",
                ),
            },
        };
        return err.for_bank(bank).into_response();
    }
    let resp = next.run(req).await;
    if !(d.truncate || d.malformed) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let out: Vec<u8> = if d.truncate {
        let cut = (bytes.len() / 2).max(1).min(bytes.len());
        bytes[..cut].to_vec()
    } else {
        let mut v = bytes.to_vec();
        match v.iter().position(|b| *b == b':') {
            Some(i) => v[i] = b'=',
            None => v.extend_from_slice(b"{\"broken\""),
        }
        v
    };
    parts.headers.remove("content-length");
    if let Ok(v) = HeaderValue::from_str(&out.len().to_string()) {
        parts.headers.insert("content-length", v);
    }
    Response::from_parts(parts, Body::from(out))
}
