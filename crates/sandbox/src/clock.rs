//! The sandbox clock: real time plus an offset that `/admin/clock` moves forward.
//!
//! With a fixed "today" the clock starts at noon UTC of that day and runs with real time,
//! so the date, token expiry and `Retry-After` all come from one clock (and a test run
//! around midnight does not see the day change under it).

use std::sync::RwLock;
use std::time::Instant;

use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, NaiveTime, Utc};

/// How far the clock may be moved ahead in total (about 100 years).
pub const MAX_OFFSET_DAYS: i64 = 36_500;
const SECS_PER_DAY: i64 = 86_400;

/// Why the clock could not be moved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// The move would take the clock more than [`MAX_OFFSET_DAYS`] ahead.
    #[error("the sandbox clock can move at most {MAX_OFFSET_DAYS} days ahead in total")]
    TooFar,
    /// The clock only moves forward.
    #[error("the sandbox clock only moves forward (asked for {asked}, today is {today})")]
    Backwards {
        /// The date asked for.
        asked: NaiveDate,
        /// The sandbox's current date.
        today: NaiveDate,
    },
}

/// Real (or fixed-start) time plus a forward offset.
#[derive(Debug)]
pub struct Clock {
    offset_secs: RwLock<i64>,
    start: Option<DateTime<Utc>>,
    started: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Clock {
    /// A clock whose date is `today` (at noon UTC when it starts), or the real date.
    pub fn new(today: Option<NaiveDate>) -> Self {
        let noon = NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN);
        Self {
            offset_secs: RwLock::new(0),
            start: today.map(|d| d.and_time(noon).and_utc()),
            started: Instant::now(),
        }
    }

    fn offset(&self) -> i64 {
        self.offset_secs.read().map(|g| *g).unwrap_or(0)
    }

    /// Current sandbox time.
    pub fn now(&self) -> DateTime<Utc> {
        let base = match self.start {
            Some(start) => {
                let elapsed = ChronoDuration::from_std(self.started.elapsed())
                    .unwrap_or(ChronoDuration::zero());
                start.checked_add_signed(elapsed).unwrap_or(start)
            }
            None => Utc::now(),
        };
        // The offset is bounded by MAX_OFFSET_DAYS, so this cannot leave chrono's range.
        base.checked_add_signed(ChronoDuration::seconds(self.offset()))
            .unwrap_or(base)
    }

    /// Current sandbox date (UTC).
    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    /// Moves the clock forward by `secs` seconds.
    pub fn advance(&self, secs: u64) -> Result<(), ClockError> {
        let secs = i64::try_from(secs).map_err(|_| ClockError::TooFar)?;
        let mut g = self.offset_secs.write().unwrap_or_else(|e| e.into_inner());
        let new = g
            .checked_add(secs)
            .filter(|n| *n <= MAX_OFFSET_DAYS.saturating_mul(SECS_PER_DAY))
            .ok_or(ClockError::TooFar)?;
        *g = new;
        Ok(())
    }

    /// Moves the clock forward by whole days.
    pub fn advance_days(&self, days: u64) -> Result<(), ClockError> {
        let secs = days
            .checked_mul(SECS_PER_DAY as u64)
            .ok_or(ClockError::TooFar)?;
        self.advance(secs)
    }

    /// Moves the clock forward to the same time of day on `date` (today is a no-op).
    pub fn set_date(&self, date: NaiveDate) -> Result<(), ClockError> {
        let today = self.today();
        let days = (date - today).num_days();
        if days < 0 {
            return Err(ClockError::Backwards { asked: date, today });
        }
        self.advance_days(days.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_advances_are_refused_and_leave_the_clock_alone() {
        let day = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap_or_default();
        let c = Clock::new(Some(day));
        assert_eq!(c.advance(100_000_000_000_000), Err(ClockError::TooFar));
        assert_eq!(c.advance(u64::MAX), Err(ClockError::TooFar));
        assert_eq!(c.today(), day);
        assert_eq!(c.advance_days(2), Ok(()));
        assert_eq!(
            c.today(),
            NaiveDate::from_ymd_opt(2026, 7, 2).unwrap_or_default()
        );
        assert!(matches!(c.set_date(day), Err(ClockError::Backwards { .. })));
        assert_eq!(
            c.set_date(NaiveDate::from_ymd_opt(2026, 8, 1).unwrap_or_default()),
            Ok(())
        );
        assert_eq!(
            c.today(),
            NaiveDate::from_ymd_opt(2026, 8, 1).unwrap_or_default()
        );
    }
}
