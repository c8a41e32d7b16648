//! Reading JSV: a type-driven serde `Deserializer` over a `&str` (jsv.md §4 with the §11
//! corrections and decisions.md 9 and 13).
//!
//! JSV is not self-describing: `1`, `True` and `2024-01-01` are all just text, and what a
//! token means depends on the type asking for it. So the reader scans one token when the
//! visitor asks for a scalar and parses it with that scalar's rules, and it reads maps and lists
//! by their brackets. Where a token ends depends on the container it sits in (`,`/`}` inside a
//! map, `,`/`]` inside a list, the end of the text at the root), which the reader tracks as a
//! context.

use std::borrow::Cow;

use base64::Engine as _;
use memchr::memchr;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use crate::error::{Error, Result};
use crate::parse::{self, compound_end, is_layout_ws, quoted_end, trim_layout, unescape_quoted};

/// Where the reader is: decides which characters end a raw token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// The root value: a raw token runs to the end of the text.
    Root,
    /// A map or struct value: a raw token ends at `,` or `}`.
    Map,
    /// A list item: a raw token ends at `,` or at the `]` that closes the list.
    List,
    /// An item of a list written without brackets at the root (`1,2,3`): ends at `,`.
    Bare,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in every byte of `x` that is zero. The lowest flagged byte is always a real
/// zero (a borrow only propagates upwards), which is all the finders below rely on.
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(LO) & !x & HI
}

/// Position of the first byte of `hay` equal to `a` or `b`, eight bytes at a time: tokens are
/// short, so this beats both a byte loop and the setup of a vectorised `memchr2`.
#[inline(always)]
fn find2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    let (pa, pb) = (LO * u64::from(a), LO * u64::from(b));
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let w = u64::from_le_bytes(w);
        let m = zero_bytes(w ^ pa) | zero_bytes(w ^ pb);
        if m != 0 {
            return Some(base + (m.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&x| x == a || x == b)
        .map(|i| base + i)
}

/// As [`find2`] for three bytes.
#[inline(always)]
fn find3(a: u8, b: u8, c: u8, hay: &[u8]) -> Option<usize> {
    let (pa, pb, pc) = (LO * u64::from(a), LO * u64::from(b), LO * u64::from(c));
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for ch in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(ch);
        let w = u64::from_le_bytes(w);
        let m = zero_bytes(w ^ pa) | zero_bytes(w ^ pb) | zero_bytes(w ^ pc);
        if m != 0 {
            return Some(base + (m.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&x| x == a || x == b || x == c)
        .map(|i| base + i)
}

/// Byte equality without a call into `memcmp`: keys are a few bytes long.
#[inline(always)]
fn same_bytes(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// `str::trim`, skipping the work when the ends are plainly not whitespace.
#[inline(always)]
fn trim_key(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&f), Some(&l)) if f > b' ' && f < 0x80 && l > b' ' && l < 0x80 => s,
        _ => s.trim(),
    }
}

/// One scalar token.
enum Tok<'de> {
    /// Nothing: `{a:}`, `[a,,b]`, an empty text.
    Empty,
    /// Unquoted text, or a whole `{...}`/`[...]` token when a scalar was asked for.
    Raw(&'de str),
    /// The text between the quotes, with `""` pairs still doubled.
    Quoted(&'de str),
}

/// A JSV deserializer over a string.
///
/// ```
/// use serde::Deserialize;
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct Dto { id: u32, tags: Vec<String> }
/// let mut de = jsv::Deserializer::from_str("{Id:1,Tags:[a,b]}").with_recursion_limit(16);
/// let dto = Dto::deserialize(&mut de).unwrap();
/// de.end().unwrap();
/// assert_eq!(dto, Dto { id: 1, tags: vec!["a".into(), "b".into()] });
/// ```
pub struct Deserializer<'de> {
    input: &'de str,
    bytes: &'de [u8],
    pos: usize,
    remaining_depth: usize,
    pretty: bool,
    ctx: Ctx,
}

impl<'de> Deserializer<'de> {
    /// A deserializer over `input`. A leading byte-order mark is skipped. Text whose root `{`
    /// or `[` is followed by a line break is read as pretty JSV (see
    /// [`crate::to_string_pretty`]): layout whitespace around keys, values and separators is
    /// then ignored.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(input: &'de str) -> Self {
        let input = input.strip_prefix('\u{feff}').unwrap_or(input);
        let bytes = input.as_bytes();
        let first = bytes.iter().position(|&b| !is_layout_ws(b));
        let pretty = first.is_some_and(|i| {
            matches!(bytes[i], b'{' | b'[') && matches!(bytes.get(i + 1), Some(b'\n' | b'\r'))
        });
        Deserializer {
            input,
            bytes,
            pos: 0,
            remaining_depth: 128,
            pretty,
            ctx: Ctx::Root,
        }
    }

    /// Set how many maps and lists may nest (128 by default). Deeper input is an error rather
    /// than a stack overflow; a very large limit gives that protection up.
    #[must_use]
    pub fn with_recursion_limit(mut self, limit: usize) -> Self {
        self.remaining_depth = limit;
        self
    }

    /// Check that only whitespace follows the value just read.
    ///
    /// # Errors
    ///
    /// A syntax error at the first character that is not whitespace.
    pub fn end(&mut self) -> Result<()> {
        while self.pos < self.bytes.len() && is_layout_ws(self.bytes[self.pos]) {
            self.pos += 1;
        }
        if self.pos < self.bytes.len() {
            return Err(self.err_here(Error::syntax("trailing characters after the value")));
        }
        Ok(())
    }

    fn err_here(&self, e: Error) -> Error {
        e.at(self.input, self.pos)
    }

    fn err_at(&self, e: Error, pos: usize) -> Error {
        e.at(self.input, pos)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len() && is_layout_ws(self.bytes[self.pos]) {
            self.pos += 1;
        }
    }

    /// Whitespace before a value: skipped in pretty text; in compact text only when a `{` or
    /// `[` follows (spaces around nested values, jsv.md §11.5), or, at the root, a `"` too
    /// (§11.4). Elsewhere it is part of a raw token.
    fn skip_ws_before_value(&mut self) {
        if self.pretty {
            self.skip_ws();
            return;
        }
        let mut p = self.pos;
        while p < self.bytes.len() && is_layout_ws(self.bytes[p]) {
            p += 1;
        }
        if p != self.pos {
            match self.bytes.get(p) {
                Some(b'{' | b'[') => self.pos = p,
                Some(b'"') if self.ctx == Ctx::Root => self.pos = p,
                _ => {}
            }
        }
    }

    /// After a quoted or bracketed token, whitespace before the separator is not data.
    fn skip_ws_after_token(&mut self) {
        self.skip_ws();
    }

    /// Whether the value at the current position is empty (then it is consumed).
    fn value_is_empty(&mut self) -> bool {
        if self.ctx == Ctx::Root {
            let rest = &self.bytes[self.pos..];
            if rest.iter().all(|&b| is_layout_ws(b)) {
                self.pos = self.bytes.len();
                return true;
            }
            return false;
        }
        self.skip_ws_before_value();
        match self.peek() {
            None => true,
            Some(b',') => true,
            Some(b'}') => self.ctx == Ctx::Map,
            Some(b']') => self.ctx == Ctx::List,
            Some(_) => false,
        }
    }

    /// Scan the next token for a scalar; returns it with its start offset.
    #[inline]
    fn scan(&mut self) -> Result<(Tok<'de>, usize)> {
        self.skip_ws_before_value();
        let start = self.pos;
        let Some(b) = self.peek() else {
            return Ok((Tok::Empty, start));
        };
        match b {
            b'"' => {
                let end = quoted_end(self.bytes, start)
                    .ok_or_else(|| self.err_at(Error::eof("unterminated quoted string"), start))?;
                self.pos = end + 1;
                self.skip_ws_after_token();
                Ok((Tok::Quoted(&self.input[start + 1..end]), start))
            }
            b'{' | b'[' => {
                let end = compound_end(self.bytes, start).ok_or_else(|| {
                    self.err_at(Error::eof(format!("unclosed '{}'", b as char)), start)
                })?;
                self.pos = end + 1;
                self.skip_ws_after_token();
                Ok((Tok::Raw(&self.input[start..=end]), start))
            }
            _ => {
                let end = self.raw_end(start);
                self.pos = end;
                let mut raw = &self.input[start..end];
                if self.pretty {
                    raw = trim_layout(raw);
                }
                if raw.is_empty() {
                    Ok((Tok::Empty, start))
                } else {
                    Ok((Tok::Raw(raw), start))
                }
            }
        }
    }

    /// End of a raw token starting at `start`, by context.
    fn raw_end(&self, start: usize) -> usize {
        let rest = &self.bytes[start..];
        match self.ctx {
            Ctx::Root => self.bytes.len(),
            Ctx::Map => find2(b',', b'}', rest).map_or(self.bytes.len(), |i| start + i),
            Ctx::Bare => memchr(b',', rest).map_or(self.bytes.len(), |i| start + i),
            Ctx::List => {
                // `]` closes the list unless a `[` inside the token opened it (`a[1]b`).
                let mut depth = 0usize;
                let mut i = 0;
                while let Some(off) = find3(b',', b'[', b']', &rest[i..]) {
                    let p = i + off;
                    match rest[p] {
                        b'[' => depth += 1,
                        b']' if depth > 0 => depth -= 1,
                        _ => return start + p,
                    }
                    i = p + 1;
                }
                self.bytes.len()
            }
        }
    }

    /// The text of a scalar token, quotes removed.
    fn scalar_text(&mut self) -> Result<(Cow<'de, str>, usize)> {
        let (tok, start) = self.scan()?;
        Ok(match tok {
            Tok::Empty => (Cow::Borrowed(""), start),
            Tok::Raw(s) => (Cow::Borrowed(s), start),
            Tok::Quoted(s) => (unescape_quoted(s), start),
        })
    }

    fn enter(&mut self) -> Result<()> {
        if self.remaining_depth == 0 {
            return Err(self.err_here(Error::syntax("recursion limit exceeded")));
        }
        self.remaining_depth -= 1;
        Ok(())
    }

    fn leave(&mut self, ctx: Ctx) {
        self.remaining_depth += 1;
        self.ctx = ctx;
    }

    /// Open a `{`: returns the context to restore afterwards.
    fn open_map(&mut self) -> Result<Ctx> {
        self.skip_ws_before_value();
        if self.ctx == Ctx::Root {
            self.skip_ws();
        }
        match self.peek() {
            Some(b'{') => {}
            None => {
                return Err(self.err_here(Error::eof("expected '{', found the end of the text")));
            }
            Some(b',' | b'}' | b']') => {
                return Err(self.err_here(Error::data("expected '{', found an empty value")));
            }
            Some(_) => return Err(self.err_here(Error::syntax("expected '{'"))),
        }
        self.enter()?;
        self.pos += 1;
        let saved = self.ctx;
        self.ctx = Ctx::Map;
        Ok(saved)
    }

    /// Read the next key of the map being read, consuming the separator before it and the
    /// `:` after it; `None` after the closing `}`.
    #[inline]
    fn next_key_text(&mut self, first: bool) -> Result<Option<Cow<'de, str>>> {
        if !self.key_separator(first)? {
            return Ok(None);
        }
        self.key_text(first)
    }

    /// Consume the `,` before a key (not before the first); `false` after the closing `}`.
    #[inline]
    fn key_separator(&mut self, first: bool) -> Result<bool> {
        if first {
            return Ok(true);
        }
        if self.pretty {
            self.skip_ws();
        }
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b'}') => {
                self.pos += 1;
                Ok(false)
            }
            None => Err(self.err_here(Error::eof("unclosed '{', expected ',' or '}'"))),
            Some(_) => Err(self.err_here(Error::syntax("expected ',' or '}' after a map value"))),
        }
    }

    /// Fast path for DTOs: the text at the cursor is exactly `name:`. Keys usually arrive in
    /// declaration order and spelled as declared, so this skips scanning and matching.
    #[inline]
    fn eat_exact_key(&mut self, name: &str) -> bool {
        let end = self.pos + name.len();
        if self.bytes.get(end) == Some(&b':')
            && self.bytes.get(self.pos..end) == Some(name.as_bytes())
        {
            self.pos = end + 1;
            true
        } else {
            false
        }
    }

    /// The key after the separator, unquoted, and the `:` after it; `None` for an empty map.
    #[inline]
    fn key_text(&mut self, first: bool) -> Result<Option<Cow<'de, str>>> {
        let key_start = self.pos;
        self.skip_ws();
        match self.peek() {
            None => Err(self.err_here(Error::eof("unclosed '{', expected a key or '}'"))),
            Some(b'}') => {
                if first {
                    self.pos += 1;
                    Ok(None)
                } else {
                    Err(self.err_here(Error::syntax("trailing comma in map")))
                }
            }
            Some(b'"') => {
                let start = self.pos;
                let end = quoted_end(self.bytes, start)
                    .ok_or_else(|| self.err_at(Error::eof("unterminated quoted key"), start))?;
                self.pos = end + 1;
                self.skip_ws();
                if self.peek() != Some(b':') {
                    return Err(self.err_here(Error::syntax("expected ':' after a map key")));
                }
                self.pos += 1;
                Ok(Some(unescape_quoted(&self.input[start + 1..end])))
            }
            Some(_) => {
                let rest = &self.bytes[key_start..];
                match find3(b':', b',', b'}', rest) {
                    Some(i) if rest[i] == b':' => {
                        self.pos = key_start + i + 1;
                        let key = &self.input[key_start..key_start + i];
                        Ok(Some(Cow::Borrowed(if self.pretty {
                            trim_layout(key)
                        } else {
                            key
                        })))
                    }
                    Some(i) => {
                        Err(self
                            .err_at(Error::syntax("expected ':' after a map key"), key_start + i))
                    }
                    None => Err(self.err_at(
                        Error::eof("unclosed '{', expected ':' after a map key"),
                        self.bytes.len(),
                    )),
                }
            }
        }
    }

    /// Skip one value of any shape (unknown keys, unread items).
    fn skip_value(&mut self) -> Result<()> {
        self.scan().map(|_| ())
    }

    fn parse_scalar<T>(&mut self, f: impl FnOnce(&str) -> Result<T>) -> Result<T> {
        let (text, start) = self.scalar_text()?;
        f(&text).map_err(|e| self.err_at(e, start))
    }

    fn parse_signed<T: TryFrom<i128> + TryFrom<i64>>(&mut self, ty: &str) -> Result<T> {
        let (text, start) = self.scalar_text()?;
        if let Some(v) = parse::parse_i64_fast(&text)
            && let Ok(v) = T::try_from(v)
        {
            return Ok(v);
        }
        let v = parse::parse_i128(&text).map_err(|e| self.err_at(e, start))?;
        T::try_from(v).map_err(|_| self.err_at(parse::int_out_of_range(&text, ty), start))
    }

    fn parse_unsigned<T: TryFrom<u128>>(&mut self, ty: &str) -> Result<T> {
        let (text, start) = self.scalar_text()?;
        let v = parse::parse_u128(&text).map_err(|e| self.err_at(e, start))?;
        T::try_from(v).map_err(|_| self.err_at(parse::int_out_of_range(&text, ty), start))
    }

    /// Attach the current position to an error that has none (visitor errors).
    fn fix<T>(&self, r: Result<T>) -> Result<T> {
        r.map_err(|e| self.fix_err(e))
    }

    fn fix_err(&self, e: Error) -> Error {
        if e.has_position() {
            e
        } else {
            self.err_here(e)
        }
    }
}

/// Deserialize an instance of `T` from JSV text.
///
/// Leading and trailing whitespace around the root value is accepted; any other text after
/// it is an error.
///
/// ```
/// use serde::Deserialize;
/// #[derive(Deserialize, Debug, PartialEq)]
/// #[serde(rename_all = "camelCase")]
/// struct NewBillable { account_id: Option<String>, call_sid: Option<String> }
/// let b: NewBillable = jsv::from_str("{AccountId:AC1,callSid:\"CA,2\",extra:{x:1}}").unwrap();
/// assert_eq!(b.account_id.as_deref(), Some("AC1"));
/// assert_eq!(b.call_sid.as_deref(), Some("CA,2"));
/// ```
///
/// # Errors
///
/// Malformed text ([`crate::Category::Syntax`]/[`crate::Category::Eof`]) or a token that does
/// not fit the target type ([`crate::Category::Data`]); the error carries the line, column,
/// field path and offending token.
pub fn from_str<'a, T: de::Deserialize<'a>>(s: &'a str) -> Result<T> {
    let mut de = Deserializer::from_str(s);
    let v = T::deserialize(&mut de);
    let v = de.fix(v)?;
    de.end()?;
    Ok(v)
}

/// Deserialize an instance of `T` from UTF-8 JSV bytes; a leading byte-order mark is skipped.
///
/// # Errors
///
/// As [`from_str`], plus a syntax error at the first invalid UTF-8 byte.
pub fn from_slice<'a, T: de::Deserialize<'a>>(v: &'a [u8]) -> Result<T> {
    let v = v.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(v);
    match std::str::from_utf8(v) {
        Ok(s) => from_str(s),
        Err(e) => {
            let valid = e.valid_up_to();
            let prefix = std::str::from_utf8(&v[..valid]).unwrap_or_default();
            Err(Error::syntax("invalid UTF-8").at(prefix, valid))
        }
    }
}

macro_rules! signed {
    ($($method:ident $visit:ident $ty:ty,)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let v: $ty = self.parse_signed(stringify!($ty))?;
            visitor.$visit(v)
        }
    )*};
}

macro_rules! unsigned {
    ($($method:ident $visit:ident $ty:ty,)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let v: $ty = self.parse_unsigned(stringify!($ty))?;
            visitor.$visit(v)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip_ws_before_value();
        match self.peek() {
            Some(b'{') => self.deserialize_map(visitor),
            Some(b'[') => self.deserialize_seq(visitor),
            _ => {
                let (tok, _) = self.scan()?;
                match tok {
                    Tok::Empty => visitor.visit_unit(),
                    Tok::Raw(s) => visitor.visit_borrowed_str(s),
                    Tok::Quoted(s) => match unescape_quoted(s) {
                        Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
                        Cow::Owned(s) => visitor.visit_string(s),
                    },
                }
            }
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let v = self.parse_scalar(parse::parse_bool)?;
        visitor.visit_bool(v)
    }

    signed! {
        deserialize_i8 visit_i8 i8,
        deserialize_i16 visit_i16 i16,
        deserialize_i32 visit_i32 i32,
        deserialize_i64 visit_i64 i64,
        deserialize_i128 visit_i128 i128,
    }

    unsigned! {
        deserialize_u8 visit_u8 u8,
        deserialize_u16 visit_u16 u16,
        deserialize_u32 visit_u32 u32,
        deserialize_u64 visit_u64 u64,
        deserialize_u128 visit_u128 u128,
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let v = self.parse_scalar(parse::parse_f32)?;
        visitor.visit_f32(v)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let v = self.parse_scalar(parse::parse_f64)?;
        visitor.visit_f64(v)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let (text, start) = self.scalar_text()?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => visitor.visit_char(c),
            _ => Err(self.err_at(
                Error::invalid_token(format!("expected one character, found '{text}'"), &text),
                start,
            )),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let (tok, _) = self.scan()?;
        match tok {
            Tok::Empty => visitor.visit_borrowed_str(""),
            Tok::Raw(s) => visitor.visit_borrowed_str(s),
            Tok::Quoted(s) => match unescape_quoted(s) {
                Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
                Cow::Owned(s) => visitor.visit_string(s),
            },
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let (text, start) = self.scalar_text()?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim().as_bytes())
            .map_err(|_| {
                self.err_at(
                    Error::invalid_token(format!("invalid Base64 '{}'", text.trim()), text.trim()),
                    start,
                )
            })?;
        visitor.visit_byte_buf(bytes)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.value_is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let (tok, start) = self.scan()?;
        match tok {
            Tok::Empty => visitor.visit_unit(),
            _ => Err(self.err_at(Error::data("expected an empty value"), start)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip_ws_before_value();
        if self.ctx == Ctx::Root {
            self.skip_ws();
        }
        let mode = match self.peek() {
            Some(b'[') => SeqMode::Brackets,
            None => {
                return Err(self.err_here(Error::eof("expected a list, found the end of the text")));
            }
            Some(_) if self.ctx == Ctx::Root => SeqMode::Bare,
            Some(b',' | b']' | b'}') => {
                return Err(self.err_here(Error::data("expected a list, found an empty value")));
            }
            Some(_) => SeqMode::Single,
        };
        self.enter()?;
        let saved = self.ctx;
        let mut empty = false;
        match mode {
            SeqMode::Brackets => {
                self.pos += 1;
                self.ctx = Ctx::List;
                // `[]` and `[ ]` are empty lists (jsv.md §4.3).
                let mut p = self.pos;
                while p < self.bytes.len() && is_layout_ws(self.bytes[p]) {
                    p += 1;
                }
                if self.bytes.get(p) == Some(&b']') {
                    self.pos = p + 1;
                    empty = true;
                }
            }
            SeqMode::Bare => self.ctx = Ctx::Bare,
            SeqMode::Single => {}
        }
        let mut access = SeqAccess {
            de: self,
            mode,
            first: true,
            done: empty,
            index: 0,
        };
        let value = match visitor.visit_seq(&mut access) {
            Ok(v) => v,
            Err(e) => {
                let e = access.de.fix_err(e);
                self.leave(saved);
                return Err(e);
            }
        };
        // A visitor may stop early: skip what it did not read.
        while !access.done {
            access.next_item_start()?;
            if !access.done {
                access.de.skip_value()?;
            }
        }
        if mode == SeqMode::Brackets {
            // Whitespace after a nested `]` is not data.
            access.de.skip_ws();
        }
        self.leave(saved);
        Ok(value)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.read_map(visitor, None)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.read_map(visitor, Some(fields))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.skip_ws_before_value();
        if self.peek() == Some(b'{') {
            let saved = self.open_map()?;
            let key_pos = self.pos;
            let key = self.next_key_text(true)?.ok_or_else(|| {
                self.err_at(Error::data("expected an enum variant, found '{}'"), key_pos)
            })?;
            let name = match_variant(&key, variants).map_err(|e| self.err_at(e, key_pos))?;
            let value = visitor.visit_enum(EnumAccess { de: self, name });
            let value = self.fix(value)?;
            if self.pretty {
                self.skip_ws();
            }
            if self.peek() != Some(b'}') {
                return Err(self.err_here(Error::syntax("expected '}' after the enum value")));
            }
            self.pos += 1;
            self.skip_ws();
            self.leave(saved);
            return Ok(value);
        }
        let (text, start) = self.scalar_text()?;
        let name = match_variant(&text, variants).map_err(|e| self.err_at(e, start))?;
        visitor.visit_enum(name.into_deserializer())
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip_value()?;
        visitor.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        true
    }
}

impl<'de> Deserializer<'de> {
    fn read_map<V: Visitor<'de>>(
        &mut self,
        visitor: V,
        fields: Option<&'static [&'static str]>,
    ) -> Result<V::Value> {
        let saved = self.open_map()?;
        let mut access = MapAccess {
            de: self,
            fields,
            next_field: 0,
            first: true,
            done: false,
            key: Cow::Borrowed(""),
        };
        let value = match visitor.visit_map(&mut access) {
            Ok(v) => v,
            Err(e) => {
                let e = access.de.fix_err(e);
                self.leave(saved);
                return Err(e);
            }
        };
        // A visitor may stop early: skip what it did not read.
        while !access.done {
            match access.de.next_key_text(access.first)? {
                Some(_) => {
                    access.first = false;
                    access.de.skip_value()?;
                }
                None => access.done = true,
            }
        }
        // Whitespace after a nested `}` is not data.
        access.de.skip_ws();
        self.leave(saved);
        Ok(value)
    }
}

/// Find `key` among the enum's variants: trimmed, case-insensitive, or a variant index.
pub(crate) fn match_variant(key: &str, variants: &'static [&'static str]) -> Result<&'static str> {
    let k = key.trim();
    if let Some(v) = variants.iter().find(|v| v.eq_ignore_ascii_case(k)) {
        return Ok(v);
    }
    if !k.is_empty()
        && k.bytes().all(|b| b.is_ascii_digit())
        && let Some(v) = k.parse::<usize>().ok().and_then(|i| variants.get(i))
    {
        return Ok(v);
    }
    if k.is_empty() {
        return Err(Error::invalid_token(
            "expected an enum variant, found an empty value",
            "",
        ));
    }
    Err(Error::invalid_token(
        format!(
            "unknown variant '{k}', expected one of {}",
            variants.join(", ")
        ),
        k,
    ))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SeqMode {
    Brackets,
    Bare,
    /// A non-list token where a list was asked for inside a container: a one-item list.
    Single,
}

struct SeqAccess<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    mode: SeqMode,
    first: bool,
    done: bool,
    index: usize,
}

impl SeqAccess<'_, '_> {
    /// Consume the separator before the next item, or the end of the list.
    fn next_item_start(&mut self) -> Result<()> {
        let de = &mut *self.de;
        match self.mode {
            SeqMode::Single => {
                if !self.first {
                    self.done = true;
                }
            }
            SeqMode::Bare => {
                if !self.first {
                    match de.peek() {
                        Some(b',') => de.pos += 1,
                        None => self.done = true,
                        Some(_) => {
                            return Err(
                                de.err_here(Error::syntax("expected ',' between list items"))
                            );
                        }
                    }
                }
            }
            SeqMode::Brackets => {
                if self.first {
                    if de.peek() == Some(b']') {
                        de.pos += 1;
                        self.done = true;
                    }
                } else {
                    if de.pretty {
                        de.skip_ws();
                    }
                    match de.peek() {
                        Some(b',') => de.pos += 1,
                        Some(b']') => {
                            de.pos += 1;
                            self.done = true;
                        }
                        None => {
                            return Err(
                                de.err_here(Error::eof("unclosed '[', expected ',' or ']'"))
                            );
                        }
                        Some(_) => {
                            return Err(
                                de.err_here(Error::syntax("expected ',' or ']' after a list item"))
                            );
                        }
                    }
                }
            }
        }
        self.first = false;
        Ok(())
    }
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.done {
            return Ok(None);
        }
        self.next_item_start()?;
        if self.done {
            return Ok(None);
        }
        let index = self.index;
        self.index += 1;
        match seed.deserialize(&mut *self.de) {
            Ok(v) => Ok(Some(v)),
            Err(e) => Err(self.de.fix_err(e).in_index(index)),
        }
    }
}

struct MapAccess<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    fields: Option<&'static [&'static str]>,
    /// Index of the field expected next (keys usually come in declaration order).
    next_field: usize,
    first: bool,
    done: bool,
    key: Cow<'de, str>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        loop {
            if self.done {
                return Ok(None);
            }
            let first = self.first;
            if !self.de.key_separator(first)? {
                self.done = true;
                return Ok(None);
            }
            self.first = false;
            if let Some(fields) = self.fields
                && let Some(&name) = fields.get(self.next_field)
                && self.de.eat_exact_key(name)
            {
                self.next_field += 1;
                self.key = Cow::Borrowed(name);
                let v = seed.deserialize(de::value::BorrowedStrDeserializer::new(name));
                return self.de.fix(v).map(Some);
            }
            let key_pos = self.de.pos;
            let Some(key) = self.de.key_text(first)? else {
                self.done = true;
                return Ok(None);
            };
            match self.fields {
                Some(fields) => {
                    let k = trim_key(&key);
                    // Keys usually arrive in declaration order and spelled as declared: try the
                    // next field exactly before searching case-insensitively.
                    let found = match fields.get(self.next_field) {
                        Some(f) if same_bytes(f, k) => Some((self.next_field, f)),
                        _ => fields
                            .iter()
                            .enumerate()
                            .find(|(_, f)| f.len() == k.len() && f.eq_ignore_ascii_case(k)),
                    };
                    if let Some((i, _)) = found {
                        self.next_field = i + 1;
                    }
                    let found = found.map(|(_, f)| f);
                    match found {
                        Some(&name) => {
                            self.key = Cow::Borrowed(name);
                            let v = seed.deserialize(de::value::BorrowedStrDeserializer::new(name));
                            return self.de.fix(v).map(Some);
                        }
                        None => self.de.skip_value()?,
                    }
                }
                None => {
                    self.key = key.clone();
                    let v = seed.deserialize(KeyDeserializer { key });
                    return v.map(Some).map_err(|e| self.de.err_at(e, key_pos));
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        match seed.deserialize(&mut *self.de) {
            Ok(v) => Ok(v),
            Err(e) => Err(self.de.fix_err(e).in_field(&self.key)),
        }
    }
}

struct EnumAccess<'a, 'de> {
    de: &'a mut Deserializer<'de>,
    name: &'static str,
}

impl<'a, 'de> de::EnumAccess<'de> for EnumAccess<'a, 'de> {
    type Error = Error;
    type Variant = &'a mut Deserializer<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant)> {
        let v = seed.deserialize(de::value::BorrowedStrDeserializer::<Error>::new(self.name))?;
        Ok((v, self.de))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Deserializer<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_struct(self, "", fields, visitor)
    }
}

/// Map keys: text, parsed with the scalar rules when the key type asks for a number etc.
struct KeyDeserializer<'de> {
    key: Cow<'de, str>,
}

macro_rules! key_parse {
    ($($method:ident $visit:ident $ty:ty => $parse:expr,)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let f: fn(&str) -> Result<$ty> = $parse;
            visitor.$visit(f(&self.key)?)
        }
    )*};
}

fn narrow<T: TryFrom<i128>>(s: &str, ty: &str) -> Result<T> {
    let v = parse::parse_i128(s)?;
    T::try_from(v).map_err(|_| parse::int_out_of_range(s, ty))
}

fn narrow_u<T: TryFrom<u128>>(s: &str, ty: &str) -> Result<T> {
    let v = parse::parse_u128(s)?;
    T::try_from(v).map_err(|_| parse::int_out_of_range(s, ty))
}

impl<'de> de::Deserializer<'de> for KeyDeserializer<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.key {
            Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            Cow::Owned(s) => visitor.visit_string(s),
        }
    }

    key_parse! {
        deserialize_bool visit_bool bool => parse::parse_bool,
        deserialize_i8 visit_i8 i8 => |s| narrow(s, "i8"),
        deserialize_i16 visit_i16 i16 => |s| narrow(s, "i16"),
        deserialize_i32 visit_i32 i32 => |s| narrow(s, "i32"),
        deserialize_i64 visit_i64 i64 => |s| narrow(s, "i64"),
        deserialize_i128 visit_i128 i128 => parse::parse_i128,
        deserialize_u8 visit_u8 u8 => |s| narrow_u(s, "u8"),
        deserialize_u16 visit_u16 u16 => |s| narrow_u(s, "u16"),
        deserialize_u32 visit_u32 u32 => |s| narrow_u(s, "u32"),
        deserialize_u64 visit_u64 u64 => |s| narrow_u(s, "u64"),
        deserialize_u128 visit_u128 u128 => parse::parse_u128,
        deserialize_f32 visit_f32 f32 => parse::parse_f32,
        deserialize_f64 visit_f64 f64 => parse::parse_f64,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let name = match_variant(&self.key, variants)?;
        visitor.visit_enum(name.into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}
