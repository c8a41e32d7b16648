//! The jsv format (placeholder until its owner fills it in).

use super::{Format, FormatError, ReadContext, WriteContext};

/// The jsv format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Jsv;

impl Format for Jsv {
    fn name(&self) -> &'static str {
        "jsv"
    }

    fn content_type(&self) -> &'static str {
        "application/jsv; charset=utf-8"
    }

    fn media_types(&self) -> &'static [&'static str] {
        &["application/jsv", "text/jsv"]
    }

    fn write(&self, _value: &dyn erased_serde::Serialize, _ctx: &WriteContext<'_>, _out: &mut Vec<u8>) -> Result<(), FormatError> {
        Err(FormatError::msg("the jsv writer is not built yet"))
    }

    fn read(&self, _body: &[u8], _ctx: &ReadContext<'_>) -> Option<Result<::jsv::Value, FormatError>> {
        Some(Err(FormatError::msg("the jsv reader is not built yet")))
    }
}
