//! The CSV format: rows out of lists and envelopes, rows back into DTOs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gateway::dto;
use gateway::format::csv::Csv;
use gateway::format::{Format, FormatError, ReadContext, WriteContext};
use gateway::meta::{Dto, DtoType, TypeInfo, TypeMap};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A rate row.
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq)]
struct RateInfo {
    account_id: Option<String>,
    category: Option<String>,
    unit_price: f64,
    active: bool,
    tags: Vec<String>,
    note: Option<String>,
}

/// Evo Voice's list envelope.
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq)]
struct ListRatesResponse {
    items: Vec<RateInfo>,
    total_count: i32,
    total_pages: i32,
    has_more_pages: bool,
}

/// A request whose one list property takes CSV rows.
#[dto(namespace = "Voice.Api.Billing", route("/rates/import", "POST"))]
#[derive(Debug, Clone, Default, PartialEq)]
struct ImportRates {
    rates: Vec<RateInfo>,
}

/// A plain request DTO.
#[dto(namespace = "Voice.Api.Billing", route("/rates", "PUT"))]
#[derive(Debug, Clone, Default, PartialEq)]
struct SetRate {
    account_id: Option<String>,
    customer_id: Option<String>,
    category: Option<String>,
    unit_price: rust_decimal::Decimal,
}

fn write<T: Serialize + DtoType>(value: &T) -> String {
    let root = T::type_ref();
    let mut types = TypeMap::new();
    types.add_ref(&root);
    let ctx = WriteContext {
        types: &types,
        root: Some(&root),
        operation: "ListRates",
        pretty: false,
    };
    let mut out = Vec::new();
    Csv.write(value, &ctx, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn read(
    body: &str,
    target: &'static TypeInfo,
    max_items: usize,
) -> Result<jsv::Value, FormatError> {
    let mut types = TypeMap::new();
    types.add(target);
    let ctx = ReadContext {
        types: &types,
        target,
        max_depth: 16,
        max_items,
    };
    Csv.read(body.as_bytes(), &ctx).expect("csv reads bodies")
}

fn bind<T: Dto + DeserializeOwned>(body: &str) -> T {
    jsv::from_value(read(body, T::type_info(), 1000).unwrap()).unwrap()
}

fn rate(account: &str, price: f64) -> RateInfo {
    RateInfo {
        account_id: Some(account.into()),
        category: Some("calls".into()),
        unit_price: price,
        active: true,
        tags: vec![],
        note: None,
    }
}

#[test]
fn an_envelope_is_written_as_its_rows() {
    let resp = ListRatesResponse {
        items: vec![
            rate("AC1", 0.012),
            RateInfo {
                active: false,
                tags: vec!["a".into(), "b,c".into()],
                ..rate("AC2", 1e17)
            },
        ],
        total_count: 2,
        total_pages: 1,
        has_more_pages: false,
    };
    assert_eq!(
        write(&resp),
        "AccountId,Category,UnitPrice,Active,Tags,Note\r\n\
         AC1,calls,0.012,True,\"[]\",\r\n\
         AC2,calls,1E+17,False,\"[a,\"\"b,c\"\"]\",\r\n"
    );
    let empty = ListRatesResponse::default();
    assert_eq!(
        write(&empty),
        "AccountId,Category,UnitPrice,Active,Tags,Note\r\n"
    );
    // A bare list is the same rows.
    assert_eq!(write(&resp.items).lines().count(), 3);
}

#[test]
fn a_single_object_is_a_header_and_one_row() {
    let r = SetRate {
        account_id: Some("AC1".into()),
        customer_id: None,
        category: Some("sms".into()),
        unit_price: "0.0100".parse().unwrap(),
    };
    assert_eq!(
        write(&r),
        "AccountId,CustomerId,Category,UnitPrice\r\nAC1,,sms,0.0100\r\n"
    );
}

#[test]
fn escaping_rules() {
    let rows = vec![
        RateInfo {
            note: Some("plain text: ok".into()),
            ..rate("a,b", 1.0)
        },
        RateInfo {
            note: Some("say \"hi\"".into()),
            ..rate("line\nbreak", 1.0)
        },
        RateInfo {
            note: Some("[starts".into()),
            ..rate("{x}", 1.0)
        },
        RateInfo {
            note: Some(" spaced ".into()),
            ..rate("ends]", 1.0)
        },
        RateInfo {
            note: Some(String::new()),
            ..rate("cr\rlf", 1.0)
        },
    ];
    let text = write(&rows);
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[1], "\"a,b\",calls,1,True,\"[]\",plain text: ok");
    assert_eq!(
        lines[2],
        "\"line\nbreak\",calls,1,True,\"[]\",\"say \"\"hi\"\"\""
    );
    assert_eq!(lines[3], "\"{x}\",calls,1,True,\"[]\",\"[starts\"");
    assert_eq!(lines[4], "ends],calls,1,True,\"[]\", spaced ");
    assert_eq!(lines[5], "\"cr\rlf\",calls,1,True,\"[]\",");
    assert!(text.ends_with("\r\n"));
}

#[test]
fn scalar_lists_are_one_row() {
    assert_eq!(write(&vec![1.5f64, 2.0, -0.25]), "1.5,2,-0.25\r\n");
    assert_eq!(
        write(&vec!["a".to_string(), "b,c".to_string()]),
        "a,\"b,c\"\r\n"
    );
    assert_eq!(write(&Vec::<i32>::new()), "");
}

#[test]
fn rows_read_into_the_list_property() {
    let body = "accountid,CATEGORY,UnitPrice,Tags,Unknown,Active\r\n\
                AC1,calls,0.5,\"[x,\"\"y,z\"\"]\",ignored,true\r\n\
                \r\n\
                AC2,\"multi\r\nline\",1E-05,[p,q],,False\n";
    let got: ImportRates = bind(body);
    assert_eq!(
        got.rates,
        vec![
            RateInfo {
                tags: vec!["x".into(), "y,z".into()],
                unit_price: 0.5,
                ..rate("AC1", 0.0)
            },
            RateInfo {
                category: Some("multi\r\nline".into()),
                unit_price: 1e-5,
                active: false,
                tags: vec!["p".into(), "q".into()],
                ..rate("AC2", 0.0)
            },
        ]
    );
}

#[test]
fn a_plain_request_reads_the_first_row() {
    let got: SetRate = bind("Category,UnitPrice,AccountId\r\nsms,0.0100,AC9\r\n");
    assert_eq!(got.category.as_deref(), Some("sms"));
    assert_eq!(got.unit_price.to_string(), "0.0100");
    assert_eq!(got.account_id.as_deref(), Some("AC9"));
    assert_eq!(got.customer_id, None);
    assert_eq!(bind::<SetRate>(""), SetRate::default());
    assert_eq!(bind::<SetRate>("Category\r\n"), SetRate::default());
}

#[test]
fn written_rows_read_back() {
    let rows = vec![
        RateInfo {
            note: Some("a \"quoted\", note".into()),
            tags: vec!["t1".into(), "t,2".into()],
            ..rate("AC1", 0.25)
        },
        RateInfo {
            category: None,
            ..rate("AC2", 3.0)
        },
    ];
    let text = write(&ListRatesResponse {
        items: rows.clone(),
        ..Default::default()
    });
    let got: ImportRates = bind(&text);
    assert_eq!(got.rates, rows);
}

#[test]
fn limits_and_malformed_input() {
    let target = ImportRates::type_info();
    let many = format!("AccountId\r\n{}", "x\r\n".repeat(11));
    assert!(read(&many, target, 10).is_err());
    assert!(read(&many, target, 11).is_ok());
    let err = read("AccountId,Note\r\nAC1,\"open\r\n", target, 100).unwrap_err();
    assert_eq!((err.line, err.column), (2, 5), "{err:?}");
    assert!(read("\u{feff}AccountId\r\nx\r\n", target, 10).is_ok());
    let mut types = TypeMap::new();
    types.add(target);
    let ctx = ReadContext {
        types: &types,
        target,
        max_depth: 4,
        max_items: 4,
    };
    for body in [&b"\xff,\xfe"[..], b"\"", b",,,\n,,,", b"{[{[", b"a\r\rb"] {
        let _ = Csv.read(body, &ctx).unwrap();
    }
}

/// An error body, as the pipeline writes it for any operation.
#[dto(
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared"
)]
#[derive(Debug, Clone, Default, PartialEq)]
struct ErrorBody {
    response_status: Option<Status>,
}

/// A small `ResponseStatus`.
#[dto(
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared"
)]
#[derive(Debug, Clone, Default, PartialEq)]
struct Status {
    error_code: Option<String>,
    message: Option<String>,
}

#[test]
fn an_error_body_for_an_envelope_operation_is_one_row() {
    let body = ErrorBody {
        response_status: Some(Status {
            error_code: Some("Forbidden".into()),
            message: Some("Invalid Role".into()),
        }),
    };
    let root = ListRatesResponse::type_ref();
    let mut types = TypeMap::new();
    types.add_ref(&root);
    let ctx = WriteContext {
        types: &types,
        root: Some(&root),
        operation: "ListRates",
        pretty: false,
    };
    let mut out = Vec::new();
    Csv.write(&body, &ctx, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "ResponseStatus\r\n\"{errorCode:Forbidden,message:Invalid Role}\"\r\n"
    );
}

#[test]
fn arbitrary_bodies_never_panic() {
    const PIECES: &[&str] = &[
        ",",
        "\"",
        "\"\"",
        "\r\n",
        "\n",
        "\r",
        "{",
        "}",
        "[",
        "]",
        "a",
        "AccountId",
        "Tags",
        "é",
        ":",
        " ",
    ];
    let target = ImportRates::type_info();
    let mut types = TypeMap::new();
    types.add(target);
    let ctx = ReadContext {
        types: &types,
        target,
        max_depth: 4,
        max_items: 8,
    };
    let mut seed: u64 = 7;
    for _ in 0..20_000 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let n = ((seed >> 33) % 24) as usize;
        let body: String = (0..n)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                PIECES[((seed >> 33) as usize) % PIECES.len()]
            })
            .collect();
        let _ = Csv.read(body.as_bytes(), &ctx).unwrap();
    }
}
