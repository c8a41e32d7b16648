//! The xml format (placeholder until its owner fills it in).

use super::{Format, FormatError, ReadContext, WriteContext};

/// The xml format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Xml;

impl Format for Xml {
    fn name(&self) -> &'static str {
        "xml"
    }

    fn content_type(&self) -> &'static str {
        "application/xml"
    }

    fn media_types(&self) -> &'static [&'static str] {
        &["application/xml", "text/xml"]
    }

    fn write(&self, _value: &dyn erased_serde::Serialize, _ctx: &WriteContext<'_>, _out: &mut Vec<u8>) -> Result<(), FormatError> {
        Err(FormatError::msg("the xml writer is not built yet"))
    }

    fn read(&self, _body: &[u8], _ctx: &ReadContext<'_>) -> Option<Result<::jsv::Value, FormatError>> {
        Some(Err(FormatError::msg("the xml reader is not built yet")))
    }
}
