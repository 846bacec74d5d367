//! Which days a sync reads.
//!
//! The first sync of an account reads the history the consent allows (`history_days`,
//! default 90). Later syncs read from the latest stored booking date minus `overlap_days`
//! (default 7: banks back-date bookings) to today, never further back than the history
//! allowance, and always with pending entries (`bookingStatus=both`). So a sync's cost
//! follows the new activity, not the length of the history.

use chrono::{NaiveDate, TimeDelta};
use psd2::{BookingStatus, TransactionQuery};

use crate::settings::BankSyncSettings;

/// The days one listing reads, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First day.
    pub from: NaiveDate,
    /// Last day (today).
    pub to: NaiveDate,
}

impl Window {
    /// The window for an account whose latest stored booking is `latest_booked` (`None`:
    /// first sync), on `today`.
    pub fn for_account(
        settings: &BankSyncSettings,
        today: NaiveDate,
        latest_booked: Option<NaiveDate>,
    ) -> Self {
        let earliest = days_before(today, settings.history_days);
        let from = match latest_booked {
            None => earliest,
            Some(latest) => days_before(latest.min(today), settings.overlap_days).max(earliest),
        };
        Self { from, to: today }
    }

    /// The facade query for the window: booked and pending entries between the two days,
    /// read ahead (the next page is requested while the current one is decoded). A sync
    /// reads its listing to the end and reads pages ahead of their matching anyway, so the
    /// request ahead is the call it makes next; a listing cut short by an error may have
    /// made one call it did not use, counted by the ledger like any other.
    pub fn query(&self) -> TransactionQuery {
        TransactionQuery::new(Some(self.from), Some(self.to), BookingStatus::Both).read_ahead(true)
    }
}

fn days_before(day: NaiveDate, days: u32) -> NaiveDate {
    day.checked_sub_signed(TimeDelta::days(i64::from(days)))
        .unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn first_sync_reads_the_history_allowance() {
        let w = Window::for_account(&BankSyncSettings::default(), d("2026-12-05"), None);
        // 90 days before 2026-12-05 is 2026-09-06 (Sept has 30 days, Oct and Nov 31 + 30).
        assert_eq!(
            w,
            Window {
                from: d("2026-09-06"),
                to: d("2026-12-05")
            }
        );
    }

    #[test]
    fn later_syncs_read_from_latest_booking_minus_overlap() {
        let s = BankSyncSettings::default();
        let w = Window::for_account(&s, d("2026-12-05"), Some(d("2026-12-04")));
        assert_eq!(w.from, d("2026-11-27"));
        // A latest booking older than the allowance is clamped to it.
        let w = Window::for_account(&s, d("2026-12-05"), Some(d("2025-01-01")));
        assert_eq!(w.from, d("2026-09-06"));
        // A booking dated in the future does not push the window past today.
        let w = Window::for_account(&s, d("2026-12-05"), Some(d("2027-01-01")));
        assert_eq!(w.from, d("2026-11-28"));
        let q = w.query();
        assert_eq!(q.booking_status, BookingStatus::Both);
        assert_eq!(q.date_to, Some(d("2026-12-05")));
    }
}
