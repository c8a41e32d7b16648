//! Query-string / form binding for what each client sends (clients.md §2.4, jsv.md §6.1).
//! Values are given URL-decoded, as the HTTP layer hands them over.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jsv::FieldDeserializer;
use jsv::types::TimeSpan;
use serde::Deserialize;

#[derive(Deserialize, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
struct Filter {
    name: Option<String>,
    age: Option<i32>,
}

#[derive(Deserialize, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
struct Request {
    account_id: Option<String>,
    ids: Option<Vec<i32>>,
    flag: Option<bool>,
    text: Option<String>,
    filter: Option<Filter>,
    start_date: Option<String>,
    span: Option<TimeSpan>,
    tags: Option<Vec<String>>,
    count: Option<i64>,
}

fn bind(pairs: &[(&str, &str)]) -> Request {
    jsv::from_fields(pairs.iter().copied()).unwrap()
}

#[test]
fn client_encodings() {
    // (client, decoded query pairs, expected)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Request);
    let cases: Vec<Case<'_>> = vec![
        (
            "TS list 1%2C2%2C3",
            vec![("ids", "1,2,3")],
            Request {
                ids: Some(vec![1, 2, 3]),
                ..Request::default()
            },
        ),
        (
            "Python list %5B1,2,3%5D",
            vec![("ids", "[1,2,3]")],
            Request {
                ids: Some(vec![1, 2, 3]),
                ..Request::default()
            },
        ),
        (
            "Python empty list %5B%5D",
            vec![("ids", "[]")],
            Request {
                ids: Some(vec![]),
                ..Request::default()
            },
        ),
        (
            "Dart list 1,2,3",
            vec![("ids", "1,2,3")],
            Request {
                ids: Some(vec![1, 2, 3]),
                ..Request::default()
            },
        ),
        (
            "C# bool True",
            vec![("flag", "True")],
            Request {
                flag: Some(true),
                ..Request::default()
            },
        ),
        (
            "TS/Py/Dart bool true",
            vec![("flag", "true")],
            Request {
                flag: Some(true),
                ..Request::default()
            },
        ),
        (
            "bool false",
            vec![("flag", "false")],
            Request {
                flag: Some(false),
                ..Request::default()
            },
        ),
        (
            "HTML checkbox on",
            vec![("flag", "on")],
            Request {
                flag: Some(true),
                ..Request::default()
            },
        ),
        (
            "checkbox + hidden field",
            vec![("flag", "true,false")],
            Request {
                flag: Some(true),
                ..Request::default()
            },
        ),
        (
            "TS null: bare key ?flag",
            vec![("flag", "")],
            Request::default(),
        ),
        (
            "strings verbatim",
            vec![("text", "\"\"quoted content\"\""), ("accountId", "a b&c")],
            Request {
                text: Some("\"\"quoted content\"\"".into()),
                account_id: Some("a b&c".into()),
                ..Request::default()
            },
        ),
        (
            "string with comma and braces stays verbatim",
            vec![("text", "{a:1},[x]")],
            Request {
                text: Some("{a:1},[x]".into()),
                ..Request::default()
            },
        ),
        (
            "C# camelCase keys, any case matches",
            vec![("AccountId", "AC1"), (" ACCOUNTID ", "AC2")],
            Request {
                account_id: Some("AC2".into()),
                ..Request::default()
            },
        ),
        (
            "Dart / C# object as JSV",
            vec![("filter", "{Name:x,Age:1}")],
            Request {
                filter: Some(Filter {
                    name: Some("x".into()),
                    age: Some(1),
                }),
                ..Request::default()
            },
        ),
        (
            "date string (TS user string, C# midnight)",
            vec![("startDate", "2024-01-01")],
            Request {
                start_date: Some("2024-01-01".into()),
                ..Request::default()
            },
        ),
        (
            "date with time, URL-decoded",
            vec![("startDate", "2026-11-23T08:49:38.135Z")],
            Request {
                start_date: Some("2026-11-23T08:49:38.135Z".into()),
                ..Request::default()
            },
        ),
        (
            "Py / Dart / C# TimeSpan as XSD duration",
            vec![("span", "PT1H30M")],
            Request {
                span: Some(TimeSpan::from_ticks(54_000_000_000)),
                ..Request::default()
            },
        ),
        (
            "C# list of strings, quoted item with comma",
            vec![("tags", "a,\"b,c\",d")],
            Request {
                tags: Some(vec!["a".into(), "b,c".into(), "d".into()]),
                ..Request::default()
            },
        ),
        (
            "unknown keys and extra args ignored",
            vec![("format", "jsv"), ("count", "5"), ("zzz", "{")],
            Request {
                count: Some(5),
                ..Request::default()
            },
        ),
    ];
    for (client, pairs, expected) in cases {
        assert_eq!(bind(&pairs), expected, "{client}");
    }
}

#[test]
fn bad_values_name_the_field() {
    let err = jsv::from_fields::<Request, _, _, _>([("ids", "1,x,3")]).unwrap_err();
    assert_eq!(err.field(), Some("ids"));
    assert_eq!(err.path(), Some("ids[1]"));
    assert_eq!(err.value(), Some("x"));
    let err = jsv::from_fields::<Request, _, _, _>([("flag", "yes")]).unwrap_err();
    assert_eq!(err.field(), Some("flag"));
    assert_eq!(err.value(), Some("yes"));
}

#[test]
fn required_fields_and_owned_input() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct Req {
        id: u32,
    }
    let owned: Vec<(String, String)> = vec![("ID".into(), "7".into())];
    assert_eq!(
        jsv::from_fields::<Req, _, _, _>(owned).unwrap(),
        Req { id: 7 }
    );
    let err = jsv::from_fields::<Req, _, _, _>([("id", "")]).unwrap_err();
    assert_eq!(err.to_string(), "missing field `id`");
}

#[test]
fn field_deserializer_rules() {
    assert_eq!(
        String::deserialize(FieldDeserializer::new("\"x,y\"")).unwrap(),
        "\"x,y\""
    );
    assert_eq!(
        Option::<String>::deserialize(FieldDeserializer::new(" a ")).unwrap(),
        Some(" a ".into())
    );
    assert_eq!(
        Vec::<String>::deserialize(FieldDeserializer::new("\"x,y\",z")).unwrap(),
        ["x,y", "z"]
    );
    assert_eq!(
        i32::deserialize(FieldDeserializer::new(" 42 ")).unwrap(),
        42
    );
    assert!(bool::deserialize(FieldDeserializer::new("off,on")).is_ok_and(|b| !b));
    assert_eq!(
        Vec::<Filter>::deserialize(FieldDeserializer::new("{name:a},{name:b}")).unwrap(),
        [
            Filter {
                name: Some("a".into()),
                age: None
            },
            Filter {
                name: Some("b".into()),
                age: None
            }
        ]
    );
    // Newtypes around strings stay verbatim too.
    #[derive(Deserialize, Debug, PartialEq)]
    struct Sid(String);
    assert_eq!(
        Sid::deserialize(FieldDeserializer::new("\"CA1\"")).unwrap(),
        Sid("\"CA1\"".into())
    );
}
