//! Serde helpers used by the code `#[dto]` generates.

use serde::{Deserialize, Deserializer};

/// Reads an explicit `null` as the type's default.
///
/// Dart clients send every unset member as `null`, and ServiceStack leaves such members at their
/// default, so a `Vec` or a number must accept `null` as well as a value.
///
/// # Errors
/// Whatever the inner type's deserializer reports for a value that is not `null`.
pub fn null_as_default<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(de)?.unwrap_or_default())
}
