//! .NET value types with their ServiceStack text forms (jsv.md §3.3, §3.5, §4.5).
//!
//! Each type serializes as a string through any serde format (so a JSON response carries the
//! same text as a JSON string) and parses every form ServiceStack reads. In JSV they are
//! written unquoted even when the text contains `:`, as upstream does
//! (`{Date:2012-09-01T10:30:00Z}`); the reader accepts that because `:` never ends a value.

use std::fmt::{self, Display, Write as _};
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
use crate::parse::{self, TICKS_PER_DAY, TICKS_PER_HOUR, TICKS_PER_MINUTE, TICKS_PER_SECOND, Zone};

/// Newtype name the JSV writer recognises to write the inner string without quoting; any other
/// serializer sees an ordinary newtype around a string.
pub(crate) const RAW_TOKEN: &str = "$jsv::private::RawToken";

struct Raw<'a>(&'a str);

impl Serialize for Raw<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(RAW_TOKEN, self.0)
    }
}

fn serialize_raw<S: Serializer, T: Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    Raw(&v.to_string()).serialize(s)
}

/// A visitor that accepts text and parses it with `FromStr`.
struct ParseVisitor<T>(std::marker::PhantomData<T>, &'static str);

impl<T: FromStr<Err = Error>> Visitor<'_> for ParseVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

fn deserialize_parsed<'de, D: Deserializer<'de>, T: FromStr<Err = Error>>(
    d: D,
    what: &'static str,
) -> Result<T, D::Error> {
    d.deserialize_str(ParseVisitor(std::marker::PhantomData, what))
}

// ---------------------------------------------------------------------------------------------

/// A .NET `Guid`, written in the dashless "N" form (`7da74353a40c468e93aa7ff51f4f0e84`), read
/// in the N, D, B (`{...}`) and P (`(...)`) forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Guid(pub [u8; 16]);

impl Guid {
    /// The dashed "D" form (`7da74353-a40c-468e-93aa-7ff51f4f0e84`).
    pub fn to_dashed(&self) -> String {
        let n = self.to_string();
        format!(
            "{}-{}-{}-{}-{}",
            &n[..8],
            &n[8..12],
            &n[12..16],
            &n[16..20],
            &n[20..]
        )
    }
}

impl Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for Guid {
    type Err = Error;
    /// # Errors
    ///
    /// When the text is not a GUID in one of the four forms.
    fn from_str(s: &str) -> Result<Self, Error> {
        parse::parse_guid(s).map(Guid)
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_raw(self, s)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_parsed(d, "a GUID")
    }
}

// ---------------------------------------------------------------------------------------------

/// A .NET `TimeSpan` (signed, in 100 ns ticks), written as an XSD duration (`PT1H30M`,
/// `P1DT2H3M4.5670001S`, `-PT0.001S`, `PT0S`) and read as an XSD duration, in the
/// `[-][d.]hh:mm[:ss[.fffffff]]` form, or as a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TimeSpan(pub i64);

impl TimeSpan {
    /// From 100 ns ticks.
    pub fn from_ticks(ticks: i64) -> Self {
        TimeSpan(ticks)
    }

    /// The length in 100 ns ticks.
    pub fn ticks(self) -> i64 {
        self.0
    }
}

impl From<Duration> for TimeSpan {
    /// Saturates at `TimeSpan::MaxValue` and truncates below 100 ns.
    fn from(d: Duration) -> Self {
        let ticks = d.as_nanos() / 100;
        TimeSpan(i64::try_from(ticks).unwrap_or(i64::MAX))
    }
}

impl TryFrom<TimeSpan> for Duration {
    type Error = Error;
    /// # Errors
    ///
    /// For a negative span.
    fn try_from(t: TimeSpan) -> Result<Duration, Error> {
        let ticks = u64::try_from(t.0).map_err(|_| Error::data("negative duration"))?;
        Ok(Duration::new(
            ticks / TICKS_PER_SECOND as u64,
            ((ticks % TICKS_PER_SECOND as u64) * 100) as u32,
        ))
    }
}

impl Display for TimeSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Upstream writes the extremes through a double and gets these fixed strings.
        if self.0 == i64::MIN {
            return f.write_str("-P10675199DT2H48M5.4775391S");
        }
        if self.0 == i64::MAX {
            return f.write_str("P10675199DT2H48M5.4775391S");
        }
        let mut s = String::with_capacity(24);
        if self.0 < 0 {
            s.push('-');
        }
        s.push('P');
        let abs = self.0.unsigned_abs();
        let days = abs / TICKS_PER_DAY as u64;
        let rem = abs % TICKS_PER_DAY as u64;
        if days > 0 {
            let _ = write!(s, "{days}D");
        }
        if days == 0 || rem > 0 {
            s.push('T');
            let mark = s.len();
            let h = rem / TICKS_PER_HOUR as u64;
            let m = rem % TICKS_PER_HOUR as u64 / TICKS_PER_MINUTE as u64;
            let sec_ticks = rem % TICKS_PER_MINUTE as u64;
            if h > 0 {
                let _ = write!(s, "{h}H");
            }
            if m > 0 {
                let _ = write!(s, "{m}M");
            }
            if sec_ticks > 0 {
                let secs = sec_ticks / TICKS_PER_SECOND as u64;
                let frac = sec_ticks % TICKS_PER_SECOND as u64;
                let _ = write!(s, "{secs}");
                if frac > 0 {
                    let digits = format!("{frac:07}");
                    let _ = write!(s, ".{}", digits.trim_end_matches('0'));
                }
                s.push('S');
            }
            if s.len() == mark {
                s.push_str("0S");
            }
        }
        f.write_str(&s)
    }
}

impl FromStr for TimeSpan {
    type Err = Error;
    /// # Errors
    ///
    /// When the text is none of the three forms or out of range.
    fn from_str(s: &str) -> Result<Self, Error> {
        parse::parse_timespan(s).map(TimeSpan)
    }
}

impl Serialize for TimeSpan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_raw(self, s)
    }
}

impl<'de> Deserialize<'de> for TimeSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_parsed(d, "a duration")
    }
}

/// `#[serde(with = "jsv::duration")]` for `std::time::Duration` fields: written as an XSD
/// duration (`PT1M30S`), read in every form [`TimeSpan`] reads (negative spans are errors).
pub mod duration {
    use super::*;

    /// Write `d` as an XSD duration.
    ///
    /// # Errors
    ///
    /// Only the serializer's own errors.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        TimeSpan::from(*d).serialize(s)
    }

    /// Read a duration.
    ///
    /// # Errors
    ///
    /// Unparsable or negative text.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let t = TimeSpan::deserialize(d)?;
        Duration::try_from(t).map_err(de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------

/// The `Kind` of a .NET `DateTime`, which decides how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DateKind {
    /// No zone: written with the server's offset, like `Local` (jsv.md §3.5 step 4).
    #[default]
    Unspecified,
    /// UTC: written with `Z`.
    Utc,
    /// Server-local time; evogate servers run on UTC, so the offset written is `+00:00`.
    Local,
}

/// A .NET `DateTime`: 100 ns ticks since 0001-01-01T00:00:00 and a [`DateKind`].
///
/// Written as ServiceStack does (jsv.md §3.5): `yyyy-MM-dd` when the time of day is zero
/// (whatever the kind), else `yyyy-MM-ddTHH:mm:ss` plus `.fffffff` when there is a sub-second
/// part, plus `Z` for UTC or `+00:00` otherwise. Read from `yyyy-MM-dd`, `yyyy-M-d`,
/// `yyyyMMdd`, ISO 8601 date-times with `T` or a space, 1–7 fraction digits, `Z` or `±hh:mm`,
/// and WCF `/Date(ms)/`. As upstream with a UTC server, text with a zone is converted to UTC
/// and given the `Local` kind, so an echoed `...Z` comes back as `...+00:00`.
///
/// Equality and hashing compare the instant only (the ticks), as .NET's `DateTime.Equals` does.
#[derive(Debug, Clone, Copy, Default)]
pub struct DateTime {
    ticks: i64,
    kind: DateKind,
}

impl PartialEq for DateTime {
    fn eq(&self, other: &Self) -> bool {
        self.ticks == other.ticks
    }
}

impl Eq for DateTime {}

impl std::hash::Hash for DateTime {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.ticks.hash(state);
    }
}

const MAX_TICKS: i64 = 3_155_378_975_999_999_999;

impl DateTime {
    /// A date and time; `fraction` is in 100 ns ticks (0..10,000,000). `None` for an impossible
    /// date or time.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        year: u32,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        fraction: u32,
        kind: DateKind,
    ) -> Option<Self> {
        if hour > 23 || minute > 59 || second > 59 || i64::from(fraction) >= TICKS_PER_SECOND {
            return None;
        }
        let days = parse::days_from_civil(year, month, day)?;
        Some(DateTime {
            ticks: days * TICKS_PER_DAY
                + i64::from(hour) * TICKS_PER_HOUR
                + i64::from(minute) * TICKS_PER_MINUTE
                + i64::from(second) * TICKS_PER_SECOND
                + i64::from(fraction),
            kind,
        })
    }

    /// From ticks since 0001-01-01; `None` outside .NET's range.
    pub fn from_ticks(ticks: i64, kind: DateKind) -> Option<Self> {
        (0..=MAX_TICKS)
            .contains(&ticks)
            .then_some(DateTime { ticks, kind })
    }

    /// Ticks since 0001-01-01T00:00:00.
    pub fn ticks(&self) -> i64 {
        self.ticks
    }

    /// The kind.
    pub fn kind(&self) -> DateKind {
        self.kind
    }

    /// The same instant with another kind.
    #[must_use]
    pub fn with_kind(self, kind: DateKind) -> Self {
        DateTime { kind, ..self }
    }
}

fn write_date_time(s: &mut String, ticks: i64, always_time: bool, always_fraction: bool) {
    let days = ticks / TICKS_PER_DAY;
    let time = ticks % TICKS_PER_DAY;
    let (y, mo, d) = parse::civil_from_days(days);
    let _ = write!(s, "{y:04}-{mo:02}-{d:02}");
    if time == 0 && !always_time {
        return;
    }
    let h = time / TICKS_PER_HOUR;
    let mi = time % TICKS_PER_HOUR / TICKS_PER_MINUTE;
    let se = time % TICKS_PER_MINUTE / TICKS_PER_SECOND;
    let frac = time % TICKS_PER_SECOND;
    let _ = write!(s, "T{h:02}:{mi:02}:{se:02}");
    if frac > 0 || always_fraction {
        let _ = write!(s, ".{frac:07}");
    }
}

impl Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(33);
        write_date_time(&mut s, self.ticks, false, false);
        if self.ticks % TICKS_PER_DAY != 0 {
            s.push_str(match self.kind {
                DateKind::Utc => "Z",
                DateKind::Local | DateKind::Unspecified => "+00:00",
            });
        }
        f.write_str(&s)
    }
}

impl FromStr for DateTime {
    type Err = Error;
    /// # Errors
    ///
    /// When the text is not a date in a form listed on [`DateTime`].
    fn from_str(s: &str) -> Result<Self, Error> {
        let p = parse::parse_date(s)?;
        let local = p.days * TICKS_PER_DAY + p.time;
        let (ticks, kind) = match p.zone {
            Zone::None => (local, DateKind::Unspecified),
            Zone::Utc => (local, DateKind::Local),
            Zone::Offset(mins) => (local - i64::from(mins) * TICKS_PER_MINUTE, DateKind::Local),
        };
        DateTime::from_ticks(ticks, kind).ok_or_else(|| {
            Error::invalid_token(format!("date '{}' is out of range", s.trim()), s.trim())
        })
    }
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_raw(self, s)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_parsed(d, "a date")
    }
}

/// A .NET `DateTimeOffset`: a local clock reading and its offset from UTC. Always written in
/// the round-trip "o" form `yyyy-MM-ddTHH:mm:ss.fffffff+hh:mm`; read like [`DateTime`] (text
/// without a zone is taken as UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DateTimeOffset {
    /// Ticks of the local clock reading since 0001-01-01.
    ticks: i64,
    offset_minutes: i16,
}

impl DateTimeOffset {
    /// From the local clock reading and the offset in minutes (−840..=840).
    pub fn new(local: DateTime, offset_minutes: i16) -> Option<Self> {
        (-840..=840)
            .contains(&offset_minutes)
            .then_some(DateTimeOffset {
                ticks: local.ticks(),
                offset_minutes,
            })
    }

    /// The local clock reading.
    pub fn local(&self) -> DateTime {
        DateTime {
            ticks: self.ticks,
            kind: DateKind::Unspecified,
        }
    }

    /// The offset from UTC in minutes.
    pub fn offset_minutes(&self) -> i16 {
        self.offset_minutes
    }
}

impl Display for DateTimeOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(33);
        write_date_time(&mut s, self.ticks, true, true);
        let o = self.offset_minutes;
        let sign = if o < 0 { '-' } else { '+' };
        let a = o.unsigned_abs();
        let _ = write!(s, "{sign}{:02}:{:02}", a / 60, a % 60);
        f.write_str(&s)
    }
}

impl FromStr for DateTimeOffset {
    type Err = Error;
    /// # Errors
    ///
    /// When the text is not a date in a form listed on [`DateTime`].
    fn from_str(s: &str) -> Result<Self, Error> {
        let p = parse::parse_date(s)?;
        let offset = match p.zone {
            Zone::None | Zone::Utc => 0,
            Zone::Offset(m) => m,
        };
        let ticks = p.days * TICKS_PER_DAY + p.time;
        i16::try_from(offset)
            .ok()
            .filter(|o| (-840..=840).contains(o) && (0..=MAX_TICKS).contains(&ticks))
            .map(|offset_minutes| DateTimeOffset {
                ticks,
                offset_minutes,
            })
            .ok_or_else(|| {
                Error::invalid_token(format!("invalid offset in '{}'", s.trim()), s.trim())
            })
    }
}

impl Serialize for DateTimeOffset {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_raw(self, s)
    }
}

impl<'de> Deserialize<'de> for DateTimeOffset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_parsed(d, "a date with offset")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans() {
        let cases = [
            (TICKS_PER_DAY, "P1D"),
            (TICKS_PER_HOUR, "PT1H"),
            (10_000, "PT0.001S"),
            (1, "PT0.0000001S"),
            (0, "PT0S"),
            (-TICKS_PER_DAY, "-P1D"),
            (TICKS_PER_HOUR + 30 * TICKS_PER_MINUTE, "PT1H30M"),
        ];
        for (ticks, want) in cases {
            assert_eq!(TimeSpan(ticks).to_string(), want);
            assert_eq!(want.parse::<TimeSpan>().unwrap(), TimeSpan(ticks));
        }
    }

    #[test]
    fn dates() {
        let d = DateTime::new(1979, 5, 9, 0, 0, 0, 10_000, DateKind::Utc).unwrap();
        assert_eq!(d.to_string(), "1979-05-09T00:00:00.0010000Z");
        let d = DateTime::new(2018, 1, 1, 0, 0, 0, 0, DateKind::Utc).unwrap();
        assert_eq!(d.to_string(), "2018-01-01");
        let d: DateTime = "2024-01-15T10:20:30Z".parse().unwrap();
        assert_eq!(d.to_string(), "2024-01-15T10:20:30+00:00");
        let o: DateTimeOffset = "2012-06-27T11:26:04.524+08:00".parse().unwrap();
        assert_eq!(o.to_string(), "2012-06-27T11:26:04.5240000+08:00");
    }

    #[test]
    fn guid_forms() {
        let g: Guid = "ADFA988B-01F6-490D-B65B-63750F869496".parse().unwrap();
        assert_eq!(g.to_string(), "adfa988b01f6490db65b63750f869496");
        assert_eq!(g.to_dashed(), "adfa988b-01f6-490d-b65b-63750f869496");
    }
}
