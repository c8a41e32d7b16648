//! ServiceStack's JSV text format as a serde data format.
//!
//! JSV ("JSON + CSV") is what ServiceStack serves as `application/jsv` / `text/jsv`: JSON-shaped
//! but without quotes around keys or plain strings, with CSV-style quoting
//! (`{Name:"Me, Junior",Size:"2"" x 1"""}`), `True`/`False`, and no type information in scalars.
//! This crate reads and writes it the way a modern .NET ServiceStack host does, with the
//! deliberate differences evogate documents in `docs/compatibility.md`.
//!
//! Three ways to use it, as with `serde_json`:
//!
//! * as text into typed values: [`from_str`], [`from_slice`], [`to_string`], [`to_vec`],
//!   [`to_writer`], [`to_string_pretty`];
//! * through the untyped [`Value`] tree ([`to_value`], [`from_value`]), which the gateway also
//!   builds from XML and CSV input;
//! * for query strings and forms, field by field: [`from_fields`] and [`FieldDeserializer`].
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! #[serde(rename_all = "camelCase")]
//! struct UsageRecord { account_sid: String, count: i64, price: f64, uri: Option<String> }
//!
//! let rec = UsageRecord { account_sid: "AC1".into(), count: 3, price: 0.25, uri: None };
//! let text = jsv::to_string(&rec).unwrap();
//! assert_eq!(text, "{accountSid:AC1,count:3,price:0.25}");
//! assert_eq!(jsv::from_str::<UsageRecord>(&text).unwrap(), rec);
//! ```
//!
//! .NET value types with their own text forms (GUIDs, `TimeSpan`, `DateTime`,
//! `DateTimeOffset`) are in [`types`], and `#[serde(with = "jsv::duration")]` writes a
//! `std::time::Duration` as an XSD duration.
//!
//! # What the reader accepts
//!
//! ServiceStack's reading rules (jsv.md §4) with the corrections of §11 and evogate's
//! decisions 9 and 13: keys are trimmed, unquoted and matched case-insensitively; unknown keys
//! are skipped; list brackets are optional at the root; whitespace around the root and before
//! nested `{`/`[` is accepted; any other trailing text, a trailing comma in a map, an empty
//! token for a non-optional number, or a number that overflows is an error carrying line,
//! column, field path and the offending token. Text whose root `{`/`[` is followed by a line
//! break is read as the pretty form written by [`to_string_pretty`].
//!
//! # Limitations
//!
//! * JSV is not self-describing. Through `deserialize_any` (untagged enums,
//!   `#[serde(flatten)]`, `serde_json::Value`) every scalar is a string, so such types see
//!   `"1"`, not `1`.
//! * A list whose only item is `None` is written `[]` and reads back as an empty list: JSV has
//!   no spelling for it.
//! * `__type` members are neither written nor interpreted (they are skipped like any unknown
//!   key).

#![forbid(unsafe_code)]

mod de;
mod error;
mod fields;
mod parse;
mod ser;
pub mod types;
mod value;

pub use de::{Deserializer, from_slice, from_str};
pub use error::{Category, Error, Result};
pub use fields::{FieldDeserializer, from_fields, to_query_string};
pub use ser::{
    Compound, Serializer, append_to_vec, to_string, to_string_pretty, to_vec, to_writer,
};
pub use types::duration;
pub use value::{Value, from_value, to_value};
