//! The benchmark payload: ten usage-record-shaped records (about 730 bytes of JSON), served both
//! by bare actix handlers and by gateway operations, built afresh for every request.

use actix_web::HttpResponse;
use gateway::{ApiError, Registry, RequestContext, dto};

/// The four leaf categories, cycled through by the records.
const CATEGORIES: [&str; 4] = [
    "calls-inbound-local",
    "calls-inbound-tollfree",
    "calls-outbound",
    "calls-client",
];

/// The number of records in one response.
pub const RECORDS: usize = 10;

/// A usage record, trimmed so that ten of them make about 730 bytes of JSON.
#[dto(namespace = "Bench")]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BenchRecord {
    /// The usage category
    pub category: String,
    /// The number of usage events (calls)
    pub count: i64,
    /// The amount of usage
    pub usage: String,
    /// The total price of the usage
    pub price: f64,
}

/// Returns ten usage records (the unauthenticated benchmark operation)
#[dto(
    namespace = "Bench",
    route("/bench/records", "GET"),
    verb = "GET",
    response = Vec<BenchRecord>,
    implicit_response
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BenchRecords {}

/// Returns ten usage records to any authenticated caller (the auth benchmark operation)
#[dto(
    namespace = "Bench",
    route("/bench/records-auth", "GET"),
    verb = "GET",
    response = Vec<BenchRecord>,
    implicit_response,
    authenticate
)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BenchRecordsAuth {}

/// Builds the payload, allocating its strings as a real service would.
pub fn records() -> Vec<BenchRecord> {
    (0..RECORDS)
        .map(|i| {
            let n = i64::try_from(i).unwrap_or(0);
            BenchRecord {
                category: CATEGORIES[i % CATEGORIES.len()].to_string(),
                count: 1000 + n * 37,
                usage: (2000 + n * 53).to_string(),
                price: 12.5 + f64::from(u8::try_from(i).unwrap_or(0)) * 0.25,
            }
        })
        .collect()
}

/// Adds `BenchRecords` and `BenchRecordsAuth` to `registry`.
pub fn register(registry: &mut Registry) {
    registry.add(|_req: BenchRecords, _ctx: RequestContext| async { Ok::<_, ApiError>(records()) });
    registry.add(|_req: BenchRecordsAuth, ctx: RequestContext| {
        // The pipeline has already refused anonymous callers; this is the service's own check.
        let ok = ctx.require_session().map(|_| ());
        async move { ok.map(|()| records()) }
    });
}

/// `GET /bare/json`: the baseline, `HttpResponse::Ok().json(..)` without the gateway.
pub async fn bare_json() -> HttpResponse {
    HttpResponse::Ok().json(records())
}

/// `GET /bare/jsv`: the same data written with `jsv::to_string`, as `text/jsv`.
pub async fn bare_jsv() -> HttpResponse {
    match jsv::to_string(&records()) {
        Ok(body) => HttpResponse::Ok()
            .content_type("text/jsv; charset=utf-8")
            .body(body),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_payload_is_about_730_bytes_of_json_and_smaller_in_jsv() {
        let json = serde_json::to_string(&records()).unwrap();
        assert!((650..=800).contains(&json.len()), "{} bytes", json.len());
        let text = jsv::to_string(&records()).unwrap();
        assert!(text.len() < json.len());
        assert!(json.contains(r#""category":"calls-inbound-local""#));
    }
}
