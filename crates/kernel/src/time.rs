//! Time is UTC, stored as milliseconds since the Unix epoch (`BIGINT` on both engines).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, UTC, millisecond precision. In JSON an RFC 3339 string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&s).ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {s}")))
    }
}

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    pub fn plus_secs(self, secs: i64) -> Self {
        Timestamp(self.0 + secs * 1000)
    }

    pub fn minus_secs(self, secs: i64) -> Self {
        Timestamp(self.0 - secs * 1000)
    }

    fn to_offset(self) -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }

    /// RFC 3339, for APIs and logs: `2026-11-22T05:32:00.000Z`.
    pub fn rfc3339(self) -> String {
        let f =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        self.to_offset().format(&f).unwrap_or_default()
    }

    /// Reads an RFC 3339 time with any offset.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
        Some(Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64))
    }

    /// German local time (CET/CEST), as people in a German office read it: `22.11.2026, 06:32`.
    pub fn display_german(self) -> String {
        let f = time::macros::format_description!("[day].[month].[year], [hour]:[minute]");
        let offset = time::UtcOffset::from_hms(german_utc_offset_hours(self), 0, 0).unwrap_or(time::UtcOffset::UTC);
        self.to_offset().to_offset(offset).format(&f).unwrap_or_default()
    }
}

impl Timestamp {
    /// The calendar day in Germany at this moment (for "not after today" and the like).
    pub fn german_date(self) -> time::Date {
        let offset = time::UtcOffset::from_hms(german_utc_offset_hours(self), 0, 0).unwrap_or(time::UtcOffset::UTC);
        self.to_offset().to_offset(offset).date()
    }
}

impl Timestamp {
    /// The wall-clock time in Germany (Europe/Berlin) at this moment.
    pub fn german_local(self) -> time::PrimitiveDateTime {
        let offset = time::UtcOffset::from_hms(german_utc_offset_hours(self), 0, 0).unwrap_or(time::UtcOffset::UTC);
        let local = self.to_offset().to_offset(offset);
        time::PrimitiveDateTime::new(local.date(), local.time())
    }

    /// The moment a German wall-clock time means. In the autumn hour that happens twice the
    /// first (summer time) is taken; a time in the spring gap is read as winter time.
    pub fn from_german_local(local: time::PrimitiveDateTime) -> Timestamp {
        let at = |hours: i64| {
            let utc = local.assume_utc() - time::Duration::hours(hours);
            Timestamp((utc.unix_timestamp_nanos() / 1_000_000) as i64)
        };
        let summer = at(2);
        if german_utc_offset_hours(summer) == 2 { summer } else { at(1) }
    }
}

/// The offset of German time from UTC at `t`: +2 (summer time) from the last Sunday of March,
/// 01:00 UTC, to the last Sunday of October, 01:00 UTC; +1 otherwise (EU rule since 1996).
fn german_utc_offset_hours(t: Timestamp) -> i8 {
    let utc = t.to_offset();
    let last_sunday_1am = |month: time::Month| {
        let last_day =
            time::Date::from_calendar_date(utc.year(), month, month.length(utc.year())).unwrap_or(utc.date());
        let back = i64::from(last_day.weekday().number_days_from_sunday());
        (last_day - time::Duration::days(back)).with_hms(1, 0, 0).map(|d| d.assume_utc()).unwrap_or(utc)
    };
    if utc >= last_sunday_1am(time::Month::March) && utc < last_sunday_1am(time::Month::October) { 2 } else { 1 }
}

impl From<Timestamp> for crate::db::Value {
    fn from(t: Timestamp) -> Self {
        crate::db::Value::Int(Some(t.0))
    }
}

impl From<Option<Timestamp>> for crate::db::Value {
    fn from(t: Option<Timestamp>) -> Self {
        crate::db::Value::Int(t.map(|t| t.0))
    }
}

/// Where "now" comes from: the system clock, or a manual clock that tests move by hand.
#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(start: Timestamp) -> Self {
        Clock::Manual(Arc::new(AtomicI64::new(start.0)))
    }

    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0),
            ),
            Clock::Manual(ms) => Timestamp(ms.load(Ordering::SeqCst)),
        }
    }

    /// Moves a manual clock forward; does nothing on the system clock.
    pub fn advance_secs(&self, secs: i64) {
        if let Clock::Manual(ms) = self {
            ms.fetch_add(secs * 1000, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_as_rfc3339_in_utc() {
        assert_eq!(Timestamp::from_millis(1_795_325_520_123).rfc3339(), "2026-11-22T05:32:00.123Z");
        assert_eq!(Timestamp::from_millis(0).rfc3339(), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn german_time_follows_winter_and_summer_time() {
        let at = |s: &str| Timestamp::parse_rfc3339(s).expect("valid");
        assert_eq!(at("2026-11-22T05:32:00Z").display_german(), "22.11.2026, 06:32");
        assert_eq!(at("2026-07-01T12:00:00Z").display_german(), "01.07.2026, 14:00");
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(at("2026-03-29T00:59:00Z").display_german(), "29.03.2026, 01:59");
        assert_eq!(at("2026-03-29T01:00:00Z").display_german(), "29.03.2026, 03:00");
        assert_eq!(at("2026-10-25T00:59:00Z").display_german(), "25.10.2026, 02:59");
        assert_eq!(at("2026-10-25T01:00:00Z").display_german(), "25.10.2026, 02:00");
    }

    #[test]
    fn german_wall_clock_times_map_to_utc_and_back() {
        let local = |s: &str| {
            let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
            time::PrimitiveDateTime::parse(s, &f).expect("valid")
        };
        let winter = Timestamp::from_german_local(local("2026-12-10 18:00"));
        assert_eq!(winter.rfc3339(), "2026-12-10T17:00:00.000Z");
        assert_eq!(winter.german_local(), local("2026-12-10 18:00"));
        let summer = Timestamp::from_german_local(local("2026-07-01 14:00"));
        assert_eq!(summer.rfc3339(), "2026-07-01T12:00:00.000Z");
        // The hour that happens twice: the first, in summer time.
        assert_eq!(Timestamp::from_german_local(local("2026-10-25 02:30")).rfc3339(), "2026-10-25T00:30:00.000Z");
        // The hour that does not exist: read as winter time, shown as summer time.
        let gap = Timestamp::from_german_local(local("2026-03-29 02:30"));
        assert_eq!(gap.german_local(), local("2026-03-29 03:30"));
    }

    #[test]
    fn timestamps_travel_through_json_as_rfc3339() {
        let t = Timestamp::from_millis(1_795_325_520_123);
        let json = serde_json::to_string(&t).expect("serialises");
        assert_eq!(json, "\"2026-11-22T05:32:00.123Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).expect("parses"), t);
        assert_eq!(Timestamp::parse_rfc3339("2026-11-22T06:32:00.123+01:00"), Some(t));
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let c = Clock::manual(Timestamp::from_millis(1000));
        assert_eq!(c.now().millis(), 1000);
        c.advance_secs(2);
        assert_eq!(c.now().millis(), 3000);
    }

    proptest::proptest! {
        #[test]
        fn every_timestamp_survives_rfc3339(ms in 0_i64..4_102_444_800_000) {
            let t = Timestamp::from_millis(ms);
            proptest::prop_assert_eq!(Timestamp::parse_rfc3339(&t.rfc3339()), Some(t));
            proptest::prop_assert!(!t.display_german().is_empty());
        }

        #[test]
        fn any_text_is_parsed_as_a_time_without_panicking(s in "\\PC{0,60}") {
            let _ = Timestamp::parse_rfc3339(&s);
        }
    }
}
