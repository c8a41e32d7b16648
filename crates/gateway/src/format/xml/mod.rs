//! XML in the `DataContractSerializer` layout that ServiceStack's XML clients read and write
//! (jsv.md §8, decisions.md 11).
//!
//! Writing captures the value as a tree (serde gives the wire names; [`crate::meta::TypeInfo`]
//! gives C# names, member order and namespaces) and writes it with DCS's element names, `i:nil`
//! members and `d{depth}p1` prefixes. Reading is lenient where DCS is strict: namespaces are
//! ignored and members may come in any order, so a document binds whatever client wrote it.

mod read;
pub(crate) mod tree;
mod write;

pub(crate) use write::upper_first;

use super::{Format, FormatError, ReadContext, WriteContext};
use actix_web::http::header::HeaderValue;

/// The Content-Type of XML responses.
const CONTENT_TYPE: &str = "application/xml";
/// [`CONTENT_TYPE`] as a header value, built at compile time.
static CONTENT_TYPE_HEADER: HeaderValue = HeaderValue::from_static(CONTENT_TYPE);

/// The XML format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Xml;

impl Format for Xml {
    fn name(&self) -> &'static str {
        "xml"
    }

    fn content_type(&self) -> &'static str {
        CONTENT_TYPE
    }

    fn content_type_header(&self) -> Option<HeaderValue> {
        Some(CONTENT_TYPE_HEADER.clone())
    }

    fn media_types(&self) -> &'static [&'static str] {
        &["application/xml", "text/xml"]
    }

    fn write(
        &self,
        value: &dyn erased_serde::Serialize,
        ctx: &WriteContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        let node =
            tree::capture(value).map_err(|e| FormatError::msg(format!("cannot write XML: {e}")))?;
        write::write_document(&node, ctx, out)
    }

    fn read(
        &self,
        body: &[u8],
        ctx: &ReadContext<'_>,
    ) -> Option<Result<::jsv::Value, FormatError>> {
        Some(read::read_document(body, ctx))
    }
}
