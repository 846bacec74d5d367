//! The engine's notion of "now": the system clock, or a clock a test or a simulation moves.

use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

/// Where the engine reads the time from.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved (tests, simulated days against the sandbox).
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(now)),
        }
    }

    /// Sets the time.
    pub fn set(&self, now: DateTime<Utc>) {
        match self.now.lock() {
            Ok(mut guard) => *guard = now,
            Err(poisoned) => *poisoned.into_inner() = now,
        }
    }

    /// Moves the time forward by `delta` (saturating at the end of chrono's range).
    pub fn advance(&self, delta: TimeDelta) {
        let now = self.now();
        self.set(
            now.checked_add_signed(delta)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        );
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        match self.now.lock() {
            Ok(guard) => *guard,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_and_saturates() {
        let start = DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .unwrap()
            .to_utc();
        let clock = ManualClock::new(start);
        clock.advance(TimeDelta::hours(6));
        assert_eq!(clock.now().to_rfc3339(), "2026-11-30T16:00:00+00:00");
        clock.advance(TimeDelta::MAX);
        assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
    }
}
