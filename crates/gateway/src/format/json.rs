//! The json format (placeholder until its owner fills it in).

use super::{Format, FormatError, ReadContext, WriteContext};

/// The json format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl Format for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn content_type(&self) -> &'static str {
        "application/json; charset=utf-8"
    }

    fn media_types(&self) -> &'static [&'static str] {
        &["application/json", "text/json"]
    }

    fn write(&self, _value: &dyn erased_serde::Serialize, _ctx: &WriteContext<'_>, _out: &mut Vec<u8>) -> Result<(), FormatError> {
        Err(FormatError::msg("the json writer is not built yet"))
    }

    fn read(&self, _body: &[u8], _ctx: &ReadContext<'_>) -> Option<Result<::jsv::Value, FormatError>> {
        Some(Err(FormatError::msg("the json reader is not built yet")))
    }
}
