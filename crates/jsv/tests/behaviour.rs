//! Reader and writer behaviour beyond the vectors: evogate's choices (docs/compatibility.md)
//! and the `Value` tree as a type-driven deserializer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

use jsv::Value;
use jsv::types::{DateKind, DateTime, Guid, TimeSpan};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct NewBillable {
    account_id: Option<String>,
    customer_id: Option<String>,
    session_id: Option<String>,
    call_sid: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum Shape {
    Dot,
    Circle(f64),
    Rect { w: u32, h: u32 },
    Pair(i32, i32),
}

#[test]
fn reader_cases() {
    // (input, expected) for a list of strings: whitespace is data except where noted.
    let cases: &[(&str, &[&str])] = &[
        ("[ A ]", &[" A "]),
        ("[a, b]", &["a", " b"]),
        ("[a[1]b,c]", &["a[1]b", "c"]),
        ("a,b,c", &["a", "b", "c"]),
        ("  [a]  \n", &["a"]),
        ("[\"q\"\"t\",\"\"]", &["q\"t", ""]),
        ("[ ]", &[]),
    ];
    for (input, expected) in cases {
        let got: Vec<String> = jsv::from_str(input).unwrap();
        assert_eq!(got, *expected, "{input:?}");
    }
    // Keys: trimmed, unquoted, case-insensitive; unknown keys skipped with bracket counting.
    let b: NewBillable = jsv::from_str(
        "{ \"accountId\":AC1, CUSTOMERID :c,x:{a:[1,\"}\"]},sessionId:\"s,1\",callSid:}",
    )
    .unwrap();
    assert_eq!(
        b,
        NewBillable {
            account_id: Some("AC1".into()),
            customer_id: Some("c".into()),
            session_id: Some("s,1".into()),
            call_sid: None,
        }
    );
    // `{ }`, spaces around nested values, `null` is text.
    let m: BTreeMap<String, Vec<BTreeMap<String, String>>> =
        jsv::from_str("{ k: [ {a:null} , {} ] }").unwrap();
    assert_eq!(m[" k"][0]["a"], "null");
    assert!(m[" k"][1].is_empty());
    // A leading BOM is skipped.
    assert_eq!(
        jsv::from_slice::<Vec<i32>>(b"\xEF\xBB\xBF[1]").unwrap(),
        [1]
    );
    // Integers: whitespace and leading zeros; a single token where a list is expected.
    #[derive(Deserialize, Debug, PartialEq)]
    struct Ids {
        ids: Vec<u8>,
        n: i32,
    }
    assert_eq!(
        jsv::from_str::<Ids>("{ids:5,n: 007 }").unwrap(),
        Ids { ids: vec![5], n: 7 }
    );
    // Floats with group separators (quoted), exponents, specials.
    let f: Vec<f64> = jsv::from_str("[\"1,111.5\",1.5E-07,NaN,-infinity, 2 ]").unwrap();
    assert_eq!(f[0], 1111.5);
    assert_eq!(f[1], 1.5e-7);
    assert!(f[2].is_nan());
    assert_eq!(f[3], f64::NEG_INFINITY);
    assert_eq!(f[4], 2.0);
}

#[test]
fn borrowing() {
    #[derive(Deserialize)]
    struct B<'a> {
        #[serde(borrow)]
        a: Cow<'a, str>,
        #[serde(borrow)]
        b: Cow<'a, str>,
        c: &'a str,
    }
    let b: B<'_> = jsv::from_str("{a:plain,b:\"q\"\"t\",c:\"x,y\"}").unwrap();
    assert!(matches!(b.a, Cow::Borrowed("plain")));
    assert!(matches!(b.b, Cow::Owned(ref s) if s == "q\"t"));
    assert_eq!(b.c, "x,y");
}

#[test]
fn writer_cases() {
    let b = NewBillable {
        account_id: Some("AC1".into()),
        customer_id: Some(String::new()),
        session_id: None,
        call_sid: Some("a:b".into()),
    };
    assert_eq!(
        jsv::to_string(&b).unwrap(),
        "{accountId:AC1,customerId:\"\",callSid:\"a:b\"}"
    );
    let none = NewBillable {
        account_id: None,
        customer_id: None,
        session_id: None,
        call_sid: None,
    };
    assert_eq!(jsv::to_string(&none).unwrap(), "{}");
    let mut map: BTreeMap<&str, Option<i32>> = BTreeMap::new();
    map.insert("a", Some(1));
    map.insert("b", None);
    assert_eq!(jsv::to_string(&map).unwrap(), "{a:1}");
    assert_eq!(jsv::to_string(&[Some(1), None, Some(3)]).unwrap(), "[1,,3]");
    assert_eq!(jsv::to_string(&vec![" "; 1]).unwrap(), "[\" \"]");
    assert_eq!(jsv::to_string(&Option::<i32>::None).unwrap(), "");
    assert_eq!(jsv::to_string(&()).unwrap(), "");
    assert_eq!(jsv::to_string(&'x').unwrap(), "x");
    assert_eq!(
        jsv::to_string(&b"\x00Aa\xff".to_vec()).unwrap(),
        "[0,65,97,255]"
    );
    let mut buf = Vec::new();
    jsv::to_writer(&mut buf, &[1.5f64, 1e17, -0.0]).unwrap();
    assert_eq!(buf, b"[1.5,1E+17,-0]");
    assert_eq!(jsv::to_vec(&true).unwrap(), b"True");

    let shapes = vec![
        Shape::Dot,
        Shape::Circle(1.5),
        Shape::Rect { w: 2, h: 3 },
        Shape::Pair(1, -1),
    ];
    let text = jsv::to_string(&shapes).unwrap();
    assert_eq!(text, "[Dot,{Circle:1.5},{Rect:{w:2,h:3}},{Pair:[1,-1]}]");
    assert_eq!(jsv::from_str::<Vec<Shape>>(&text).unwrap(), shapes);
    assert_eq!(jsv::from_str::<Shape>("dot").unwrap(), Shape::Dot);
    assert_eq!(jsv::from_str::<Shape>("0").unwrap(), Shape::Dot);
}

#[test]
fn pretty_reads_back() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Doc {
        name: String,
        tags: Vec<String>,
        when: DateTime,
        times: Vec<DateTime>,
        empty: Vec<i32>,
    }
    let when = DateTime::new(2024, 1, 15, 10, 20, 30, 0, DateKind::Utc).unwrap();
    let doc = Doc {
        name: " padded ".into(),
        tags: vec!["a, b".into(), "{x}".into(), "".into()],
        when,
        times: vec![when, when],
        empty: vec![],
    };
    let pretty = jsv::to_string_pretty(&doc).unwrap();
    assert_eq!(
        pretty,
        "{\n\tname: \" padded \",\n\ttags: \n\t[\n\t\t\"a, b\",\n\t\t\"{x}\",\n\t\t\"\"\n\t],\n\twhen: 2024-01-15T10:20:30Z,\n\ttimes: \n\t[\n\t\t2024-01-15T10:20:30Z,\n\t\t2024-01-15T10:20:30Z\n\t],\n\tempty: []\n}"
    );
    assert_eq!(jsv::from_str::<Doc>(&pretty).unwrap(), doc);
    assert_eq!(
        jsv::to_string(&doc).unwrap(),
        "{name: padded ,tags:[\"a, b\",\"{x}\",\"\"],when:2024-01-15T10:20:30Z,times:[2024-01-15T10:20:30Z,2024-01-15T10:20:30Z],empty:[]}"
    );
}

#[test]
fn value_is_type_driven() {
    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        count: i64,
        price: f64,
        ok: bool,
        ids: Vec<i32>,
        filter: Filter,
        note: Option<String>,
        shape: Shape,
    }
    #[derive(Deserialize, Debug, PartialEq)]
    struct Filter {
        a: i32,
        b: String,
    }
    // What a CSV row or XML element gives: every cell is text.
    let cells = Value::Map(vec![
        (" Count ".into(), "42".into()),
        ("PRICE".into(), "0.25".into()),
        ("ok".into(), "True".into()),
        ("ids".into(), "1,2,3".into()),
        ("filter".into(), "{a:1,b:x}".into()),
        ("note".into(), Value::Null),
        ("shape".into(), "{Circle:2}".into()),
        ("unknown".into(), "zzz".into()),
    ]);
    let expected = Row {
        count: 42,
        price: 0.25,
        ok: true,
        ids: vec![1, 2, 3],
        filter: Filter {
            a: 1,
            b: "x".into(),
        },
        note: None,
        shape: Shape::Circle(2.0),
    };
    assert_eq!(Row::deserialize(&cells).unwrap(), expected);
    assert_eq!(jsv::from_value::<Row>(cells).unwrap(), expected);

    // Nested Values (XML elements) bind directly.
    let xml_like = Value::Map(vec![
        ("count".into(), "1".into()),
        ("price".into(), "2".into()),
        ("ok".into(), "false".into()),
        ("ids".into(), Value::List(vec!["4".into(), "5".into()])),
        (
            "filter".into(),
            Value::Map(vec![("A".into(), "7".into()), ("B".into(), "y".into())]),
        ),
        ("shape".into(), "Dot".into()),
    ]);
    let row: Row = jsv::from_value(xml_like).unwrap();
    assert_eq!(row.ids, [4, 5]);
    assert_eq!(
        row.filter,
        Filter {
            a: 7,
            b: "y".into()
        }
    );
    assert_eq!(row.shape, Shape::Dot);
    assert_eq!(row.note, None);

    // deserialize_any on a string gives a string.
    let any: serde_json::Value = serde_json::Value::deserialize(&Value::from("1")).unwrap();
    assert_eq!(any, serde_json::json!("1"));
    // A list or map asked for as a string gives its compact JSV.
    let s = String::deserialize(&Value::List(vec!["a".into(), "b,c".into()])).unwrap();
    assert_eq!(s, "[a,\"b,c\"]");
    // Value from JSON: scalars become their JSV text.
    let v: Value = serde_json::from_str(r#"{"a":true,"b":1.5,"c":null,"d":[1]}"#).unwrap();
    assert_eq!(v.to_string(), "{a:True,b:1.5,c:,d:[1]}");
    assert_eq!(v.get(" A ").and_then(Value::as_str), Some("True"));
}

#[test]
fn dotnet_types() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct T {
        id: Guid,
        span: TimeSpan,
        #[serde(with = "jsv::duration")]
        wait: Duration,
        at: DateTime,
    }
    let t = T {
        id: "7da74353-a40c-468e-93aa-7ff51f4f0e84".parse().unwrap(),
        span: "1.02:03:04.5670001".parse().unwrap(),
        wait: Duration::from_millis(90_500),
        at: "2013-04-09T15:20:00.123".parse().unwrap(),
    };
    let jsv_text = jsv::to_string(&t).unwrap();
    assert_eq!(
        jsv_text,
        "{id:7da74353a40c468e93aa7ff51f4f0e84,span:P1DT2H3M4.5670001S,wait:PT1M30.5S,at:2013-04-09T15:20:00.1230000+00:00}"
    );
    assert_eq!(jsv::from_str::<T>(&jsv_text).unwrap(), t);
    // The same text as JSON strings.
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(
        json,
        r#"{"id":"7da74353a40c468e93aa7ff51f4f0e84","span":"P1DT2H3M4.5670001S","wait":"PT1M30.5S","at":"2013-04-09T15:20:00.1230000+00:00"}"#
    );
    assert_eq!(serde_json::from_str::<T>(&json).unwrap(), t);
    // Through a Value the text is quoted (it contains ':') and still reads back.
    let v = jsv::to_value(&t).unwrap();
    assert_eq!(
        jsv::from_value::<T>(jsv::from_str(&v.to_string()).unwrap()).unwrap(),
        t
    );
}

#[test]
fn query_string_writer() {
    #[derive(Serialize)]
    struct Q {
        list: Vec<&'static str>,
        s: &'static str,
        n: Option<i32>,
    }
    let q = Q {
        list: vec!["Foo:Bar", "a,b"],
        s: "x y\r\n",
        n: None,
    };
    assert_eq!(
        jsv::to_query_string(&q).unwrap(),
        "list=Foo%3aBar,%22a,b%22&s=x+y%0d%0a"
    );
    assert!(jsv::to_query_string(&1).is_err());
}
