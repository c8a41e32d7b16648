//! The one error type of the crate, shared by reading and writing.

use std::fmt::{self, Display};
use std::io;

/// Result alias used by every fallible function of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What went wrong, or why a value could not be read or written.
///
/// The details live behind a `Box` so that `Result<T, Error>` stays one pointer wide: results
/// travel through every level of a recursive descent, and a fat error would slow the happy path
/// down for the sake of the rare failure.
///
/// # Display
///
/// The text is `{message}`, followed by ` at line {l} column {c}` when the error has a position
/// in the JSV text, followed by ` (field {path})` when the error happened below a field or list
/// item, for example
/// `invalid integer 'abc' at line 1 column 16 (field calls[2].count)`.
pub struct Error {
    inner: Box<ErrorImpl>,
}

struct ErrorImpl {
    msg: String,
    line: usize,
    column: usize,
    category: Category,
    /// Path segments, outermost first once rendering happens; pushed innermost first.
    segments: Vec<Segment>,
    path: Option<String>,
    value: Option<String>,
    io: Option<io::Error>,
}

enum Segment {
    Field(String),
    Index(usize),
}

/// The broad kind of an [`Error`], in the same four buckets as `serde_json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// The text is not well-formed JSV (unbalanced brackets, missing `:`, trailing text ...).
    Syntax,
    /// The text is well-formed but does not fit the target type (`abc` for an integer,
    /// an empty token for a non-optional number, an unknown enum variant ...).
    Data,
    /// The text ended where more was required.
    Eof,
    /// Writing the output failed.
    Io,
}

impl Error {
    fn build(msg: String, category: Category) -> Self {
        Error {
            inner: Box::new(ErrorImpl {
                msg,
                line: 0,
                column: 0,
                category,
                segments: Vec::new(),
                path: None,
                value: None,
                io: None,
            }),
        }
    }

    pub(crate) fn syntax(msg: impl Into<String>) -> Self {
        Self::build(msg.into(), Category::Syntax)
    }

    pub(crate) fn data(msg: impl Into<String>) -> Self {
        Self::build(msg.into(), Category::Data)
    }

    pub(crate) fn eof(msg: impl Into<String>) -> Self {
        Self::build(msg.into(), Category::Eof)
    }

    /// A scalar that failed to parse; keeps the raw token for [`Error::value`].
    pub(crate) fn invalid_token(msg: impl Into<String>, token: &str) -> Self {
        let mut e = Self::build(msg.into(), Category::Data);
        e.inner.value = Some(token.to_owned());
        e
    }

    pub(crate) fn io(err: io::Error) -> Self {
        let mut e = Self::build(err.to_string(), Category::Io);
        e.inner.io = Some(err);
        e
    }

    /// Attach the position of byte `offset` in `input`, unless a deeper frame already did.
    pub(crate) fn at(mut self, input: &str, offset: usize) -> Self {
        if self.inner.line == 0 {
            let (line, column) = line_col(input, offset);
            self.inner.line = line;
            self.inner.column = column;
        }
        self
    }

    pub(crate) fn has_position(&self) -> bool {
        self.inner.line != 0
    }

    /// Prefix the path with a field name while the error unwinds out of a map or struct.
    pub(crate) fn in_field(mut self, name: &str) -> Self {
        self.inner.segments.push(Segment::Field(name.to_owned()));
        self.render_path();
        self
    }

    /// Prefix the path with a list index while the error unwinds out of a list.
    pub(crate) fn in_index(mut self, index: usize) -> Self {
        self.inner.segments.push(Segment::Index(index));
        self.render_path();
        self
    }

    fn render_path(&mut self) {
        let mut s = String::new();
        for seg in self.inner.segments.iter().rev() {
            match seg {
                Segment::Field(name) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(name);
                }
                Segment::Index(i) => {
                    s.push('[');
                    s.push_str(itoa::Buffer::new().format(*i));
                    s.push(']');
                }
            }
        }
        self.inner.path = Some(s);
    }

    /// 1-based line of the offending position in the JSV text, or 0 when the error has no
    /// position (errors raised while writing, or while reading a [`crate::Value`]).
    pub fn line(&self) -> usize {
        self.inner.line
    }

    /// 1-based column, counted in characters (not bytes), of the offending position; 0 when
    /// the error has no position.
    pub fn column(&self) -> usize {
        self.inner.column
    }

    /// The field path of the failing value, such as `calls[2].duration`, or `None` when the
    /// error happened at the root.
    pub fn path(&self) -> Option<&str> {
        self.inner.path.as_deref()
    }

    /// The outermost field name of [`Error::path`] (`calls` for `calls[2].duration`, `count`
    /// for `[3].count`), spelled as the declared serde field name when the input matched it
    /// case-insensitively.
    pub fn field(&self) -> Option<&str> {
        self.inner.segments.iter().rev().find_map(|s| match s {
            Segment::Field(name) => Some(name.as_str()),
            Segment::Index(_) => None,
        })
    }

    /// The raw text of the token that failed to parse as a scalar (`abc` when `abc` was given
    /// for an integer), without surrounding quotes.
    pub fn value(&self) -> Option<&str> {
        self.inner.value.as_deref()
    }

    /// The message without position or path.
    pub fn message(&self) -> &str {
        &self.inner.msg
    }

    /// The kind of failure.
    pub fn classify(&self) -> Category {
        self.inner.category
    }

    /// `true` for [`Category::Syntax`].
    pub fn is_syntax(&self) -> bool {
        self.classify() == Category::Syntax
    }

    /// `true` for [`Category::Data`].
    pub fn is_data(&self) -> bool {
        self.classify() == Category::Data
    }

    /// `true` for [`Category::Eof`].
    pub fn is_eof(&self) -> bool {
        self.classify() == Category::Eof
    }

    /// `true` for [`Category::Io`].
    pub fn is_io(&self) -> bool {
        self.classify() == Category::Io
    }
}

/// 1-based line and character column of byte `offset`.
fn line_col(input: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(input.len());
    while !input.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &input[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.msg)?;
        if self.inner.line != 0 {
            write!(
                f,
                " at line {} column {}",
                self.inner.line, self.inner.column
            )?;
        }
        if let Some(path) = &self.inner.path {
            write!(f, " (field {path})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Error({:?}, line: {}, column: {}, path: {:?}, value: {:?})",
            self.inner.msg, self.inner.line, self.inner.column, self.inner.path, self.inner.value
        )
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.io {
            Some(e) => Some(e),
            None => None,
        }
    }
}

impl serde::de::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error::data(msg.to_string())
    }

    fn missing_field(field: &'static str) -> Self {
        Error::data(format!("missing field `{field}`"))
    }
}

impl serde::ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error::data(msg.to_string())
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::io(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pointer_wide() {
        assert_eq!(
            std::mem::size_of::<Result<()>>(),
            std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn path_rendering() {
        let e = Error::data("bad")
            .in_field("duration")
            .in_index(2)
            .in_field("calls");
        assert_eq!(e.path(), Some("calls[2].duration"));
        assert_eq!(e.field(), Some("calls"));
        let e = Error::data("bad").in_field("count").in_index(3);
        assert_eq!(e.path(), Some("[3].count"));
        assert_eq!(e.field(), Some("count"));
    }

    #[test]
    fn columns_count_chars() {
        assert_eq!(line_col("a\néé", 5), (2, 2));
        assert_eq!(line_col("a\néé", 6), (2, 3));
        assert_eq!(line_col("abc", 0), (1, 1));
    }
}
