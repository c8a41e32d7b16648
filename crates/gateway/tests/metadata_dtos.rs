//! The two seed operations of Evo Voice, declared as the billing crate declares them, and the
//! helpers the metadata tests share (included with `#[path]` by the `metadata_*` tests).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use gateway::metadata::{MetadataRequest, MetadataResponse, SiteInfo, handle};
use gateway::{ApiError, Registry, RequestContext, dto};

/// Report/create a new billable
#[dto(
    namespace = "Voice.Api.Billing",
    route("/billables", "POST"),
    verb = "POST",
    authenticate
)]
#[derive(Debug, Clone, Default)]
pub struct NewBillable {
    /// The account to associate the billable with
    pub account_id: Option<String>,
    /// The customer to associate the billable with
    pub customer_id: Option<String>,
    /// The session ID to associate the billable with. You must specify either this or (AccountId + CustomerID)
    pub session_id: Option<String>,
    /// The call SID to report
    pub call_sid: Option<String>,
}

/// Gets all usage records for specified date range
#[dto(
    namespace = "Voice.Api.Dashboard",
    route("/billing/usage", "GET"),
    verb = "GET",
    response = Vec<UsageRecordInfo>,
    implicit_response,
    authenticate,
    roles_any("SystemAdministrator", "Manager"),
)]
#[derive(Debug, Clone, Default)]
pub struct ListUsageRecords {
    /// The account ID you are listing for
    pub account_id: Option<String>,
    /// The start date to retrieve usage records for (YYYY-MM-DD)
    pub start_date: Option<String>,
    /// The end date to retrieve usage records for (YYYY-MM-DD)
    pub end_date: Option<String>,
}

/// One usage record of an account
#[dto(namespace = "Voice.Api.Dashboard")]
#[derive(Debug, Clone, Default)]
pub struct UsageRecordInfo {
    /// The Twilio account the usage belongs to
    pub account_sid: String,
    /// The usage category
    pub category: String,
    /// How many usage events
    pub count: i64,
    /// The unit of count
    pub count_unit: String,
    /// The category's description
    pub description: String,
    /// The last day included
    pub end_date: String,
    /// The total price
    pub price: rust_decimal::Decimal,
    /// The currency of price
    pub price_unit: String,
    /// The first day included
    pub start_date: String,
    /// The amount billed
    pub usage: String,
    /// The unit of usage
    pub usage_unit: String,
    /// The record's URI
    pub uri: String,
}

/// A nested type, to exercise lists, maps and nesting in the generators.
#[dto(namespace = "Test.Extras")]
#[derive(Debug, Clone, Default)]
pub struct Extra {
    /// A count
    #[dto(required)]
    pub total: i32,
    /// A flag
    pub enabled: bool,
    /// Labels
    pub labels: Vec<String>,
    /// Values by key
    pub values: std::collections::HashMap<String, f64>,
    /// A nested record
    pub record: Option<UsageRecordInfo>,
}

/// Updates an extra "thing", line one.
/// Line two.
#[dto(namespace = "Test.Extras", route("/extras/{id}", "PUT,PATCH"), route("/extras"), response = Extra, tag("ops"))]
#[derive(Debug, Clone, Default)]
pub struct UpdateExtra {
    /// The id
    pub id: i64,
    /// The payload
    pub extra: Option<Extra>,
    /// Many
    pub extras: Vec<Extra>,
}

/// The registry of the seed operations.
pub fn seed_registry() -> Registry {
    let mut r = Registry::new();
    r.add(|_req: NewBillable, _ctx: RequestContext| async move { Ok::<(), ApiError>(()) });
    r.add(|_req: ListUsageRecords, _ctx: RequestContext| async move {
        Ok::<Vec<UsageRecordInfo>, ApiError>(vec![])
    });
    r
}

/// The seed operations plus one exercising more types.
pub fn full_registry() -> Registry {
    let mut r = seed_registry();
    r.add(|_req: UpdateExtra, _ctx: RequestContext| async move {
        Ok::<Extra, ApiError>(Extra::default())
    });
    r
}

/// Evo Voice's site.
pub fn site() -> SiteInfo {
    SiteInfo {
        service_name: "Evo Voice".into(),
        base_url: None,
        version: "8.52".into(),
    }
}

/// Calls the metadata handler as the router would for `GET {path}?{query}` to `evovoice.io`.
pub fn get_with(registry: &Registry, path: &str, query: &str) -> Option<MetadataResponse> {
    let req = MetadataRequest {
        path,
        query,
        origin: "https://evovoice.io",
        host: "evovoice.io",
    };
    handle(&req, registry, &site())
}

/// As [`get_with`] with the seed registry, expecting a response.
pub fn get(path: &str, query: &str) -> MetadataResponse {
    get_with(&seed_registry(), path, query).unwrap_or_else(|| panic!("{path}?{query} not handled"))
}

/// Decodes the HTML entities the pages use.
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let ent = &tail[1..e];
            let c = match ent {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ if ent.starts_with("#x") => u32::from_str_radix(&ent[2..], 16)
                    .ok()
                    .and_then(char::from_u32),
                _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &tail[e + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

const BLOCKS: &[&str] = &[
    "html", "body", "h1", "h2", "h3", "h4", "h5", "h6", "p", "div", "table", "caption", "thead",
    "tbody", "tr", "pre", "nav", "ul", "ol", "li", "br", "section", "header", "footer", "hr",
];

/// The visible text of a page, as a browser's "select all, copy" gives it: the head, styles
/// and scripts dropped, block elements on their own lines, table cells of a row run together,
/// whitespace collapsed outside `<pre>`, entities decoded. Returned as trimmed non-empty lines
/// with runs of whitespace collapsed to one space.
pub fn visible_lines(html: &str) -> Vec<String> {
    let mut text = String::new();
    let mut in_pre = false;
    let mut skip: Option<String> = None;
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(stripped) = rest.strip_prefix('<') {
            let end = stripped.find('>').expect("unclosed tag");
            let tag = &stripped[..end];
            rest = &stripped[end + 1..];
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            if let Some(s) = &skip {
                if closing && *s == name {
                    skip = None;
                }
                continue;
            }
            if !closing && matches!(name.as_str(), "head" | "style" | "script") {
                skip = Some(name);
                continue;
            }
            if name == "pre" {
                in_pre = !closing;
            }
            if BLOCKS.contains(&name.as_str()) {
                text.push('\n');
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let chunk = &rest[..end];
            rest = &rest[end..];
            if skip.is_some() {
                continue;
            }
            let decoded = decode_entities(chunk);
            if in_pre {
                text.push_str(&decoded);
            } else {
                text.push_str(&decoded.replace(['\n', '\r', '\t'], " "));
            }
        }
    }
    text.lines()
        .map(normalise)
        .filter(|l| !l.is_empty())
        .collect()
}

/// A line trimmed, with each run of whitespace made one space.
pub fn normalise(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a seed page from `fixtures/seeds`.
pub fn seed(name: &str) -> String {
    let path = format!("{}/../../fixtures/seeds/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The seed whose page is for operation `op`.
pub fn seed_for(op: &str) -> String {
    let dir = format!("{}/../../fixtures/seeds", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for n in names {
        let text = seed(&n);
        if text.lines().map(str::trim).any(|l| l == op) {
            return text;
        }
    }
    panic!("no seed page for {op}");
}

/// The text of the seed from the line equal to `first` through the first later line equal to
/// `last`, exactly as written.
pub fn seed_block(text: &str, first: &str, last: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == first)
        .unwrap_or_else(|| panic!("no line {first:?}"));
    let end = start
        + lines[start..]
            .iter()
            .position(|l| *l == last)
            .unwrap_or_else(|| panic!("no line {last:?}"));
    lines[start..=end].join("\n")
}
