//! Request binding through the public `bind` API: which body is read, how sources merge, how
//! keys and values are matched and parsed, and what a bad request answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

use std::borrow::Cow;

use gateway::bind::{BindInput, Limits, Pair, RouteKind, bind, bind_batch};
use gateway::format::{Formats, ReadContext, WriteContext};
use gateway::meta::{Dto, Operation, TypeMap};
use gateway::{ApiError, dto};
use jsv::Value;

/// A nested filter
#[dto(namespace = "Test.Dtos")]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// A name
    pub name: Option<String>,
    /// An age
    pub age: i32,
    /// Deeper
    pub inner: Option<Inner>,
}

/// Deeper still
#[dto(namespace = "Test.Dtos")]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inner {
    /// A flag
    pub on: bool,
}

/// Creates a thing
#[dto(
    namespace = "Test.Dtos",
    route("/things/{accountId}", "POST,PUT,GET"),
    verb = "POST"
)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewThing {
    /// The account
    pub account_id: Option<String>,
    /// The customer
    pub customer_id: Option<String>,
    /// The call
    pub call_sid: Option<String>,
    /// How many
    pub count: i64,
    /// An optional number
    pub total: Option<i32>,
    /// A price
    pub price: f64,
    /// A flag
    pub enabled: bool,
    /// Some ids
    pub ids: Vec<i32>,
    /// Some tags
    pub tags: Vec<String>,
    /// A filter
    pub filter: Option<Filter>,
    /// Notes
    pub notes: String,
    /// A date, as the client wrote it
    pub when: Option<String>,
}

/// A recursive request, to reach every nesting limit.
#[dto(namespace = "Test.Dtos", operation)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Nest {
    /// The child node
    pub child: Option<Box<Nest>>,
    /// Anything at all
    pub meta: Option<serde_json::Value>,
}

/// A check of what a request bound.
type Check = fn(&NewThing) -> bool;

fn thing() -> NewThing {
    NewThing::default()
}

/// One request, as the pipeline would hand it over.
#[derive(Clone)]
struct Req {
    kind: RouteKind,
    method: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    route_format: Option<&'static str>,
    path: Vec<(String, String)>,
    query: Vec<Pair<'static>>,
    limits: Limits,
}

/// Decodes a query string the way the pipeline does (`+` is a space, a bare key has an empty
/// value).
fn qs(s: &str) -> Vec<Pair<'static>> {
    let dec = |x: &str| {
        let x = x.replace('+', " ");
        Cow::Owned(
            percent_encoding::percent_decode_str(&x)
                .decode_utf8_lossy()
                .into_owned(),
        )
    };
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (dec(k), dec(v))
        })
        .collect()
}

/// `POST /api/{Op}` with a JSON body.
fn api(body: &str) -> Req {
    Req {
        kind: RouteKind::Generic,
        method: "POST",
        content_type: Some("application/json"),
        body: body.as_bytes().to_vec(),
        route_format: Some("json"),
        path: Vec::new(),
        query: Vec::new(),
        limits: Limits::default(),
    }
}

/// `POST /things/...` with a body of this content type.
fn rest(content_type: Option<&'static str>, body: &str) -> Req {
    Req {
        kind: RouteKind::Rest,
        content_type,
        route_format: None,
        ..api(body)
    }
}

/// `GET` with a query string only.
fn get(kind: RouteKind, query: &str) -> Req {
    Req {
        kind,
        method: "GET",
        content_type: None,
        body: Vec::new(),
        query: qs(query),
        ..api("")
    }
}

impl Req {
    fn query(mut self, q: &str) -> Self {
        self.query = qs(q);
        self
    }
    fn path(mut self, k: &str, v: &str) -> Self {
        self.path.push((k.to_string(), v.to_string()));
        self
    }
    fn ct(mut self, ct: Option<&'static str>) -> Self {
        self.content_type = ct;
        self
    }
    fn method(mut self, m: &'static str) -> Self {
        self.method = m;
        self
    }
    fn route_format(mut self, f: &'static str) -> Self {
        self.route_format = Some(f);
        self
    }
    fn bytes(mut self, b: Vec<u8>) -> Self {
        self.body = b;
        self
    }

    fn with<R>(
        &self,
        f: impl FnOnce(&BindInput<'_>) -> R,
        root: &'static gateway::meta::TypeInfo,
    ) -> R {
        let mut types = TypeMap::new();
        types.add(root);
        let formats = Formats::standard();
        let input = BindInput {
            kind: self.kind,
            method: self.method,
            content_type: self.content_type,
            body: &self.body,
            route_format: self.route_format,
            path_vars: &self.path,
            query: &self.query,
            limits: self.limits,
            types: &types,
            formats: &formats,
        };
        f(&input)
    }

    fn bind<T: Operation>(&self) -> Result<T, ApiError> {
        self.with(bind::<T>, T::type_info())
    }

    fn ok(&self) -> NewThing {
        match self.bind::<NewThing>() {
            Ok(t) => t,
            Err(e) => panic!("expected a bound request, got {e} {:?}", e.errors()),
        }
    }

    fn err(&self) -> ApiError {
        match self.bind::<NewThing>() {
            Ok(t) => panic!("expected an error, got {t:?}"),
            Err(e) => e,
        }
    }

    fn batch(&self) -> Result<Vec<NewThing>, ApiError> {
        self.with(bind_batch::<NewThing>, NewThing::type_info())
    }
}

/// Asserts the ServiceStack type-error shape.
fn assert_type_error(e: &ApiError, field_name: &str, message: &str) {
    assert_eq!(e.status(), 400, "{e}");
    assert_eq!(e.error_code(), "SerializationException", "{e}");
    assert_eq!(e.message(), "Unable to bind to request 'NewThing'");
    let f = e
        .errors()
        .first()
        .unwrap_or_else(|| panic!("no field error in {e}"));
    assert_eq!(f.error_code, "SerializationException");
    assert_eq!(f.field_name, field_name);
    assert_eq!(f.message, message);
}

// ---- JSON bodies -------------------------------------------------------------------------

#[test]
fn json_keys_match_in_any_case_and_trimmed() {
    for body in [
        r#"{"accountId":"A","customerId":"C","callSid":"CA1","count":2}"#,
        r#"{"AccountId":"A","CustomerId":"C","CallSid":"CA1","Count":2}"#,
        r#"{"accountid":"A","customerid":"C","callsid":"CA1","count":2}"#,
        r#"{" accountId ":"A","CUSTOMERID":"C","callSid ":"CA1"," count":2}"#,
        r#"{"accountId":"A","customerId":"C","callSid":"CA1","count":2,"foo":1,"bar":{"x":[1,2,{"y":null}]}}"#,
        r#"{"accountId":"A","customerId":"C","callSid":"CA1","count":2,"sessionId":null,"total":null,"ids":null,"filter":null,"notes":null}"#,
    ] {
        // An unknown query key forces the merged path: both must agree.
        for req in [
            api(body),
            rest(Some("application/json"), body),
            api(body).query("zzz=1"),
            rest(Some("application/json"), body).query("zzz=1"),
        ] {
            let t = req.ok();
            assert_eq!(
                t,
                NewThing {
                    account_id: Some("A".into()),
                    customer_id: Some("C".into()),
                    call_sid: Some("CA1".into()),
                    count: 2,
                    ..thing()
                },
                "{body}"
            );
        }
    }
}

#[test]
fn json_values_of_every_member_type() {
    let t = api(r#"{"count":"7","total":3,"price":1.25,"enabled":true,"ids":[1,2,3],"tags":["a","b,c"],
        "filter":{"Name":"x","AGE":4,"inner":{"on":true}},"notes":"n","when":"2024-01-01T00:00:00.000Z"}"#)
    .ok();
    assert_eq!(t.count, 7);
    assert_eq!(t.total, Some(3));
    assert_eq!(t.price, 1.25);
    assert!(t.enabled);
    assert_eq!(t.ids, vec![1, 2, 3]);
    assert_eq!(t.tags, vec!["a".to_string(), "b,c".to_string()]);
    assert_eq!(
        t.filter,
        Some(Filter {
            name: Some("x".into()),
            age: 4,
            inner: Some(Inner { on: true })
        })
    );
    assert_eq!(t.notes, "n");
    // Numbers for a string member are taken as text, as ServiceStack does.
    assert_eq!(
        api(r#"{"accountId":123,"notes":true}"#)
            .ok()
            .account_id
            .as_deref(),
        Some("123")
    );
}

#[test]
fn json_strings_for_lists_and_objects_are_read_as_jsv_on_both_paths() {
    let body = r#"{"ids":"1,2,3","tags":"[a,\"b,c\"]","filter":"{name:x,age:2}"}"#;
    for req in [api(body), api(body).query("zzz=1")] {
        let t = req.ok();
        assert_eq!(t.ids, vec![1, 2, 3]);
        assert_eq!(t.tags, vec!["a".to_string(), "b,c".to_string()]);
        assert_eq!(
            t.filter,
            Some(Filter {
                name: Some("x".into()),
                age: 2,
                inner: None
            })
        );
    }
    for req in [
        api(r#"{"ids":"1,x"}"#),
        api(r#"{"ids":"1,x"}"#).query("zzz=1"),
    ] {
        assert_type_error(&req.err(), "Ids", "'1,x' is an Invalid value for 'ids'");
    }
}

#[test]
fn json_dates_bind_as_given_in_all_client_shapes() {
    for date in [
        r#""2024-01-01T00:00:00.000Z""#,
        r#""2024-01-01T00:00:00+00:00""#,
        r#""2024-01-01T00:00:00""#,
        r#""/Date(1704067200000)/""#,
        r#""\/Date(1704067200000)\/""#,
        r#""\/Date(1704067200000-0000)\/""#,
        r#""\/Date(1704067200000+0100)\/""#,
    ] {
        let want: String = serde_json::from_str(date).unwrap();
        assert_eq!(
            api(&format!(r#"{{"when":{date}}}"#)).ok().when,
            Some(want.clone())
        );
        // Also through the merged path (a query value makes the body a tree).
        assert_eq!(
            api(&format!(r#"{{"when":{date}}}"#))
                .query("count=1")
                .ok()
                .when,
            Some(want)
        );
    }
}

#[test]
fn api_reads_json_whatever_the_content_type() {
    let body = r#"{"accountId":"A"}"#;
    for ct in [
        None,
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("text/plain;charset=UTF-8"),
        Some("text/plain"),
        Some("application/octet-stream"),
    ] {
        assert_eq!(
            api(body).ct(ct).ok().account_id.as_deref(),
            Some("A"),
            "{ct:?}"
        );
    }
    // REST falls back to JSON for a missing or unknown content type.
    for ct in [
        None,
        Some("text/plain"),
        Some("application/json"),
        Some("text/json"),
    ] {
        assert_eq!(
            rest(ct, body).ok().account_id.as_deref(),
            Some("A"),
            "{ct:?}"
        );
    }
}

#[test]
fn bodies_of_get_and_delete_are_ignored_and_empty_bodies_bind_nothing() {
    for m in ["GET", "DELETE", "HEAD", "OPTIONS"] {
        let t = api(r#"{"accountId":"A"}"#)
            .method(m)
            .query("customerId=C")
            .ok();
        assert_eq!(
            (t.account_id, t.customer_id.as_deref()),
            (None, Some("C")),
            "{m}"
        );
        // Not even a malformed one is looked at.
        assert!(
            rest(Some("application/json"), "{{{")
                .method(m)
                .bind::<NewThing>()
                .is_ok()
        );
    }
    for body in ["", "  \r\n", "\u{feff}"] {
        assert_eq!(api(body).ok(), thing());
        assert_eq!(rest(Some("application/json"), body).ok(), thing());
        assert_eq!(rest(Some("application/jsv"), body).ok(), thing());
    }
    // A byte-order mark before JSON is skipped.
    assert_eq!(api("\u{feff}{\"count\":1}").ok().count, 1);
}

#[test]
fn first_of_two_keys_naming_one_member_wins() {
    assert_eq!(
        api(r#"{"accountId":"A","AccountId":"B"}"#)
            .ok()
            .account_id
            .as_deref(),
        Some("A")
    );
    assert_eq!(
        api(r#"{"accountId":"A","AccountId":"B"}"#)
            .query("count=1")
            .ok()
            .account_id
            .as_deref(),
        Some("A")
    );
}

// ---- forms -------------------------------------------------------------------------------

#[test]
fn urlencoded_forms_on_rest_and_generic_routes() {
    let body = "accountId=A&customerId=C+D&ids=1%2C2&tags=x&tags=y&enabled=on&filter=%7Bname%3Ab%2Cage%3A3%7D&bare";
    for req in [
        rest(Some("application/x-www-form-urlencoded"), body),
        api(body).ct(Some("application/x-www-form-urlencoded; charset=utf-8")),
    ] {
        let t = req.ok();
        assert_eq!(t.account_id.as_deref(), Some("A"));
        assert_eq!(t.customer_id.as_deref(), Some("C D"));
        assert_eq!(t.ids, vec![1, 2]);
        assert_eq!(t.tags, vec!["x".to_string(), "y".to_string()]);
        assert!(t.enabled);
        assert_eq!(
            t.filter,
            Some(Filter {
                name: Some("b".into()),
                age: 3,
                inner: None
            })
        );
    }
    // On a generic route a form is not a body that wins: it overrides the query.
    let t = api("accountId=F")
        .ct(Some("application/x-www-form-urlencoded"))
        .query("accountId=Q&customerId=Q")
        .ok();
    assert_eq!(
        (t.account_id.as_deref(), t.customer_id.as_deref()),
        (Some("F"), Some("Q"))
    );
}

#[test]
fn multipart_forms() {
    let body = "--XyZ\r\nContent-Disposition: form-data; name=\"accountId\"\r\n\r\nA\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"calls.csv\"\r\nContent-Type: text/csv\r\n\r\naccountId\r\nNOPE\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"Ids\"\r\n\r\n[4,5]\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"notes\"\r\n\r\ntwo\r\nlines\r\n--XyZ--\r\n";
    let t = rest(Some("multipart/form-data; boundary=XyZ"), body).ok();
    assert_eq!(t.account_id.as_deref(), Some("A"));
    assert_eq!(t.ids, vec![4, 5]);
    assert_eq!(t.notes, "two\r\nlines");
    let e = rest(Some("multipart/form-data"), body).err();
    assert_eq!(
        (e.status(), e.error_code()),
        (400, "SerializationException")
    );
}

// ---- precedence --------------------------------------------------------------------------

#[test]
fn rest_precedence_is_body_then_path_then_query_then_form() {
    // Checklist 46: the query overrides the body on REST routes.
    let t = rest(Some("application/json"), r#"{"accountId":"A"}"#)
        .query("accountId=Q")
        .ok();
    assert_eq!(t.account_id.as_deref(), Some("Q"));
    // Path over body, query over path.
    let t = rest(
        Some("application/json"),
        r#"{"accountId":"A","customerId":"B","callSid":"S"}"#,
    )
    .path("accountId", "P")
    .path("CUSTOMERID", "P2")
    .query("customerId=Q")
    .ok();
    assert_eq!(t.account_id.as_deref(), Some("P"));
    assert_eq!(t.customer_id.as_deref(), Some("Q"));
    assert_eq!(t.call_sid.as_deref(), Some("S"));
    // Form over query over path.
    let t = rest(Some("application/x-www-form-urlencoded"), "accountId=F")
        .path("accountId", "P")
        .query("accountId=Q&customerId=Q")
        .ok();
    assert_eq!(
        (t.account_id.as_deref(), t.customer_id.as_deref()),
        (Some("F"), Some("Q"))
    );
    // A path variable alone, JSV-parsed for a number.
    let t = rest(None, "").path("count", "12").ok();
    assert_eq!(t.count, 12);
}

#[test]
fn generic_precedence_is_body_first_and_query_fills_gaps() {
    // Checklist 47: the body wins on predefined routes.
    let t = api(r#"{"accountId":"A","customerId":null}"#)
        .query("accountId=Q&customerId=Q2&callSid=Q3&count=5")
        .ok();
    assert_eq!(t.account_id.as_deref(), Some("A"));
    assert_eq!(t.customer_id.as_deref(), Some("Q2"));
    assert_eq!(t.call_sid.as_deref(), Some("Q3"));
    assert_eq!(t.count, 5);
    // Checklist 48: no Content-Type, still JSON.
    assert_eq!(
        api(r#"{"accountId":"A"}"#)
            .ct(None)
            .query("customerId=C")
            .ok()
            .customer_id
            .as_deref(),
        Some("C")
    );
}

// ---- query strings -----------------------------------------------------------------------

#[test]
fn query_values_are_jsv_for_non_strings() {
    let cases: &[(&str, Check)] = &[
        ("ids=1,2,3", |t| t.ids == [1, 2, 3]),
        ("ids=[1,2,3]", |t| t.ids == [1, 2, 3]),
        ("ids=%5B1,2,3%5D", |t| t.ids == [1, 2, 3]),
        ("ids=1%2C2%2C3", |t| t.ids == [1, 2, 3]),
        ("ids=1&ids=2", |t| t.ids == [1, 2]),
        ("ids=%5B%5D", |t| t.ids.is_empty()),
        ("tags=a,b", |t| t.tags == ["a", "b"]),
        ("tags=[a,\"b,c\"]", |t| t.tags == ["a", "b,c"]),
        ("tags=x", |t| t.tags == ["x"]),
        ("filter={name:x,age:1}", |t| {
            t.filter
                == Some(Filter {
                    name: Some("x".into()),
                    age: 1,
                    inner: None,
                })
        }),
        (
            "filter=%7BName%3Ax%2CAge%3A2%2Cinner%3A%7Bon%3Atrue%7D%7D",
            |t| {
                t.filter
                    == Some(Filter {
                        name: Some("x".into()),
                        age: 2,
                        inner: Some(Inner { on: true }),
                    })
            },
        ),
        ("enabled=true", |t| t.enabled),
        ("enabled=True", |t| t.enabled),
        ("enabled=on", |t| t.enabled),
        ("enabled=false", |t| !t.enabled),
        ("enabled=False", |t| !t.enabled),
        ("enabled=true&enabled=false", |t| t.enabled),
        ("count=42&total=-3&price=2.5", |t| {
            t.count == 42 && t.total == Some(-3) && t.price == 2.5
        }),
        ("count=", |t| t.count == 0),
        ("total", |t| t.total.is_none()),
        ("accountId", |t| t.account_id.is_none()),
        // Reserved keys never bind, even with a member of that name elsewhere.
        (
            "format=jsv&callback=cb&debug=1&_=123&v=2&s=x&f=y&WithoutOptions=true&count=1",
            |t| t.count == 1,
        ),
        // Keys in any case, trimmed.
        ("ACCOUNTID=A&%20count%20=3", |t| {
            t.account_id.as_deref() == Some("A") && t.count == 3
        }),
        ("unknown=1&accountId=A", |t| {
            t.account_id.as_deref() == Some("A")
        }),
    ];
    for (q, check) in cases {
        for kind in [RouteKind::Generic, RouteKind::Rest] {
            let t = get(kind, q).ok();
            assert!(check(&t), "{q} ({kind:?}) bound {t:?}");
        }
    }
}

#[test]
fn query_strings_take_string_members_verbatim() {
    let cases = [
        ("accountId=a%20b%26c", "a b&c"), // TS, C#, Dart
        ("accountId=a+b%26c", "a b&c"),   // Python quote_plus
        (
            "accountId=%22%22quoted%20content%22%22",
            "\"\"quoted content\"\"",
        ),
        ("accountId={a:1}", "{a:1}"),
        ("accountId=[1,2]", "[1,2]"),
        ("accountId=1,2", "1,2"),
        ("accountId=x&accountId=y", "x,y"),
    ];
    for (q, want) in cases {
        assert_eq!(
            get(RouteKind::Generic, q).ok().account_id.as_deref(),
            Some(want),
            "{q}"
        );
    }
}

#[test]
fn every_client_query_encoding_of_clients_md() {
    // clients.md §2.4, row by row: (client, query, check).
    let rows: &[(&str, &str, Check)] = &[
        ("ts list", "ids=1%2C2%2C3", |t| t.ids == [1, 2, 3]),
        ("py list", "ids=%5B1,2,3%5D", |t| t.ids == [1, 2, 3]),
        ("py empty list", "ids=%5B%5D", |t| t.ids.is_empty()),
        ("dart list", "ids=1,2,3", |t| t.ids == [1, 2, 3]),
        ("c# list", "ids=1%2C2%2C3", |t| t.ids == [1, 2, 3]),
        ("ts null", "total&count=1", |t| {
            t.total.is_none() && t.count == 1
        }),
        ("ts bool", "enabled=true", |t| t.enabled),
        ("py bool", "enabled=false", |t| !t.enabled),
        ("c# bool", "enabled=True", |t| t.enabled),
        ("dart map", "filter={name:x,age:5}", |t| {
            t.filter.as_ref().is_some_and(|f| f.age == 5)
        }),
        ("c# map", "filter=%7Bname%3Ax%2Cage%3A6%7D", |t| {
            t.filter.as_ref().is_some_and(|f| f.age == 6)
        }),
        ("ts date", "when=2026-11-23T08%3A49%3A38.135Z", |t| {
            t.when.as_deref() == Some("2026-11-23T08:49:38.135Z")
        }),
        ("py date", "when=/Date(1704067200000)/", |t| {
            t.when.as_deref() == Some("/Date(1704067200000)/")
        }),
        ("dart date", "when=%2FDate(1704067200000)%2F", |t| {
            t.when.as_deref() == Some("/Date(1704067200000)/")
        }),
        ("c# date", "when=2024-01-01", |t| {
            t.when.as_deref() == Some("2024-01-01")
        }),
        ("c# utc date", "when=2024-01-01T10%3A00%3A00Z", |t| {
            t.when.as_deref() == Some("2024-01-01T10:00:00Z")
        }),
        (
            "c# local date",
            "when=2024-01-01T10%3A00%3A00%2B01%3A00",
            |t| t.when.as_deref() == Some("2024-01-01T10:00:00+01:00"),
        ),
        ("duration", "notes=PT1H30M", |t| t.notes == "PT1H30M"),
        ("c# camelCase keys", "accountId=A&callSid=S", |t| {
            t.account_id.as_deref() == Some("A") && t.call_sid.as_deref() == Some("S")
        }),
        ("ts extra args", "format=jsv&accountId=A", |t| {
            t.account_id.as_deref() == Some("A")
        }),
    ];
    for (name, q, check) in rows {
        let t = get(RouteKind::Generic, q).ok();
        assert!(check(&t), "{name}: {q} bound {t:?}");
    }
}

// ---- errors ------------------------------------------------------------------------------

#[test]
fn type_errors_name_the_field_in_servicestack_words() {
    // Query, form, path: the whole raw value is quoted (checklist 56).
    assert_type_error(
        &get(RouteKind::Generic, "count=abc").err(),
        "Count",
        "'abc' is an Invalid value for 'count'",
    );
    assert_type_error(
        &get(RouteKind::Rest, "Count=abc").err(),
        "Count",
        "'abc' is an Invalid value for 'count'",
    );
    assert_type_error(
        &get(RouteKind::Generic, "ids=1,x").err(),
        "Ids",
        "'1,x' is an Invalid value for 'ids'",
    );
    assert_type_error(
        &get(RouteKind::Generic, "enabled=yes").err(),
        "Enabled",
        "'yes' is an Invalid value for 'enabled'",
    );
    assert_type_error(
        &get(RouteKind::Generic, "total=1.5").err(),
        "Total",
        "'1.5' is an Invalid value for 'total'",
    );
    assert_type_error(
        &rest(Some("application/x-www-form-urlencoded"), "price=cheap").err(),
        "Price",
        "'cheap' is an Invalid value for 'price'",
    );
    assert_type_error(
        &rest(None, "").path("count", "x1").err(),
        "Count",
        "'x1' is an Invalid value for 'count'",
    );
    // JSON bodies, fast and merged.
    for req in [
        api(r#"{"count":"abc"}"#),
        api(r#"{"count":"abc"}"#).query("accountId=A"),
    ] {
        assert_type_error(&req.err(), "Count", "'abc' is an Invalid value for 'count'");
    }
    assert_type_error(
        &api(r#"{"Total":true}"#).err(),
        "Total",
        "'true' is an Invalid value for 'total'",
    );
    assert_type_error(
        &api(r#"{"enabled":"maybe"}"#).err(),
        "Enabled",
        "'maybe' is an Invalid value for 'enabled'",
    );
    assert_type_error(
        &api(r#"{"total":99999999999}"#).err(),
        "Total",
        "'99999999999' is an Invalid value for 'total'",
    );
    assert_type_error(
        &api(r#"{"ids":[1,"x",3]}"#).err(),
        "Ids",
        "'x' is an Invalid value for 'ids[1]'",
    );
    assert_type_error(
        &api(r#"{"filter":{"age":"old"}}"#).err(),
        "Filter",
        "'old' is an Invalid value for 'filter.age'",
    );
    // Long values are cut in the message.
    let long = "x".repeat(5000);
    let e = get(RouteKind::Generic, &format!("count={long}")).err();
    assert_eq!(
        e.errors()[0].message,
        format!("'{}...' is an Invalid value for 'count'", "x".repeat(100))
    );
    // A value of the wrong shape still names the member.
    let e = api(r#"{"accountId":{"a":1}}"#).err();
    assert_eq!(e.errors()[0].field_name, "AccountId");
    let e = api(r#"{"count":[1]}"#).err();
    assert_eq!(e.errors()[0].field_name, "Count");
}

#[test]
fn malformed_bodies_are_400_with_line_and_column() {
    let cases: &[(Req, &str)] = &[
        (
            api("{\"accountId\":\"A\",\n  \"count\": }"),
            "line 2 column",
        ),
        (api("{\"accountId\":"), "line 1 column"),
        (api("{\"accountId\":\"A\"} trailing"), "line 1 column"),
        (api("[1,2").query("count=1"), "line 1 column"),
        (rest(Some("application/json"), "{'a':1}"), "line 1 column 2"),
        (
            rest(Some("application/jsv"), "{accountId:A,\n ids:[1,2}"),
            "line 2 column",
        ),
        (
            rest(Some("text/jsv"), "{accountId:A} junk"),
            "line 1 column",
        ),
    ];
    for (req, want) in cases {
        let e = req.err();
        assert_eq!(
            (e.status(), e.error_code()),
            (400, "SerializationException"),
            "{e}"
        );
        assert!(
            e.message().contains(want),
            "{:?} should mention {want}: {}",
            String::from_utf8_lossy(&req.body),
            e.message()
        );
    }
    // Not an object at the root.
    for body in ["[1,2]", "5", "\"x\"", "true"] {
        let e = api(body).err();
        assert_eq!(
            (e.status(), e.error_code()),
            (400, "SerializationException"),
            "{body}: {e}"
        );
    }
}

#[test]
fn depth_bombs_are_400_not_stack_overflows() {
    let deep_list = "[".repeat(10_000);
    let deep_obj = "{\"filter\":".repeat(10_000);
    let deep_value = format!("{{\"ids\":{}}}", "[".repeat(10_000));
    let deep_unknown = format!(
        "{{\"x\":{}1{}, \"count\":1}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    for body in [&deep_list, &deep_obj, &deep_value] {
        for req in [
            api(body),
            api(body).query("count=1"),
            rest(Some("application/jsv"), body),
            rest(Some("application/xml"), body),
        ] {
            let e = req.err();
            assert_eq!(e.status(), 400, "{}", e);
        }
    }
    // Deeply nested junk under an unknown key is skipped without recursion on the fast path.
    assert_eq!(api(&deep_unknown).ok().count, 1);
    // A limit tighter than the parsers' own.
    let mut req = api(r#"{"filter":{"inner":{"on":true}}}"#);
    req.limits.max_depth = 2;
    let e = req.err();
    assert_eq!(e.status(), 400);
    assert!(e.message().contains("deeper than 2"), "{e}");
    let mut req = api(r#"{"filter":{"inner":{"on":true}}}"#).query("count=1");
    req.limits.max_depth = 2;
    assert!(req.err().message().contains("deeper than 2"));
}

#[test]
fn collection_limits() {
    let body = format!("{{\"ids\":[{}]}}", ["1"; 11].join(","));
    for req in [
        api(&body),
        api(&body).query("count=1"),
        rest(Some("application/jsv"), &body),
    ] {
        let mut req = req;
        req.limits.max_items = 10;
        let e = req.err();
        assert_eq!(e.status(), 400);
        assert!(e.message().contains("more than 10 items"), "{e}");
    }
    let mut ok = api(&format!("{{\"ids\":[{}]}}", ["1"; 10].join(",")));
    ok.limits.max_items = 10;
    assert_eq!(ok.ok().ids.len(), 10);
}

// ---- other formats -----------------------------------------------------------------------

#[test]
fn jsv_bodies() {
    let body = "{AccountId:A, customerId:\"C, D\",ids:[1,2],enabled:True,filter:{name:n,age:3},notes:\"x\"\"y\"}";
    for req in [
        rest(Some("application/jsv"), body),
        rest(Some("text/jsv; charset=utf-8"), body),
        api(body).route_format("jsv").ct(None),
        api(body).route_format("jsv").ct(Some("text/plain")),
    ] {
        let t = req.ok();
        assert_eq!(t.account_id.as_deref(), Some("A"));
        assert_eq!(t.customer_id.as_deref(), Some("C, D"));
        assert_eq!(t.ids, vec![1, 2]);
        assert!(t.enabled);
        assert_eq!(t.filter.map(|f| f.age), Some(3));
        assert_eq!(t.notes, "x\"y");
    }
    // A JSON content type on /jsv/reply reads JSON.
    assert_eq!(api(r#"{"count":3}"#).route_format("jsv").ok().count, 3);
    // REST JSV body with a query on top.
    assert_eq!(
        rest(Some("application/jsv"), "{count:1}")
            .query("count=2")
            .ok()
            .count,
        2
    );
}

#[test]
fn xml_bodies() {
    let body = r#"<?xml version="1.0" encoding="utf-8"?>
<NewThing xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/Test.Dtos">
  <AccountId>A</AccountId><Count>3</Count><Enabled>true</Enabled><CustomerId i:nil="true" />
  <Ids xmlns:d2p1="http://schemas.microsoft.com/2003/10/Serialization/Arrays"><d2p1:int>1</d2p1:int><d2p1:int>2</d2p1:int></Ids>
  <Filter><Age>4</Age><Name>n</Name></Filter>
</NewThing>"#;
    for req in [
        rest(Some("application/xml"), body),
        rest(Some("text/xml"), body),
        api(body).route_format("xml").ct(None),
    ] {
        let t = req.ok();
        assert_eq!(t.account_id.as_deref(), Some("A"));
        assert_eq!(t.customer_id, None);
        assert_eq!(t.count, 3);
        assert!(t.enabled);
        assert_eq!(t.ids, vec![1, 2]);
        assert_eq!(
            t.filter.map(|f| (f.name, f.age)),
            Some((Some("n".to_string()), 4))
        );
    }
    let e = rest(Some("application/xml"), "<NewThing><Count>3</Count>").err();
    assert_eq!(
        (e.status(), e.error_code()),
        (400, "SerializationException")
    );
    assert_type_error(
        &rest(
            Some("application/xml"),
            "<NewThing><Count>abc</Count></NewThing>",
        )
        .err(),
        "Count",
        "'abc' is an Invalid value for 'count'",
    );
}

#[test]
fn csv_bodies() {
    let body = "AccountId,Count,Ids\r\nA,3,\"[1,2]\"\r\n";
    let t = rest(Some("text/csv"), body).ok();
    assert_eq!(t.account_id.as_deref(), Some("A"));
    assert_eq!(t.count, 3);
    assert_eq!(t.ids, vec![1, 2]);
    let t = api(body).route_format("csv").ct(None).ok();
    assert_eq!(t.count, 3);
}

// ---- batches -----------------------------------------------------------------------------

#[test]
fn batches() {
    let body = r#"[{"accountId":"A","count":1},{"AccountId":"B"},{}]"#;
    let items = api(body).batch().unwrap();
    assert_eq!(
        items
            .iter()
            .map(|t| t.account_id.clone())
            .collect::<Vec<_>>(),
        vec![Some("A".into()), Some("B".into()), None]
    );
    // The query fills each item's gaps.
    let items = api(body).query("count=9&customerId=Q").batch().unwrap();
    assert_eq!(
        items.iter().map(|t| t.count).collect::<Vec<_>>(),
        vec![1, 9, 9]
    );
    assert!(items.iter().all(|t| t.customer_id.as_deref() == Some("Q")));
    assert!(api("[]").batch().unwrap().is_empty());
    // A byte-order mark before a JSON batch.
    assert_eq!(api("\u{feff}[{}]").batch().unwrap().len(), 1);
    // XML batches: one item, several.
    for (body, n) in [
        (
            "<ArrayOfNewThing><NewThing><Count>1</Count></NewThing></ArrayOfNewThing>",
            1,
        ),
        (
            "<ArrayOfNewThing><NewThing><Count>1</Count></NewThing><NewThing><Count>2</Count></NewThing></ArrayOfNewThing>",
            2,
        ),
    ] {
        let items = api(body)
            .route_format("xml")
            .ct(Some("application/xml"))
            .batch()
            .unwrap();
        assert_eq!(
            items.iter().map(|t| t.count).collect::<Vec<_>>(),
            (1..=n).collect::<Vec<i64>>()
        );
    }
    // JSV batches.
    let items = api("[{accountId:A},{accountId:B}]")
        .route_format("jsv")
        .ct(Some("text/jsv"))
        .batch()
        .unwrap();
    assert_eq!(items.len(), 2);
}

#[test]
fn batch_errors() {
    let big = format!("[{}]", vec!["{}"; 1001].join(","));
    for req in [api(&big), api(&big).query("count=1")] {
        let e = req.batch().unwrap_err();
        assert_eq!(e.status(), 400, "{e}");
        assert!(e.message().contains("1000"), "{e}");
    }
    assert_eq!(
        api(&format!("[{}]", vec!["{}"; 1000].join(",")))
            .batch()
            .unwrap()
            .len(),
        1000
    );
    for body in [r#"{"accountId":"A"}"#, "", "5"] {
        let e = api(body).batch().unwrap_err();
        assert_eq!(e.status(), 400, "{body}: {e}");
    }
    for req in [
        api(r#"[{"count":1},{"count":"abc"}]"#),
        api(r#"[{"count":1},{"count":"abc"}]"#).query("accountId=A"),
    ] {
        let e = req.batch().unwrap_err();
        assert_eq!(
            (e.status(), e.error_code()),
            (400, "SerializationException")
        );
        assert_eq!(e.errors()[0].field_name, "Count");
        assert_eq!(
            e.errors()[0].message,
            "'abc' is an Invalid value for 'count'"
        );
        assert!(e.message().contains("item 1"), "{e}");
    }
    let e = api("[{\"count\":1},").batch().unwrap_err();
    assert!(e.message().contains("line 1 column"), "{e}");
}

// ---- robustness --------------------------------------------------------------------------

#[test]
fn no_input_panics() {
    let bodies: Vec<Vec<u8>> = vec![
        b"\xff\xfe\x00".to_vec(),
        b"{\"accountId\":\"\xff\"}".to_vec(),
        b"{".to_vec(),
        b"}".to_vec(),
        b"{accountId:\"unterminated".to_vec(),
        b"<a><b>".to_vec(),
        b"\"".to_vec(),
        b"--x\r\n\r\n".to_vec(),
        vec![b'{'; 100_000],
        vec![b'['; 100_000],
        vec![b'<'; 10_000],
    ];
    for ct in [
        None,
        Some("application/json"),
        Some("application/jsv"),
        Some("application/xml"),
        Some("text/csv"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
    ] {
        for body in &bodies {
            let _ = rest(ct, "").bytes(body.clone()).bind::<NewThing>();
            let _ = rest(ct, "")
                .bytes(body.clone())
                .query("count=1")
                .bind::<NewThing>();
            let _ = api("").ct(ct).bytes(body.clone()).batch();
        }
    }
}

// ---- the JSON and JSV formats themselves -------------------------------------------------

#[test]
fn json_and_jsv_formats_are_registered_by_media_type() {
    let formats = Formats::standard();
    for (media, name) in [
        ("application/json", "json"),
        ("text/json", "json"),
        ("application/json; charset=utf-8", "json"),
        ("application/jsv", "jsv"),
        ("text/jsv; charset=utf-8", "jsv"),
    ] {
        assert_eq!(
            formats.by_media_type(media).map(|f| f.name()),
            Some(name),
            "{media}"
        );
    }
    assert_eq!(
        formats.get("json").unwrap().content_type(),
        "application/json; charset=utf-8"
    );
    assert_eq!(
        formats.get("jsv").unwrap().content_type(),
        "text/jsv; charset=utf-8"
    );
}

#[test]
fn json_and_jsv_formats_write() {
    let formats = Formats::standard();
    let types = TypeMap::new();
    let value = NewThing {
        account_id: Some("A".into()),
        count: 2,
        ids: vec![1, 2],
        enabled: true,
        ..thing()
    };
    let write = |name: &str, pretty: bool| {
        let ctx = WriteContext {
            types: &types,
            root: None,
            operation: "NewThing",
            pretty,
        };
        let mut out = Vec::new();
        formats
            .get(name)
            .unwrap()
            .write(&value, &ctx, &mut out)
            .unwrap();
        String::from_utf8(out).unwrap()
    };
    let json = write("json", false);
    assert!(json.starts_with(r#"{"accountId":"A","count":2,"#), "{json}");
    assert!(
        !json.contains("null") && !json.contains(' ') && !json.contains("customerId"),
        "{json}"
    );
    let back: NewThing = serde_json::from_str(&json).unwrap();
    assert_eq!(back, value);
    let jsv = write("jsv", false);
    assert!(jsv.starts_with("{accountId:A,count:2,"), "{jsv}");
    assert!(jsv.contains("ids:[1,2]") && !jsv.contains('\n'), "{jsv}");
    assert_eq!(jsv::from_str::<NewThing>(&jsv).unwrap(), value);
    let pretty = write("jsv", true);
    assert!(pretty.contains('\n') && pretty.contains('\t'), "{pretty}");
    assert_eq!(jsv::from_str::<NewThing>(&pretty).unwrap(), value);
}

#[test]
fn json_and_jsv_formats_read_trees() {
    let formats = Formats::standard();
    let types = TypeMap::new();
    let read = |name: &str, body: &str, max_depth: usize| {
        let ctx = ReadContext {
            types: &types,
            target: NewThing::type_info(),
            max_depth,
            max_items: 100,
        };
        formats
            .get(name)
            .unwrap()
            .read(body.as_bytes(), &ctx)
            .unwrap()
    };
    let s = |x: &str| Value::String(x.to_string());
    let want = Value::Map(vec![
        ("a".into(), s("1")),
        (
            "b".into(),
            Value::List(vec![s("true"), Value::Null, s("1.5"), s("x"), s("-7")]),
        ),
        ("c".into(), Value::Map(vec![])),
    ]);
    assert_eq!(
        read("json", r#"{"a":1,"b":[true,null,1.5,"x",-7],"c":{}}"#, 10).unwrap(),
        want
    );
    assert_eq!(
        read("jsv", "{a:1,b:[true,,1.5,x,-7],c:{}}", 10).unwrap(),
        want
    );
    for name in ["json", "jsv"] {
        let e = read(
            name,
            if name == "json" {
                "{\"a\":[[[1]]]}"
            } else {
                "{a:[[[1]]]}"
            },
            3,
        )
        .unwrap_err();
        assert!(e.message.contains("deeper than 3"), "{name}: {e}");
        assert!(
            read(
                name,
                if name == "json" {
                    "{\"a\":[[1]]}"
                } else {
                    "{a:[[1]]}"
                },
                3
            )
            .is_ok()
        );
    }
    let e = read("json", "{\"a\":\n  [1,}", 10).unwrap_err();
    assert_eq!((e.line, e.column > 0), (2, true), "{e}");
    assert!(e.message.contains("line 2"), "{e}");
    let e = read("jsv", "{a:\n [1,2}", 10).unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    let many = format!("[{}]", ["1"; 101].join(","));
    assert!(
        read("json", &many, 10)
            .unwrap_err()
            .message
            .contains("more than 100 items")
    );
    assert!(
        read("jsv", &many, 10)
            .unwrap_err()
            .message
            .contains("more than 100 items")
    );
}

#[test]
fn recursive_types_stop_at_the_depth_limit() {
    let nested = |n: usize| format!("{}{{}}{}", r#"{"child":"#.repeat(n), "}".repeat(n));
    for n in [1, 50, 120] {
        for req in [
            api(&nested(n)),
            api(&nested(n)).query("zzz=1"),
            rest(Some("application/jsv"), &nested(n).replace('"', "")),
        ] {
            let mut t = req.bind::<Nest>().unwrap();
            let mut depth = 0;
            while let Some(c) = t.child {
                t = *c;
                depth += 1;
            }
            assert_eq!(depth, n);
        }
    }
    for n in [129, 10_000] {
        for req in [
            api(&nested(n)),
            api(&nested(n)).query("zzz=1"),
            rest(Some("application/jsv"), &nested(n).replace('"', "")),
        ] {
            let e = req.bind::<Nest>().unwrap_err();
            assert_eq!(
                (e.status(), e.error_code()),
                (400, "SerializationException"),
                "{e}"
            );
            assert!(e.message().contains("deeper than 128"), "{n}: {e}");
        }
    }
    let meta = format!(r#"{{"meta":{}}}"#, "[".repeat(10_000));
    for req in [api(&meta), api(&meta).query("zzz=1")] {
        let e = req.bind::<Nest>().unwrap_err();
        assert!(e.message().contains("deeper than 128"), "{e}");
    }
    let ok = api(r#"{"META":{"a":[1,{"b":null}]}}"#)
        .bind::<Nest>()
        .unwrap();
    assert_eq!(ok.meta, Some(serde_json::json!({"a":[1,{"b":null}]})));
}
