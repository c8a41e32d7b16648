//! The JSV grammar, kept apart from the serde layer: token scanners for the structure
//! (quoted tokens, bracket-counted compound tokens, the quoting rule) and the text grammars of
//! scalars (integers, floats, booleans, XSD durations, dates, GUIDs).
//!
//! Everything here works on plain `&str`/`&[u8]` and returns plain values or a position, so the
//! serde layer in `de.rs` decides what a token means for the target type. The hot scanners use
//! `memchr`; the cold scalar grammars (durations, dates, GUIDs) are written with `nom`.

use std::borrow::Cow;

use memchr::{memchr, memchr3};
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while_m_n};
use nom::character::complete::{char as ch, digit1, one_of};
use nom::combinator::{all_consuming, opt};
use nom::sequence::preceded;
use nom::{IResult, Parser};

use crate::error::{Error, Result};

/// Error type for the nom grammars: the callers only need success or failure, the message
/// and position come from the serde layer.
type Res<'a, O> = IResult<&'a str, O, ()>;

/// The 9 characters that force a string into quotes (jsv.md §3.1).
const QUOTE_TABLE: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'"' as usize] = 1;
    t[b':' as usize] = 1;
    t[b',' as usize] = 1;
    t[b'{' as usize] = 1;
    t[b'}' as usize] = 1;
    t[b'[' as usize] = 1;
    t[b']' as usize] = 1;
    t[b'\r' as usize] = 1;
    t[b'\n' as usize] = 1;
    t
};

/// Whether `s` must be written in quotes.
///
/// Hot on the write path: OR-ing table entries over 8-byte chunks without an early exit lets
/// the loop run branch-free (strings that need quotes are rare).
#[inline(always)]
pub(crate) fn needs_quote(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let hit = QUOTE_TABLE[c[0] as usize]
            | QUOTE_TABLE[c[1] as usize]
            | QUOTE_TABLE[c[2] as usize]
            | QUOTE_TABLE[c[3] as usize]
            | QUOTE_TABLE[c[4] as usize]
            | QUOTE_TABLE[c[5] as usize]
            | QUOTE_TABLE[c[6] as usize]
            | QUOTE_TABLE[c[7] as usize];
        if hit != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .fold(0, |acc, &b| acc | QUOTE_TABLE[b as usize])
        != 0
}

/// Layout whitespace: the characters the pretty writer inserts and the reader may skip.
#[inline]
pub(crate) fn is_layout_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Trim layout whitespace from both ends.
pub(crate) fn trim_layout(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// Given `bytes[start] == b'"'`, the index of the closing quote: the next `"` that is not part
/// of a doubled `""`. `None` when the text ends first.
pub(crate) fn quoted_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        let q = i + memchr(b'"', bytes.get(i..)?)?;
        if bytes.get(q + 1) == Some(&b'"') {
            i = q + 2;
        } else {
            return Some(q);
        }
    }
}

/// Given `bytes[start]` is `{` or `[`, the index of the matching closing bracket. Only brackets
/// of the same kind are counted and every `"` toggles an in-string flag (a doubled `""` toggles
/// twice), as ServiceStack's scanner does, so brackets inside quoted strings are ignored.
pub(crate) fn compound_end(bytes: &[u8], start: usize) -> Option<usize> {
    let open = bytes[start];
    let close = if open == b'{' { b'}' } else { b']' };
    let mut depth = 0usize;
    let mut in_str = false;
    let mut i = start;
    while let Some(off) = memchr3(open, close, b'"', bytes.get(i..)?) {
        let p = i + off;
        let b = bytes[p];
        if b == b'"' {
            in_str = !in_str;
        } else if !in_str {
            if b == open {
                depth += 1;
            } else {
                depth -= 1;
                if depth == 0 {
                    return Some(p);
                }
            }
        }
        i = p + 1;
    }
    None
}

/// The text between the quotes of a quoted token with every `""` turned into `"`; borrowed
/// when there is nothing to replace.
pub(crate) fn unescape_quoted(inner: &str) -> Cow<'_, str> {
    if memchr(b'"', inner.as_bytes()).is_some() {
        Cow::Owned(inner.replace("\"\"", "\""))
    } else {
        Cow::Borrowed(inner)
    }
}

fn empty_number() -> Error {
    Error::invalid_token("expected a number, found an empty value", "")
}

/// Signed integer: optional surrounding whitespace, optional `-`, ASCII digits, leading zeros
/// allowed; no `+`, `.`, exponent or group separators (jsv.md §4.5).
pub(crate) fn parse_i128(token: &str) -> Result<i128> {
    let s = token.trim();
    if s.is_empty() {
        return Err(empty_number());
    }
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let v = parse_digits(digits).ok_or_else(|| invalid_int(token))?;
    let v = i128::try_from(v).map_err(|_| int_range(token))?;
    Ok(if neg { -v } else { v })
}

/// Unsigned integer: like [`parse_i128`] without a sign (`-0` is accepted as 0).
pub(crate) fn parse_u128(token: &str) -> Result<u128> {
    let s = token.trim();
    if s.is_empty() {
        return Err(empty_number());
    }
    if let Some(rest) = s.strip_prefix('-') {
        return match parse_digits(rest) {
            Some(0) => Ok(0),
            Some(_) => Err(int_range(token)),
            None => Err(invalid_int(token)),
        };
    }
    parse_digits(s).ok_or_else(|| invalid_int(token))
}

/// Fast path for the common case: the whole token is a small decimal integer.
#[inline]
pub(crate) fn parse_i64_fast(token: &str) -> Option<i64> {
    let b = token.as_bytes();
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let (neg, digits) = if b[0] == b'-' {
        (true, &b[1..])
    } else {
        (false, b)
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(d - b'0');
    }
    Some(if neg { -v } else { v })
}

fn parse_digits(s: &str) -> Option<u128> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: u128 = 0;
    for b in s.bytes() {
        v = v.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
    }
    Some(v)
}

fn invalid_int(token: &str) -> Error {
    Error::invalid_token(format!("invalid integer '{}'", token.trim()), token.trim())
}

fn int_range(token: &str) -> Error {
    Error::invalid_token(
        format!("integer '{}' is out of range", token.trim()),
        token.trim(),
    )
}

/// Out-of-range error for a narrower target type.
pub(crate) fn int_out_of_range(token: &str, ty: &str) -> Error {
    Error::invalid_token(
        format!("integer '{}' is out of range for {ty}", token.trim()),
        token.trim(),
    )
}

/// Floating point per .NET `NumberStyles.Float | AllowThousands` (jsv.md §4.5): surrounding
/// whitespace, a leading sign, `,` group separators in the integer part, a decimal point and
/// an exponent; `NaN`, `Infinity`, `-Infinity` in any case. Overflow is an error (decisions.md
/// 13) rather than a silent infinity; underflow gives 0.
pub(crate) fn parse_f64(token: &str) -> Result<f64> {
    let s = token.trim();
    if s.is_empty() {
        return Err(empty_number());
    }
    if let Some(v) = parse_special(s) {
        return Ok(v);
    }
    let cleaned = validate_float(s).ok_or_else(|| invalid_float(token))?;
    let v: f64 = cleaned.parse().map_err(|_| invalid_float(token))?;
    if v.is_infinite() {
        return Err(Error::invalid_token(
            format!("number '{s}' is out of range"),
            s,
        ));
    }
    Ok(v)
}

/// Like [`parse_f64`] for `f32`.
pub(crate) fn parse_f32(token: &str) -> Result<f32> {
    let s = token.trim();
    if s.is_empty() {
        return Err(empty_number());
    }
    if let Some(v) = parse_special(s) {
        return Ok(v as f32);
    }
    let cleaned = validate_float(s).ok_or_else(|| invalid_float(token))?;
    let v: f32 = cleaned.parse().map_err(|_| invalid_float(token))?;
    if v.is_infinite() {
        return Err(Error::invalid_token(
            format!("number '{s}' is out of range"),
            s,
        ));
    }
    Ok(v)
}

fn parse_special(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case("nan") {
        Some(f64::NAN)
    } else if body.eq_ignore_ascii_case("infinity") || body == "∞" {
        Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        })
    } else {
        None
    }
}

/// Checks the float shape and drops group separators; `None` when the shape is wrong.
fn validate_float(s: &str) -> Option<Cow<'_, str>> {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut digits = 0;
    let mut commas = false;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b',') {
        if b[i] == b',' {
            if digits == 0 {
                return None;
            }
            commas = true;
        } else {
            digits += 1;
        }
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            digits += 1;
            i += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    Some(if commas {
        Cow::Owned(s.replace(',', ""))
    } else {
        Cow::Borrowed(s)
    })
}

fn invalid_float(token: &str) -> Error {
    Error::invalid_token(format!("invalid number '{}'", token.trim()), token.trim())
}

/// Boolean per jsv.md §11.1: surrounding whitespace trimmed; `true`/`false` in any case; the
/// single characters `1 t T y Y` / `0 f F n N`; exactly `on` / `off`. Anything else (including
/// an empty token, decisions.md 13) is an error.
pub(crate) fn parse_bool(token: &str) -> Result<bool> {
    let s = token.trim();
    match s {
        "1" | "t" | "T" | "y" | "Y" | "on" => return Ok(true),
        "0" | "f" | "F" | "n" | "N" | "off" => return Ok(false),
        _ => {}
    }
    if s.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if s.eq_ignore_ascii_case("false") {
        Ok(false)
    } else if s.is_empty() {
        Err(Error::invalid_token(
            "expected a boolean, found an empty value",
            "",
        ))
    } else {
        Err(Error::invalid_token(format!("invalid boolean '{s}'"), s))
    }
}

// ---------------------------------------------------------------------------------------------
// Durations (TimeSpan), dates and GUIDs: cold paths, written with nom.

/// 100-nanosecond ticks, the unit of .NET `TimeSpan` and `DateTime`.
pub(crate) const TICKS_PER_SECOND: i64 = 10_000_000;
pub(crate) const TICKS_PER_MINUTE: i64 = 60 * TICKS_PER_SECOND;
pub(crate) const TICKS_PER_HOUR: i64 = 60 * TICKS_PER_MINUTE;
pub(crate) const TICKS_PER_DAY: i64 = 24 * TICKS_PER_HOUR;

fn num_u64(i: &str) -> Res<'_, u64> {
    let (rest, d) = digit1(i)?;
    d.parse::<u64>()
        .map(|v| (rest, v))
        .map_err(|_| nom::Err::Error(()))
}

/// Fraction digits after a `.`, as ticks (first 7 digits used, the rest truncated).
fn fraction_ticks(i: &str) -> Res<'_, i64> {
    let (rest, d) = preceded(ch('.'), digit1).parse(i)?;
    let mut ticks = 0i64;
    for b in d.bytes().take(7) {
        ticks = ticks * 10 + i64::from(b - b'0');
    }
    for _ in d.len()..7 {
        ticks *= 10;
    }
    Ok((rest, ticks))
}

/// XSD duration (`P1DT2H3M4.5S`, `-PT0.001S`) to ticks.
fn xsd_duration(i: &str) -> Res<'_, i128> {
    let (i, neg) = opt(ch('-')).parse(i)?;
    let (i, _) = ch('P').parse(i)?;
    let (i, days) = opt((num_u64, ch('D'))).parse(i)?;
    let (i, time) = opt(preceded(
        ch('T'),
        (
            opt((num_u64, ch('H'))),
            opt((num_u64, ch('M'))),
            opt((num_u64, opt(fraction_ticks), ch('S'))),
        ),
    ))
    .parse(i)?;
    if days.is_none() && time.is_none() {
        return Err(nom::Err::Error(()));
    }
    let mut t: i128 = i128::from(days.map_or(0, |d| d.0)) * i128::from(TICKS_PER_DAY);
    if let Some((h, m, s)) = time {
        if h.is_none() && m.is_none() && s.is_none() {
            return Err(nom::Err::Error(()));
        }
        t += i128::from(h.map_or(0, |h| h.0)) * i128::from(TICKS_PER_HOUR);
        t += i128::from(m.map_or(0, |m| m.0)) * i128::from(TICKS_PER_MINUTE);
        if let Some((secs, frac, _)) = s {
            t += i128::from(secs) * i128::from(TICKS_PER_SECOND) + i128::from(frac.unwrap_or(0));
        }
    }
    Ok((i, if neg.is_some() { -t } else { t }))
}

/// .NET `TimeSpan.Parse` shape: `[-][d.]hh:mm[:ss[.fffffff]]`.
fn clock_duration(i: &str) -> Res<'_, i128> {
    let (i, neg) = opt(ch('-')).parse(i)?;
    let (i, days) = opt((num_u64, ch('.'))).parse(i)?;
    let (i, h) = num_u64(i)?;
    let (i, m) = preceded(ch(':'), num_u64).parse(i)?;
    let (i, s) = opt((preceded(ch(':'), num_u64), opt(fraction_ticks))).parse(i)?;
    if h > 23 || m > 59 || s.as_ref().is_some_and(|s| s.0 > 59) {
        return Err(nom::Err::Error(()));
    }
    let mut t = i128::from(days.map_or(0, |d| d.0)) * i128::from(TICKS_PER_DAY)
        + i128::from(h) * i128::from(TICKS_PER_HOUR)
        + i128::from(m) * i128::from(TICKS_PER_MINUTE);
    if let Some((s, f)) = s {
        t += i128::from(s) * i128::from(TICKS_PER_SECOND) + i128::from(f.unwrap_or(0));
    }
    Ok((i, if neg.is_some() { -t } else { t }))
}

/// A TimeSpan in any form ServiceStack reads (jsv.md §4.5): XSD duration when it starts with
/// `P`/`-P`, `TimeSpan.Parse` form when it contains `:`, otherwise a number of seconds.
pub(crate) fn parse_timespan(token: &str) -> Result<i64> {
    let s = token.trim();
    let bad = || Error::invalid_token(format!("invalid duration '{s}'"), s);
    if s.is_empty() {
        return Err(Error::invalid_token(
            "expected a duration, found an empty value",
            "",
        ));
    }
    let ticks: i128 = if s.starts_with('P') || s.starts_with("-P") {
        all_consuming(xsd_duration).parse(s).map_err(|_| bad())?.1
    } else if s.contains(':') {
        all_consuming(clock_duration).parse(s).map_err(|_| bad())?.1
    } else {
        let secs = parse_f64(s).map_err(|_| bad())?;
        if !secs.is_finite() {
            return Err(bad());
        }
        (secs * TICKS_PER_SECOND as f64).round() as i128
    };
    i64::try_from(ticks).map_err(|_| bad())
}

/// Time zone designator of a parsed date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    None,
    Utc,
    Offset(i32),
}

/// A parsed date and time: days since 0001-01-01, ticks into the day, zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ParsedDate {
    pub days: i64,
    pub time: i64,
    pub zone: Zone,
}

fn fixed(n: usize) -> impl Fn(&str) -> Res<'_, u32> {
    move |i| {
        let (rest, d) = take_while_m_n(n, n, |c: char| c.is_ascii_digit())(i)?;
        d.parse::<u32>()
            .map(|v| (rest, v))
            .map_err(|_| nom::Err::Error(()))
    }
}

fn one_or_two(i: &str) -> Res<'_, u32> {
    let (rest, d) = take_while_m_n(1, 2, |c: char| c.is_ascii_digit())(i)?;
    d.parse::<u32>()
        .map(|v| (rest, v))
        .map_err(|_| nom::Err::Error(()))
}

fn date_part(i: &str) -> Res<'_, (u32, u32, u32)> {
    alt((
        (
            fixed(4),
            preceded(ch('-'), one_or_two),
            preceded(ch('-'), one_or_two),
        ),
        (fixed(4), fixed(2), fixed(2)),
    ))
    .parse(i)
}

fn time_part(i: &str) -> Res<'_, i64> {
    let (i, _) = one_of("T ")(i)?;
    let (i, h) = one_or_two(i)?;
    let (i, m) = preceded(ch(':'), fixed(2)).parse(i)?;
    let (i, s) = opt((preceded(ch(':'), fixed(2)), opt(fraction_ticks))).parse(i)?;
    if h > 23 || m > 59 || s.is_some_and(|s| s.0 > 59) {
        return Err(nom::Err::Error(()));
    }
    let (sec, frac) = s.map_or((0, 0), |(s, f)| (s, f.unwrap_or(0)));
    Ok((
        i,
        i64::from(h) * TICKS_PER_HOUR
            + i64::from(m) * TICKS_PER_MINUTE
            + i64::from(sec) * TICKS_PER_SECOND
            + frac,
    ))
}

fn zone(i: &str) -> Res<'_, Zone> {
    alt((
        tag("Z").map(|_| Zone::Utc),
        (one_of("+-"), fixed(2), opt(ch(':')), fixed(2)).map(|(sign, h, _, m)| {
            let mins = (h * 60 + m) as i32;
            Zone::Offset(if sign == '-' { -mins } else { mins })
        }),
    ))
    .parse(i)
}

fn iso_date(i: &str) -> Res<'_, ParsedDate> {
    let (i, (y, mo, d)) = date_part(i)?;
    let days = days_from_civil(y, mo, d).ok_or(nom::Err::Error(()))?;
    let (i, time) = opt(time_part).parse(i)?;
    let (i, z) = opt(zone).parse(i)?;
    Ok((
        i,
        ParsedDate {
            days,
            time: time.unwrap_or(0),
            zone: z.unwrap_or(Zone::None),
        },
    ))
}

/// WCF `/Date(ms)/` or `/Date(ms+hhmm)/` (also with escaped slashes).
fn wcf_date(i: &str) -> Res<'_, ParsedDate> {
    let (i, _) = alt((tag("/Date("), tag("\\/Date("))).parse(i)?;
    let (i, neg) = opt(ch('-')).parse(i)?;
    let (i, ms) = num_u64(i)?;
    let (i, off) = opt((one_of("+-"), fixed(2), fixed(2))).parse(i)?;
    let (i, _) = alt((tag(")/"), tag(")\\/"))).parse(i)?;
    let ms = i128::from(ms) * if neg.is_some() { -1 } else { 1 };
    // Ticks of the Unix epoch since 0001-01-01.
    let epoch_days = days_from_civil(1970, 1, 1).ok_or(nom::Err::Error(()))?;
    let ticks = i128::from(epoch_days) * i128::from(TICKS_PER_DAY) + ms * 10_000;
    if ticks < 0 {
        return Err(nom::Err::Error(()));
    }
    let ticks = i64::try_from(ticks).map_err(|_| nom::Err::Error(()))?;
    // The milliseconds are UTC whatever the optional offset says; the offset only tells
    // which local time the sender had.
    let _ = off;
    let zone = Zone::Utc;
    Ok((
        i,
        ParsedDate {
            days: ticks / TICKS_PER_DAY,
            time: ticks % TICKS_PER_DAY,
            zone,
        },
    ))
}

/// A date in the forms ServiceStack reads (jsv.md §4.5).
pub(crate) fn parse_date(token: &str) -> Result<ParsedDate> {
    let s = token.trim();
    if s.is_empty() {
        return Err(Error::invalid_token(
            "expected a date, found an empty value",
            "",
        ));
    }
    alt((all_consuming(iso_date), all_consuming(wcf_date)))
        .parse(s)
        .map(|(_, d)| d)
        .map_err(|_| Error::invalid_token(format!("invalid date '{s}'"), s))
}

/// Days since 0001-01-01 of a proleptic Gregorian date; `None` for an impossible date.
pub(crate) fn days_from_civil(y: u32, m: u32, d: u32) -> Option<i64> {
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let y = i64::from(y) - 1;
    let mut days = y * 365 + y / 4 - y / 100 + y / 400;
    for mm in 1..m {
        days += i64::from(days_in_month(y as u32 + 1, mm));
    }
    Some(days + i64::from(d) - 1)
}

/// Inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(mut days: i64) -> (u32, u32, u32) {
    // Walk 400/100/4/1-year cycles as .NET's DateTime does.
    let n400 = days / 146_097;
    days %= 146_097;
    let mut n100 = days / 36_524;
    if n100 == 4 {
        n100 = 3;
    }
    days -= n100 * 36_524;
    let n4 = days / 1_461;
    days %= 1_461;
    let mut n1 = days / 365;
    if n1 == 4 {
        n1 = 3;
    }
    days -= n1 * 365;
    let year = (n400 * 400 + n100 * 100 + n4 * 4 + n1 + 1) as u32;
    let mut month = 1;
    while days >= i64::from(days_in_month(year, month)) {
        days -= i64::from(days_in_month(year, month));
        month += 1;
    }
    (year, month, days as u32 + 1)
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) {
                29
            } else {
                28
            }
        }
    }
}

fn hex_digits(n: usize) -> impl Fn(&str) -> Res<'_, &str> {
    move |i| take_while_m_n(n, n, |c: char| c.is_ascii_hexdigit())(i)
}

fn guid_dashed(i: &str) -> Res<'_, String> {
    let (i, (a, _, b, _, c, _, d, _, e)) = (
        hex_digits(8),
        ch('-'),
        hex_digits(4),
        ch('-'),
        hex_digits(4),
        ch('-'),
        hex_digits(4),
        ch('-'),
        hex_digits(12),
    )
        .parse(i)?;
    Ok((i, [a, b, c, d, e].concat()))
}

fn guid_any(i: &str) -> Res<'_, String> {
    alt((
        hex_digits(32).map(str::to_owned),
        guid_dashed,
        (ch('{'), guid_dashed, ch('}')).map(|(_, g, _)| g),
        (ch('('), guid_dashed, ch(')')).map(|(_, g, _)| g),
    ))
    .parse(i)
}

/// A GUID in .NET's N, D, B or P form, as 16 bytes in text order.
pub(crate) fn parse_guid(token: &str) -> Result<[u8; 16]> {
    let s = token.trim();
    let bad = || Error::invalid_token(format!("invalid GUID '{s}'"), s);
    let (_, hex) = all_consuming(guid_any).parse(s).map_err(|_| bad())?;
    let mut out = [0u8; 16];
    for (k, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanners() {
        assert_eq!(quoted_end(br#""a""b",x"#, 0), Some(5));
        assert_eq!(quoted_end(br#""abc"#, 0), None);
        assert_eq!(compound_end(br#"{a:{b:"}"},c}x"#, 0), Some(12));
        assert_eq!(compound_end(b"[[1],[2]", 0), None);
    }

    #[test]
    fn ints() {
        assert_eq!(parse_i128(" 01 ").unwrap(), 1);
        assert_eq!(parse_i128("-5").unwrap(), -5);
        assert!(parse_i128("+1").is_err());
        assert!(parse_i128("1.0").is_err());
        assert!(parse_u128("-1").is_err());
        assert_eq!(parse_i64_fast("-12"), Some(-12));
    }

    #[test]
    fn floats() {
        assert_eq!(parse_f64("1,111.1").unwrap(), 1111.1);
        assert_eq!(parse_f64("1.5E-07").unwrap(), 1.5e-7);
        assert!(parse_f64("1e400").is_err());
        assert!(parse_f64("inf").is_err());
        assert!(parse_f64(",1").is_err());
        assert!(parse_f64("-Infinity").unwrap().is_infinite());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_timespan("PT1H").unwrap(), TICKS_PER_HOUR);
        assert_eq!(parse_timespan("-PT0.001S").unwrap(), -10_000);
        assert_eq!(
            parse_timespan("1.02:03:04.5").unwrap(),
            TICKS_PER_DAY + 2 * TICKS_PER_HOUR + 3 * TICKS_PER_MINUTE + 45_000_000
        );
        assert_eq!(parse_timespan("1.5").unwrap(), 15_000_000);
        assert!(parse_timespan("P").is_err());
        assert!(parse_timespan("PT").is_err());
    }

    #[test]
    fn dates() {
        let d = parse_date("2011-8-4").unwrap();
        assert_eq!(civil_from_days(d.days), (2011, 8, 4));
        let d = parse_date("2013-10-10T13:40:50.0000000Z").unwrap();
        assert_eq!(d.zone, Zone::Utc);
        for days in [0, 365, 146_096, 730_000, 3_652_058] {
            let (y, m, dd) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, dd), Some(days));
        }
        assert!(parse_date("2011-02-30").is_err());
    }

    #[test]
    fn guids() {
        let a = parse_guid("7da74353a40c468e93aa7ff51f4f0e84").unwrap();
        let b = parse_guid("{7da74353-a40c-468e-93aa-7ff51f4f0e84}").unwrap();
        assert_eq!(a, b);
        assert!(parse_guid("7da74353").is_err());
    }
}
