//! An exact amount of money that travels as a JSON number.

use std::fmt;
use std::str::FromStr;

use gateway::meta::{DtoType, Primitive, TypeRef};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Micro-units per currency unit: the store keeps money as integers of 1e-6.
const MICROS_SCALE: u32 = 6;

/// An exact decimal amount.
///
/// All arithmetic uses [`Decimal`]; the value becomes an `f64` only when it is written, because
/// Evo Voice types money as a JSON number. Reading accepts a number or a numeric string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub Decimal);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// The decimal value.
    pub fn value(self) -> Decimal {
        self.0
    }

    /// From integer micro-units (1e-6), the store's representation.
    pub fn from_micros(micros: i64) -> Money {
        Money(Decimal::new(micros, MICROS_SCALE).normalize())
    }

    /// To integer micro-units, or `None` when the amount has more than 6 decimals or does not
    /// fit an `i64`.
    pub fn to_micros(self) -> Option<i64> {
        let n = self.0.normalize();
        if n.scale() > MICROS_SCALE {
            return None;
        }
        (n * Decimal::from(1_000_000)).to_i64()
    }

    /// Rounds half away from zero ("half-up" for the non-negative prices billing uses).
    pub fn round_half_up(self, places: u32) -> Money {
        Money(
            self.0
                .round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)
                .normalize(),
        )
    }

    /// The amount as a decimal string without trailing zeros (`"0.096"`, `"6"`).
    pub fn to_plain_string(self) -> String {
        self.0.normalize().to_string()
    }
}

impl From<Decimal> for Money {
    fn from(d: Decimal) -> Self {
        Money(d)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let n = self.0.normalize();
        // Whole amounts go out as integers so JSON shows `0`, as the seed sample does, not `0.0`.
        if n.scale() == 0
            && let Some(i) = n.to_i64()
        {
            return serializer.serialize_i64(i);
        }
        match n.to_f64() {
            Some(f) => serializer.serialize_f64(f),
            None => Err(serde::ser::Error::custom("amount out of range")),
        }
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MoneyVisitor)
    }
}

struct MoneyVisitor;

impl Visitor<'_> for MoneyVisitor {
    type Value = Money;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number or a numeric string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
        Ok(Money(Decimal::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
        Ok(Money(Decimal::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
        // The shortest round-trip text of the double is what the client wrote (0.0085 stays
        // 0.0085), so going through it keeps the amount exact.
        if !v.is_finite() {
            return Err(E::custom("not a finite number"));
        }
        parse_decimal(&v.to_string()).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
        parse_decimal(v).map_err(E::custom)
    }
}

fn parse_decimal(s: &str) -> Result<Money, String> {
    let t = s.trim();
    Decimal::from_str_exact(t)
        .or_else(|_| Decimal::from_scientific(t))
        .or_else(|_| Decimal::from_str(t))
        .map(|d| Money(d.normalize()))
        .map_err(|_| format!("'{s}' is not a decimal number"))
}

impl FromStr for Money {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_decimal(s)
    }
}

impl DtoType for Money {
    fn type_ref() -> TypeRef {
        TypeRef::Primitive(Primitive::Decimal)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trips_as_json_number() {
        let m: Money = "0.096".parse().unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "0.096");
        assert_eq!(serde_json::to_string(&Money::ZERO).unwrap(), "0");
        let back: Money = serde_json::from_str("0.0085").unwrap();
        assert_eq!(back.to_micros(), Some(8500));
        let s: Money = serde_json::from_str("\"0.013\"").unwrap();
        assert_eq!(s.to_micros(), Some(13000));
        assert_eq!(Money::from_micros(96000).to_plain_string(), "0.096");
        assert_eq!("0.0000001".parse::<Money>().unwrap().to_micros(), None);
        let r = Money("0.000125".parse().unwrap()).round_half_up(5);
        assert_eq!(r.to_plain_string(), "0.00013");
    }
}
