//! The html format (placeholder until its owner fills it in).

use super::{Format, FormatError, ReadContext, WriteContext};

/// The html format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

impl Format for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn content_type(&self) -> &'static str {
        "text/html; charset=utf-8"
    }

    fn media_types(&self) -> &'static [&'static str] {
        &["text/html"]
    }

    fn write(&self, _value: &dyn erased_serde::Serialize, _ctx: &WriteContext<'_>, _out: &mut Vec<u8>) -> Result<(), FormatError> {
        Err(FormatError::msg("the html writer is not built yet"))
    }

    fn read(&self, _body: &[u8], _ctx: &ReadContext<'_>) -> Option<Result<::jsv::Value, FormatError>> {
        Some(Err(FormatError::msg("the html reader is not built yet")))
    }
}
