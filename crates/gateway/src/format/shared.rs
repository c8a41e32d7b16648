//! Responses that are built once and served many times.
//!
//! A handler normally answers with its declared response value, which the format layer then
//! serializes for that one request. A service that keeps answers around (a cache of reports
//! that are read far more often than they change) can answer with a [`Shared`] instead: the
//! value sits behind an `Arc`, and its compact JSON and JSV are produced on first use and then
//! reused by every later request that gets the same `Shared`, in any thread. Other formats
//! (XML, CSV, HTML, `?debug` JSV) still serialize the value each time; they are rare.
//!
//! Which form a handler returns is its own business: [`IntoResponse`] accepts both, and the
//! operation's declared response type (and so `/metadata` and `/types`) stays the plain one.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use serde::{Serialize, Serializer};

use super::ResponseBody;

/// An immutable response value shared between requests, with its compact JSON and JSV kept
/// once written.
///
/// Cloning is an `Arc` clone. The memoized bytes are those of the value as it is now, which is
/// why the value cannot be changed after [`Shared::new`].
pub struct Shared<T>(Arc<Memo<T>>);

struct Memo<T> {
    value: T,
    json: OnceLock<Box<[u8]>>,
    jsv: OnceLock<Box<[u8]>>,
}

impl<T> Shared<T> {
    /// Wraps `value`; nothing is serialized until a request needs it.
    pub fn new(value: T) -> Self {
        Shared(Arc::new(Memo {
            value,
            json: OnceLock::new(),
            jsv: OnceLock::new(),
        }))
    }

    /// The value.
    pub fn get(&self) -> &T {
        &self.0.value
    }

    /// Bytes held by the memoized JSON and JSV so far (for callers that bound a cache).
    pub fn memoized_len(&self) -> usize {
        self.0.json.get().map_or(0, |b| b.len()) + self.0.jsv.get().map_or(0, |b| b.len())
    }

    /// Whether two handles share one value.
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Shared").field(&self.0.value).finish()
    }
}

impl<T> From<T> for Shared<T> {
    fn from(value: T) -> Self {
        Shared::new(value)
    }
}

/// Returns the memoized bytes in `cell`, producing them with `make` on first use.
///
/// A failure is not remembered (the next request tries again and reports it again). Two
/// requests that miss at once both serialize; the first to finish is kept, and both answers are
/// the same bytes anyway.
fn memoized<E>(
    cell: &OnceLock<Box<[u8]>>,
    make: impl FnOnce() -> Result<Vec<u8>, E>,
) -> Result<&[u8], E> {
    if let Some(bytes) = cell.get() {
        return Ok(bytes);
    }
    let bytes = make()?.into_boxed_slice();
    Ok(cell.get_or_init(|| bytes))
}

// Deliberately not `Serialize`: the blanket `ResponseBody` of serializable values would then
// cover `Shared` and write it afresh every time.
impl<T: Serialize> ResponseBody for Shared<T> {
    fn erased(&self) -> &dyn erased_serde::Serialize {
        &self.0.value
    }

    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let bytes = memoized(&self.0.json, || serde_json::to_vec(&self.0.value))?;
        append(out, bytes);
        Ok(())
    }

    fn write_jsv(&self, out: &mut Vec<u8>) -> ::jsv::Result<()> {
        let bytes = memoized(&self.0.jsv, || ::jsv::to_vec(&self.0.value))?;
        append(out, bytes);
        Ok(())
    }
}

/// Appends memoized bytes to the response buffer.
fn append(out: &mut Vec<u8>, bytes: &[u8]) {
    if out.is_empty() {
        // The usual case: the pipeline's fresh buffer. A right-sized copy beats growing the
        // small reservation it made for values written in place.
        *out = bytes.to_vec();
    } else {
        out.extend_from_slice(bytes);
    }
}

/// What a handler may answer with for an operation whose declared response type is `T`: the
/// value itself, or a [`Shared`] one.
pub trait IntoResponse<T>: 'static {
    /// How one answer is held inside a batch's list, which is written as a whole.
    type Item: Serialize + 'static;

    /// The answer of a single request, for the format layer.
    fn into_body(self) -> Box<dyn ResponseBody>;

    /// The answer as one element of a batch.
    fn into_item(self) -> Self::Item;
}

impl<T: Serialize + 'static> IntoResponse<T> for T {
    type Item = T;

    fn into_body(self) -> Box<dyn ResponseBody> {
        Box::new(self)
    }

    fn into_item(self) -> T {
        self
    }
}

impl<T: Serialize + 'static> IntoResponse<T> for Shared<T> {
    type Item = SharedItem<T>;

    fn into_body(self) -> Box<dyn ResponseBody> {
        Box::new(self)
    }

    fn into_item(self) -> SharedItem<T> {
        SharedItem(self)
    }
}

/// A [`Shared`] answer as an element of a batch's list: written like its value (a batch is
/// serialized as one document, so the memoized bytes cannot be spliced in).
pub struct SharedItem<T>(Shared<T>);

impl<T: Serialize> Serialize for SharedItem<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.get().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        name: String,
        count_of: i64,
    }

    fn rows() -> Vec<Row> {
        vec![
            Row {
                name: "a b".into(),
                count_of: 1,
            },
            Row {
                name: "c".into(),
                count_of: 2,
            },
        ]
    }

    /// A body's compact JSV, written into a fresh buffer as the pipeline does.
    fn jsv_of(body: &dyn ResponseBody) -> Vec<u8> {
        let mut out = Vec::new();
        body.write_jsv(&mut out).unwrap();
        out
    }

    #[test]
    fn writes_the_same_bytes_as_the_plain_value() {
        let shared = Shared::new(rows());
        let plain = rows();
        for _ in 0..2 {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            shared.write_json(&mut a).unwrap();
            plain.write_json(&mut b).unwrap();
            assert_eq!(a, b);
            assert_eq!(jsv_of(&shared), jsv_of(&plain));
        }
        assert_eq!(
            std::str::from_utf8(&jsv_of(&shared)).unwrap(),
            "[{name:a b,countOf:1},{name:c,countOf:2}]"
        );
    }

    #[test]
    fn memoizes_each_format_once_and_appends_to_a_used_buffer() {
        let shared = Shared::new(rows());
        assert_eq!(shared.memoized_len(), 0);
        let mut first = Vec::new();
        shared.write_json(&mut first).unwrap();
        let json_len = first.len();
        assert_eq!(shared.memoized_len(), json_len);
        let clone = shared.clone();
        assert!(Shared::ptr_eq(&shared, &clone));
        let mut out = b"cb(".to_vec();
        clone.write_json(&mut out).unwrap();
        assert_eq!(&out[3..], &first[..]);
        let jsv = jsv_of(&clone);
        assert_eq!(shared.memoized_len(), json_len + jsv.len());
    }

    #[test]
    fn other_formats_see_the_value_and_batches_write_it() {
        let shared = Shared::new(rows());
        let erased = serde_json::to_string(&shared.erased()).unwrap();
        assert_eq!(
            erased,
            r#"[{"name":"a b","countOf":1},{"name":"c","countOf":2}]"#
        );
        let batch = vec![
            IntoResponse::<Vec<Row>>::into_item(shared.clone()),
            shared.into_item(),
        ];
        let mut out = Vec::new();
        batch.write_json(&mut out).unwrap();
        assert_eq!(out, format!("[{erased},{erased}]").into_bytes());
    }
}
