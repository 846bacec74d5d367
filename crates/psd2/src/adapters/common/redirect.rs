//! The one store of redirect SCA `state` values: bounded and expiring.
//!
//! An adapter remembers the `state` it put on each redirect challenge, with the consent it
//! belongs to and what the callback needs (e.g. the redirect URI), so a callback is accepted
//! only with a state it handed out for that consent. At most [`MAX_REDIRECT_STATES`] are
//! kept (the oldest go first) and each is forgotten after [`REDIRECT_STATE_TTL`].

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::sync::lock;

/// Redirect states remembered per adapter value.
pub const MAX_REDIRECT_STATES: usize = 1024;

/// How long a redirect state is remembered (a PSU who takes longer starts SCA again).
pub const REDIRECT_STATE_TTL: Duration = Duration::from_secs(30 * 60);

struct Entry<V> {
    state: String,
    consent: String,
    value: V,
    created: Instant,
}

/// Redirect states handed out, each with its consent and a value.
pub struct RedirectStates<V> {
    entries: Mutex<VecDeque<Entry<V>>>,
    ttl: Duration,
    cap: usize,
}

impl<V: Clone> Default for RedirectStates<V> {
    fn default() -> Self {
        Self::with_limits(MAX_REDIRECT_STATES, REDIRECT_STATE_TTL)
    }
}

impl<V> std::fmt::Debug for RedirectStates<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedirectStates({} kept)", lock(&self.entries).len())
    }
}

impl<V: Clone> RedirectStates<V> {
    /// A store keeping at most `cap` states (at least one), each for `ttl`.
    pub fn with_limits(cap: usize, ttl: Duration) -> Self {
        Self {
            entries: Mutex::new(VecDeque::new()),
            ttl,
            cap: cap.max(1),
        }
    }

    fn expire(&self, entries: &mut VecDeque<Entry<V>>) {
        let now = Instant::now();
        entries.retain(|e| now.saturating_duration_since(e.created) < self.ttl);
    }

    /// Remembers `state` for `consent` with `value` (a newer state for the same consent
    /// replaces the older one).
    pub fn insert(&self, consent: &str, state: &str, value: V) {
        let mut entries = lock(&self.entries);
        self.expire(&mut entries);
        entries.retain(|e| e.consent != consent);
        while entries.len() >= self.cap {
            entries.pop_front();
        }
        entries.push_back(Entry {
            state: state.to_owned(),
            consent: consent.to_owned(),
            value,
            created: Instant::now(),
        });
    }

    /// The value of `state` if it was handed out for `consent` and has not expired.
    pub fn check(&self, consent: &str, state: &str) -> Option<V> {
        let mut entries = lock(&self.entries);
        self.expire(&mut entries);
        entries
            .iter()
            .find(|e| e.consent == consent && constant_time_eq(&e.state, state))
            .map(|e| e.value.clone())
    }

    /// Whether any state is remembered for `consent`.
    pub fn has_consent(&self, consent: &str) -> bool {
        let mut entries = lock(&self.entries);
        self.expire(&mut entries);
        entries.iter().any(|e| e.consent == consent)
    }

    /// Forgets every state of `consent`.
    pub fn forget(&self, consent: &str) {
        lock(&self.entries).retain(|e| e.consent != consent);
    }

    /// How many states are remembered.
    pub fn len(&self) -> usize {
        lock(&self.entries).len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Compares two states without stopping at the first differing byte.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_bound_to_its_consent() {
        let states = RedirectStates::default();
        states.insert("c1", "s1", 1);
        assert_eq!(states.check("c1", "s1"), Some(1));
        assert_eq!(states.check("c2", "s1"), None);
        assert_eq!(states.check("c1", "s2"), None);
        states.insert("c1", "s3", 3);
        assert_eq!(
            states.check("c1", "s1"),
            None,
            "replaced by the newer state"
        );
        states.forget("c1");
        assert!(states.is_empty());
    }

    #[test]
    fn bounded_and_expiring() {
        let states = RedirectStates::with_limits(3, Duration::from_secs(3600));
        for i in 0..10 {
            states.insert(&format!("c{i}"), &format!("s{i}"), i);
        }
        assert_eq!(states.len(), 3);
        assert_eq!(states.check("c9", "s9"), Some(9));
        assert_eq!(states.check("c0", "s0"), None);
        let short = RedirectStates::with_limits(10, Duration::ZERO);
        short.insert("c", "s", ());
        assert_eq!(short.check("c", "s"), None, "expired at once");
    }
}
