//! Property tests: whatever the writer emits, the reader reads back unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use jsv::Value;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// JSV cannot spell a list whose only item is empty (`[]` is the empty list), so generated
/// trees avoid that one shape (documented in docs/compatibility.md).
fn spellable(v: &Value) -> bool {
    match v {
        Value::Null | Value::String(_) => true,
        Value::List(items) => {
            !(items.len() == 1 && items[0].is_null()) && items.iter().all(spellable)
        }
        Value::Map(entries) => entries.iter().all(|(_, v)| spellable(v)),
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ a-c,:{}\\[\\]\"\r\n\t]{0,6}",
        Just(String::new()),
        Just(" ".to_owned()),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![Just(Value::Null), text().prop_map(Value::String)];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            prop::collection::vec((text(), inner), 0..6).prop_map(Value::Map),
        ]
    })
    .prop_filter("spellable in JSV", spellable)
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "camelCase")]
struct Inner {
    label: String,
    ratio: f64,
    tags: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "camelCase")]
struct Outer {
    id: i64,
    name: Option<String>,
    price: f64,
    small: f32,
    ok: bool,
    counts: Vec<u32>,
    inner: Option<Inner>,
    children: Vec<Inner>,
    scores: BTreeMap<String, i32>,
    maybe: Vec<Option<i32>>,
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        Just(0.1 + 0.2),
        Just(1e17),
        Just(1e-5),
        Just(-0.0),
    ]
}

fn inner() -> impl Strategy<Value = Inner> {
    (text(), finite(), prop::collection::vec(text(), 0..4)).prop_map(|(label, ratio, tags)| Inner {
        label,
        ratio,
        tags,
    })
}

fn outer() -> impl Strategy<Value = Outer> {
    (
        any::<i64>(),
        prop::option::of(text()),
        finite(),
        any::<f32>().prop_filter("finite", |f| f.is_finite()),
        any::<bool>(),
        prop::collection::vec(any::<u32>(), 0..4),
        prop::option::of(inner()),
        prop::collection::vec(inner(), 0..3),
        prop::collection::btree_map(text(), any::<i32>(), 0..4),
        prop::collection::vec(prop::option::of(any::<i32>()), 2..4),
    )
        .prop_map(
            |(id, name, price, small, ok, counts, inner, children, scores, maybe)| Outer {
                id,
                name,
                price,
                small,
                ok,
                counts,
                inner,
                children,
                scores,
                maybe,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_string_round_trips(s in text()) {
        let out = jsv::to_string(&s).unwrap();
        prop_assert_eq!(jsv::from_str::<String>(&out).unwrap(), s.clone());
        let list = vec![s.clone(), s.clone()];
        let out = jsv::to_string(&list).unwrap();
        prop_assert_eq!(jsv::from_str::<Vec<String>>(&out).unwrap(), list);
        let mut map = BTreeMap::new();
        map.insert(s.clone(), s.clone());
        let out = jsv::to_string(&map).unwrap();
        prop_assert_eq!(jsv::from_str::<BTreeMap<String, String>>(&out).unwrap(), map);
    }

    #[test]
    fn any_value_round_trips(v in value()) {
        let out = jsv::to_string(&v).unwrap();
        prop_assert_eq!(&jsv::from_str::<Value>(&out).unwrap(), &v, "compact {:?}", out);
        let pretty = jsv::to_string_pretty(&v).unwrap();
        prop_assert_eq!(&jsv::from_str::<Value>(&pretty).unwrap(), &v, "pretty {:?}", pretty);
        prop_assert_eq!(jsv::to_value(&v).unwrap(), v.clone());
        prop_assert_eq!(jsv::from_value::<Value>(v.clone()).unwrap(), v);
    }

    #[test]
    fn typed_structs_round_trip(o in outer()) {
        let out = jsv::to_string(&o).unwrap();
        prop_assert_eq!(&jsv::from_str::<Outer>(&out).unwrap(), &o, "compact {:?}", out);
        let pretty = jsv::to_string_pretty(&o).unwrap();
        prop_assert_eq!(&jsv::from_str::<Outer>(&pretty).unwrap(), &o, "pretty {:?}", pretty);
        let tree = jsv::to_value(&o).unwrap();
        prop_assert_eq!(&jsv::from_value::<Outer>(tree.clone()).unwrap(), &o);
        prop_assert_eq!(&Outer::deserialize(&tree).unwrap(), &o);
        let via_value: Value = jsv::from_str(&out).unwrap();
        prop_assert_eq!(&jsv::from_value::<Outer>(via_value).unwrap(), &o);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "[a-c{}\\[\\],:\" \n]{0,24}") {
        let _ = jsv::from_str::<Value>(&s);
        let _ = jsv::from_str::<Outer>(&s);
        let _ = jsv::from_str::<Vec<Option<Inner>>>(&s);
    }
}
