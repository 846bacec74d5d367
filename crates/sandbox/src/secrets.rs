//! Secrets (tokens, codes, consent and authorisation ids) and the bounded, expiring maps
//! that hold them.
//!
//! Secrets are random on every run, whatever the seed: a client that replays a token from
//! an earlier run, or guesses one from the seed, gets 401 as at a bank. Only the data
//! (accounts, transactions) is a function of the seed.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

/// A random id in UUID form (consent ids, authorisation ids, order refs).
pub fn random_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A random opaque secret with `prefix` (`at_`, `rt_`, `code_`): two v4 UUIDs, 244
/// random bits.
pub fn random_secret(prefix: &str) -> String {
    format!(
        "{prefix}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A map whose entries expire and whose size is capped: the oldest entries go first
/// when it is full, expired ones whenever something is added.
#[derive(Debug)]
pub struct Expiring<V> {
    map: HashMap<String, (V, DateTime<Utc>)>,
    order: VecDeque<String>,
    cap: usize,
}

impl<V> Expiring<V> {
    /// An empty map holding at most `cap` entries (at least one).
    pub fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Adds `key` until `expires_at`, first dropping what expired by `now` and, when
    /// full, the oldest entries.
    pub fn insert(&mut self, key: String, value: V, expires_at: DateTime<Utc>, now: DateTime<Utc>) {
        self.purge(now);
        while self.map.len() >= self.cap {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
        if self.map.insert(key.clone(), (value, expires_at)).is_none() {
            self.order.push_back(key);
        }
    }

    /// Drops the entries at the front that expired by `now` or were removed, and keeps the
    /// order queue no longer than twice the cap.
    fn purge(&mut self, now: DateTime<Utc>) {
        while let Some(front) = self.order.front() {
            match self.map.get(front) {
                Some((_, exp)) if *exp > now => break,
                Some(_) => {
                    self.map.remove(front);
                    self.order.pop_front();
                }
                None => {
                    self.order.pop_front();
                }
            }
        }
        if self.order.len() > self.cap.saturating_mul(2) {
            let map = &self.map;
            self.order.retain(|k| map.contains_key(k));
        }
    }

    /// The live (not expired by `now`) entry of `key`.
    pub fn get(&self, key: &str, now: DateTime<Utc>) -> Option<&V> {
        self.map
            .get(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(v, _)| v)
    }

    /// The live entry of `key`, to change it.
    pub fn get_mut(&mut self, key: &str, now: DateTime<Utc>) -> Option<&mut V> {
        self.map
            .get_mut(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(v, _)| v)
    }

    /// Removes `key`, returning its value if it had not expired by `now`.
    pub fn take(&mut self, key: &str, now: DateTime<Utc>) -> Option<V> {
        self.map
            .remove(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(v, _)| v)
    }

    /// Entries held (live or not yet purged).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The live values.
    pub fn values(&self, now: DateTime<Utc>) -> impl Iterator<Item = &V> {
        self.map
            .values()
            .filter(move |(_, exp)| *exp > now)
            .map(|(v, _)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn capped_and_expiring() {
        let now = Utc::now();
        let mut m = Expiring::new(3);
        for i in 0..10 {
            m.insert(format!("k{i}"), i, now + Duration::seconds(60), now);
        }
        assert_eq!(m.len(), 3);
        assert_eq!(m.get("k0", now), None);
        assert_eq!(m.get("k9", now), Some(&9));
        let later = now + Duration::seconds(61);
        assert_eq!(m.get("k9", later), None);
        m.insert("new".into(), 1, later + Duration::seconds(1), later);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn secrets_differ() {
        assert_ne!(random_secret("at_"), random_secret("at_"));
        assert_ne!(random_id(), random_id());
        assert!(random_secret("at_").starts_with("at_"));
    }
}
