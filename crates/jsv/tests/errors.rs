//! Error messages, positions and paths are part of the contract (the gateway shows them in
//! 400 responses), so they are pinned here, table-driven like serde_json's `test_parse_err`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Debug;

use jsv::{Category, Value};
use serde::Deserialize;
use serde::de::DeserializeOwned;

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Call {
    duration: i32,
    name: Option<String>,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Calls {
    calls: Vec<Call>,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Counter {
    count: i64,
    flag: Option<bool>,
    small: Option<u8>,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
#[serde(rename_all = "camelCase")]
struct ModelWithIdAndName {
    id: i32,
    name: Option<String>,
}

fn test_parse_err<T: DeserializeOwned + Debug>(cases: &[(&str, &str)]) {
    for (input, expected) in cases {
        let err = jsv::from_str::<T>(input).unwrap_err();
        assert_eq!(err.to_string(), *expected, "input {input:?}");
    }
}

#[test]
fn syntax_errors() {
    test_parse_err::<ModelWithIdAndName>(&[
        (
            "{id:1,name:x,}",
            "trailing comma in map at line 1 column 14",
        ),
        (
            "{id:1} x",
            "trailing characters after the value at line 1 column 8",
        ),
        (
            "{id:1",
            "unclosed '{', expected ',' or '}' at line 1 column 6",
        ),
        (
            "{id:1,name}",
            "expected ':' after a map key at line 1 column 11",
        ),
        (
            "{name:\"x\"y}",
            "expected ',' or '}' after a map value at line 1 column 10",
        ),
        (
            "{name:\"x",
            "unterminated quoted string at line 1 column 7 (field name)",
        ),
        ("id:1", "expected '{' at line 1 column 1"),
        (
            "",
            "expected '{', found the end of the text at line 1 column 1",
        ),
        (
            "{id:1,x:{a:[}",
            "unclosed '{', expected ',' or '}' at line 1 column 14",
        ),
        ("{id:1,x:{a:1", "unclosed '{' at line 1 column 9"),
    ]);
    test_parse_err::<Vec<i32>>(&[
        (
            "[1,2",
            "unclosed '[', expected ',' or ']' at line 1 column 5",
        ),
        (
            "[1,2]]",
            "trailing characters after the value at line 1 column 6",
        ),
    ]);
}

#[test]
fn data_errors_name_the_field() {
    test_parse_err::<Calls>(&[(
        "{calls:[{duration:1},{duration:2},{duration:abc}]}",
        "invalid integer 'abc' at line 1 column 45 (field calls[2].duration)",
    )]);
    test_parse_err::<Counter>(&[
        (
            "{count:1.5}",
            "invalid integer '1.5' at line 1 column 8 (field count)",
        ),
        (
            "{count:+1}",
            "invalid integer '+1' at line 1 column 8 (field count)",
        ),
        (
            "{count:}",
            "expected a number, found an empty value at line 1 column 8 (field count)",
        ),
        (
            "{count:99999999999999999999}",
            "integer '99999999999999999999' is out of range for i64 at line 1 column 8 (field count)",
        ),
        (
            "{count:1,small:300}",
            "integer '300' is out of range for u8 at line 1 column 16 (field small)",
        ),
        (
            "{count:1,flag:yes}",
            "invalid boolean 'yes' at line 1 column 15 (field flag)",
        ),
        ("{flag:true}", "missing field `count` at line 1 column 12"),
    ]);
    test_parse_err::<Vec<i32>>(&[
        (
            "[8,,9]",
            "expected a number, found an empty value at line 1 column 4 (field [1])",
        ),
        (
            "[1,2,]",
            "expected a number, found an empty value at line 1 column 6 (field [2])",
        ),
    ]);
    test_parse_err::<Vec<f64>>(&[(
        "[1e400]",
        "number '1e400' is out of range at line 1 column 2 (field [0])",
    )]);
}

#[test]
fn accessors() {
    let err = jsv::from_str::<Calls>("{\n\tcalls:\n\t[\n\t\t{Duration: abc }\n\t]\n}").unwrap_err();
    assert_eq!(err.line(), 4);
    assert_eq!(err.column(), 14);
    assert_eq!(err.path(), Some("calls[0].duration"));
    assert_eq!(err.field(), Some("calls"));
    assert_eq!(err.value(), Some("abc"));
    assert_eq!(err.classify(), Category::Data);
    assert!(err.is_data());

    // The declared spelling of the field, whatever case the input used.
    let err = jsv::from_str::<Counter>("{COUNT:abc}").unwrap_err();
    assert_eq!(err.field(), Some("count"));
    assert_eq!(err.value(), Some("abc"));
    assert_eq!(err.message(), "invalid integer 'abc'");

    let err = jsv::from_str::<ModelWithIdAndName>("{id:1").unwrap_err();
    assert_eq!(err.classify(), Category::Eof);
    assert_eq!(err.path(), None);
    assert_eq!(err.value(), None);

    let err = jsv::from_str::<ModelWithIdAndName>("{id:1,}").unwrap_err();
    assert_eq!(err.classify(), Category::Syntax);

    let err = jsv::from_slice::<Value>(b"{a:\xff}").unwrap_err();
    assert_eq!(err.to_string(), "invalid UTF-8 at line 1 column 4");
}

#[test]
fn value_and_field_errors_have_paths_without_positions() {
    let v: Value = jsv::from_str("{calls:[{duration:1},{duration:x}]}").unwrap();
    let err = jsv::from_value::<Calls>(v).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid integer 'x' (field calls[1].duration)"
    );
    assert_eq!(err.line(), 0);
    assert_eq!(err.field(), Some("calls"));

    let err = jsv::from_fields::<Counter, _, _, _>([("Count", "abc")]).unwrap_err();
    assert_eq!(err.field(), Some("count"));
    assert_eq!(err.value(), Some("abc"));
    assert_eq!(
        format!(
            "'{}' is an Invalid value for '{}'",
            err.value().unwrap(),
            err.field().unwrap()
        ),
        "'abc' is an Invalid value for 'count'"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let cases = [
        ("[".repeat(100_000), 129),
        ("{a:".repeat(100_000), 385),
        (
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            129,
        ),
    ];
    for (input, column) in &cases {
        let err = jsv::from_str::<Value>(input).unwrap_err();
        assert_eq!(err.message(), "recursion limit exceeded");
        assert_eq!(err.line(), 1);
        assert_eq!(err.column(), *column);
        let err = jsv::from_str::<Vec<Value>>(input).unwrap_err();
        assert_eq!(err.message(), "recursion limit exceeded");
    }
    // Skipped unknown members are bracket-counted without recursion.
    #[derive(Deserialize)]
    struct Empty {}
    let deep = format!("{{x:{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(jsv::from_str::<Empty>(&deep).is_ok());

    // The limit is configurable.
    let mut de = jsv::Deserializer::from_str("[[[1]]]").with_recursion_limit(2);
    assert!(Value::deserialize(&mut de).is_err());
    let mut de = jsv::Deserializer::from_str("[[[1]]]").with_recursion_limit(3);
    assert!(Value::deserialize(&mut de).is_ok());
}

#[test]
fn error_is_one_pointer_wide() {
    assert_eq!(
        std::mem::size_of::<jsv::Result<()>>(),
        std::mem::size_of::<usize>()
    );
}
