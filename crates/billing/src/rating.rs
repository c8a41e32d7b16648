//! Categories and the rating formula (domain.md 4.4 and 4.5).

use rust_decimal::Decimal;

use crate::money::Money;

/// Calls from or to a Twilio Client.
pub const CALLS_CLIENT: &str = "calls-client";
/// Inbound calls to a NANP toll-free number.
pub const CALLS_INBOUND_TOLLFREE: &str = "calls-inbound-tollfree";
/// Other inbound calls.
pub const CALLS_INBOUND_LOCAL: &str = "calls-inbound-local";
/// Outbound calls.
pub const CALLS_OUTBOUND: &str = "calls-outbound";
/// Roll-up: inbound local + toll-free.
pub const CALLS_INBOUND: &str = "calls-inbound";
/// Roll-up: inbound + outbound (client minutes apart, as Twilio does).
pub const CALLS: &str = "calls";
/// Roll-up: every leaf's price.
pub const TOTAL_PRICE: &str = "totalprice";

/// The categories a billable can have.
pub const LEAF_CATEGORIES: [&str; 4] = [
    CALLS_INBOUND_LOCAL,
    CALLS_INBOUND_TOLLFREE,
    CALLS_OUTBOUND,
    CALLS_CLIENT,
];

/// Categories computed from the leaves.
pub const ROLLUP_CATEGORIES: [&str; 3] = [CALLS, CALLS_INBOUND, TOTAL_PRICE];

/// The order usage records are answered in.
pub const CANONICAL_ORDER: [&str; 7] = [
    CALLS,
    CALLS_INBOUND,
    CALLS_INBOUND_LOCAL,
    CALLS_INBOUND_TOLLFREE,
    CALLS_OUTBOUND,
    CALLS_CLIENT,
    TOTAL_PRICE,
];

/// Twilio call directions evogate accepts.
pub const DIRECTIONS: [&str; 5] = [
    "inbound",
    "outbound-api",
    "outbound-dial",
    "trunking-originating",
    "trunking-terminating",
];

/// Twilio call statuses evogate accepts.
pub const STATUSES: [&str; 8] = [
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
];

/// Statuses of calls that ended without being connected: stored, never charged.
pub const UNBILLED_STATUSES: [&str; 4] = ["busy", "failed", "no-answer", "canceled"];

/// Statuses of calls still going on, which cannot be billed yet.
pub const UNFINISHED_STATUSES: [&str; 3] = ["queued", "ringing", "in-progress"];

/// The description of a category.
pub fn description(category: &str) -> &'static str {
    match category {
        CALLS => "Total Calls",
        CALLS_INBOUND => "Inbound Voice Minutes",
        CALLS_INBOUND_LOCAL => "Inbound Local Voice Minutes",
        CALLS_INBOUND_TOLLFREE => "Inbound Toll-Free Voice Minutes",
        CALLS_OUTBOUND => "Outbound Voice Minutes",
        CALLS_CLIENT => "Client Voice Minutes",
        TOTAL_PRICE => "Total Price",
        _ => "",
    }
}

/// Whether `to` is a NANP toll-free number (+1 800, 833, 844, 855, 866, 877, 888).
pub fn is_toll_free(to: &str) -> bool {
    let Some(rest) = to.trim().strip_prefix("+1") else {
        return false;
    };
    ["800", "833", "844", "855", "866", "877", "888"]
        .iter()
        .any(|p| rest.starts_with(p))
}

/// The leaf category of a call, or `None` for an unknown direction.
pub fn classify(from: &str, to: &str, direction: &str) -> Option<&'static str> {
    if from.starts_with("client:") || to.starts_with("client:") {
        return Some(CALLS_CLIENT);
    }
    match direction {
        "inbound" | "trunking-originating" if is_toll_free(to) => Some(CALLS_INBOUND_TOLLFREE),
        "inbound" | "trunking-originating" => Some(CALLS_INBOUND_LOCAL),
        "outbound-api" | "outbound-dial" | "trunking-terminating" => Some(CALLS_OUTBOUND),
        _ => None,
    }
}

/// Minutes charged for a completed call of `seconds`: each call rounds up to whole minutes, and a
/// connected call costs at least one.
pub fn billed_minutes(seconds: i64) -> i64 {
    let s = seconds.max(0);
    ((s + 59) / 60).max(1)
}

/// `minutes × unit_price`, rounded half-up to 5 decimal places.
pub fn price(minutes: i64, unit_price: Money) -> Money {
    Money(Decimal::from(minutes) * unit_price.value()).round_half_up(5)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn classifies_like_domain_4_4() {
        assert_eq!(
            classify("+15550001", "+15550002", "inbound"),
            Some(CALLS_INBOUND_LOCAL)
        );
        assert_eq!(
            classify("+15550001", "+18005550002", "inbound"),
            Some(CALLS_INBOUND_TOLLFREE)
        );
        assert_eq!(
            classify("+15550001", "+18885550002", "trunking-originating"),
            Some(CALLS_INBOUND_TOLLFREE)
        );
        assert_eq!(
            classify("+15550001", "+18015550002", "inbound"),
            Some(CALLS_INBOUND_LOCAL)
        );
        assert_eq!(
            classify("+15550001", "+18005550002", "outbound-api"),
            Some(CALLS_OUTBOUND)
        );
        assert_eq!(
            classify("client:bob", "+18005550002", "inbound"),
            Some(CALLS_CLIENT)
        );
        assert_eq!(
            classify("+1", "client:amy", "outbound-dial"),
            Some(CALLS_CLIENT)
        );
        assert_eq!(classify("+1", "+2", "sideways"), None);
    }

    #[test]
    fn rounds_minutes_up_and_prices_half_up() {
        assert_eq!(billed_minutes(0), 1);
        assert_eq!(billed_minutes(1), 1);
        assert_eq!(billed_minutes(60), 1);
        assert_eq!(billed_minutes(61), 2);
        assert_eq!(billed_minutes(130), 3);
        let unit: Money = "0.000005".parse().unwrap();
        assert_eq!(price(1, unit).to_plain_string(), "0.00001");
        let unit: Money = "0.000004".parse().unwrap();
        assert_eq!(price(1, unit).to_plain_string(), "0");
        let unit: Money = "0.0085".parse().unwrap();
        assert_eq!(price(2, unit).to_plain_string(), "0.017");
    }
}
