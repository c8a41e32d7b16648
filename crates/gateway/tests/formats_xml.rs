//! The XML format: DCS layout on the way out, lenient binding on the way in.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use gateway::dto;
use gateway::format::xml::Xml;
use gateway::format::{Format, FormatError, ReadContext, WriteContext};
use gateway::meta::{Dto, DtoType, TypeInfo, TypeMap};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A usage record as Evo Voice publishes it.
#[dto(namespace = "Voice.Api.Dashboard")]
#[derive(Debug, Clone, Default, PartialEq)]
struct UsageRecordInfo {
    account_sid: Option<String>,
    category: Option<String>,
    count: i32,
    count_unit: Option<String>,
    description: Option<String>,
    end_date: Option<String>,
    price: f64,
    price_unit: Option<String>,
    start_date: Option<String>,
    usage: Option<String>,
    usage_unit: Option<String>,
    uri: Option<String>,
}

/// Ordinal order: upper case sorts before lower case.
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq)]
struct Ordered {
    zeta: Option<String>,
    #[dto(name = "id")]
    id: Option<String>,
    alpha: Option<String>,
    response_status: Option<ResponseStatus>,
}

/// The same members, written in declaration order.
#[dto(namespace = "Voice.Api.Billing", member_order = "declared")]
#[derive(Debug, Clone, Default, PartialEq)]
struct Declared {
    zeta: Option<String>,
    #[dto(name = "id")]
    id: Option<String>,
    alpha: Option<String>,
}

/// ServiceStack's ResponseError.
#[dto(
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared"
)]
#[derive(Debug, Clone, Default, PartialEq)]
struct ResponseError {
    error_code: Option<String>,
    field_name: Option<String>,
    message: Option<String>,
    meta: Option<HashMap<String, String>>,
}

/// ServiceStack's ResponseStatus.
#[dto(
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared"
)]
#[derive(Debug, Clone, Default, PartialEq)]
struct ResponseStatus {
    error_code: Option<String>,
    message: Option<String>,
    stack_trace: Option<String>,
    errors: Vec<ResponseError>,
    meta: Option<HashMap<String, String>>,
}

/// An operation's response with an error.
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq)]
struct SetRateResponse {
    response_status: Option<ResponseStatus>,
}

/// A DTO with every kind of member.
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq)]
struct Rich {
    name: Option<String>,
    tags: Option<Vec<String>>,
    ids: Vec<i64>,
    active: bool,
    price: Option<rust_decimal::Decimal>,
    ratio: f64,
    child: Option<Child>,
    children: Vec<Child>,
    labels: HashMap<String, String>,
}

/// A nested DTO in the same namespace.
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq)]
struct Child {
    code: Option<String>,
    amount: i32,
}

/// A request DTO like NewBillable.
#[dto(namespace = "Voice.Api.Billing", route("/billables", "POST"))]
#[derive(Debug, Clone, Default, PartialEq)]
struct NewBillable {
    account_id: Option<String>,
    customer_id: Option<String>,
    session_id: Option<String>,
    call_sid: Option<String>,
}

const DECL: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;
const XSI: &str = r#"xmlns:i="http://www.w3.org/2001/XMLSchema-instance""#;

fn write<T: Serialize + DtoType>(value: &T, pretty: bool) -> String {
    let root = T::type_ref();
    let mut types = TypeMap::new();
    types.add_ref(&root);
    let ctx = WriteContext {
        types: &types,
        root: Some(&root),
        operation: "Op",
        pretty,
    };
    let mut out = Vec::new();
    Xml.write(value, &ctx, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn read_with(
    body: &str,
    target: &'static TypeInfo,
    max_depth: usize,
    max_items: usize,
) -> Result<jsv::Value, FormatError> {
    let mut types = TypeMap::new();
    types.add(target);
    let ctx = ReadContext {
        types: &types,
        target,
        max_depth,
        max_items,
    };
    Xml.read(body.as_bytes(), &ctx).expect("xml reads bodies")
}

fn bind<T: Dto + DeserializeOwned>(body: &str) -> T {
    let tree = read_with(body, T::type_info(), 32, 1000).unwrap();
    jsv::from_value(tree).unwrap()
}

#[test]
fn a_list_of_usage_records_is_an_array_of_usage_record_info() {
    let records = vec![UsageRecordInfo {
        account_sid: Some("AC1".into()),
        category: Some("calls".into()),
        count: 3,
        price: 1.5,
        uri: Some("/u".into()),
        usage: Some("120".into()),
        ..Default::default()
    }];
    let want = format!(
        "{DECL}<ArrayOfUsageRecordInfo {XSI} xmlns=\"http://schemas.datacontract.org/2004/07/Voice.Api.Dashboard\">\
         <UsageRecordInfo><AccountSid>AC1</AccountSid><Category>calls</Category><Count>3</Count>\
         <CountUnit i:nil=\"true\" /><Description i:nil=\"true\" /><EndDate i:nil=\"true\" /><Price>1.5</Price>\
         <PriceUnit i:nil=\"true\" /><StartDate i:nil=\"true\" /><Uri>/u</Uri><Usage>120</Usage>\
         <UsageUnit i:nil=\"true\" /></UsageRecordInfo></ArrayOfUsageRecordInfo>"
    );
    assert_eq!(write(&records, false), want);
    let empty: Vec<UsageRecordInfo> = Vec::new();
    assert_eq!(
        write(&empty, false),
        format!(
            "{DECL}<ArrayOfUsageRecordInfo {XSI} xmlns=\"http://schemas.datacontract.org/2004/07/Voice.Api.Dashboard\" />"
        )
    );
}

#[test]
fn pretty_output_is_indented_without_declaration() {
    let records = vec![UsageRecordInfo {
        account_sid: Some("String".into()),
        ..Default::default()
    }];
    let text = write(&records, true);
    assert!(text.starts_with(&format!(
        "<ArrayOfUsageRecordInfo {XSI} xmlns=\"http://schemas.datacontract.org/2004/07/Voice.Api.Dashboard\">\n  <UsageRecordInfo>\n    <AccountSid>String</AccountSid>\n    <Category i:nil=\"true\" />\n"
    )));
    assert!(text.ends_with(
        "    <UsageUnit i:nil=\"true\" />\n  </UsageRecordInfo>\n</ArrayOfUsageRecordInfo>"
    ));
}

#[test]
fn members_are_ordinal_unless_declared() {
    let o = Ordered {
        zeta: Some("z".into()),
        id: Some("1".into()),
        alpha: Some("a".into()),
        response_status: None,
    };
    let text = write(&o, false);
    let body = text.split_once("Billing\">").unwrap().1;
    assert_eq!(
        body,
        "<Alpha>a</Alpha><ResponseStatus xmlns:d2p1=\"http://schemas.servicestack.net/types\" i:nil=\"true\" />\
         <Zeta>z</Zeta><id>1</id></Ordered>"
    );
    let d = Declared {
        zeta: Some("z".into()),
        id: None,
        alpha: Some("a".into()),
    };
    let text = write(&d, false);
    assert!(
        text.ends_with("<Zeta>z</Zeta><id i:nil=\"true\" /><Alpha>a</Alpha></Declared>"),
        "{text}"
    );
}

#[test]
fn nil_and_collection_members() {
    let r = Rich {
        name: None,
        tags: None,
        ids: vec![1, 2],
        active: true,
        price: Some("1.50".parse().unwrap()),
        ratio: 0.1,
        child: Some(Child {
            code: Some("a<b&c>".into()),
            amount: 0,
        }),
        children: vec![Child {
            code: None,
            amount: 7,
        }],
        labels: HashMap::from([("k".to_string(), "v".to_string())]),
    };
    let text = write(&r, false);
    let arrays = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";
    let want = format!(
        "<Active>true</Active><Child><Amount>0</Amount><Code>a&lt;b&amp;c&gt;</Code></Child>\
         <Children><Child><Amount>7</Amount><Code i:nil=\"true\" /></Child></Children>\
         <Ids xmlns:d2p1=\"{arrays}\"><d2p1:long>1</d2p1:long><d2p1:long>2</d2p1:long></Ids>\
         <Labels xmlns:d2p1=\"{arrays}\"><d2p1:KeyValueOfstringstring><d2p1:Key>k</d2p1:Key><d2p1:Value>v</d2p1:Value></d2p1:KeyValueOfstringstring></Labels>\
         <Name i:nil=\"true\" /><Price>1.50</Price><Ratio>0.1</Ratio>\
         <Tags xmlns:d2p1=\"{arrays}\" i:nil=\"true\" /></Rich>"
    );
    assert_eq!(text.split_once("Billing\">").unwrap().1, want);
}

#[test]
fn response_status_errors_are_in_the_servicestack_namespace() {
    let resp = SetRateResponse {
        response_status: Some(ResponseStatus {
            error_code: Some("NotEmpty".into()),
            message: Some("'Category' must not be empty.".into()),
            stack_trace: None,
            errors: vec![ResponseError {
                error_code: Some("NotEmpty".into()),
                field_name: Some("Category".into()),
                message: Some("'Category' must not be empty.".into()),
                meta: None,
            }],
            meta: None,
        }),
    };
    let want = format!(
        "{DECL}<SetRateResponse {XSI} xmlns=\"http://schemas.datacontract.org/2004/07/Voice.Api.Billing\">\
         <ResponseStatus xmlns:d2p1=\"http://schemas.servicestack.net/types\">\
         <d2p1:ErrorCode>NotEmpty</d2p1:ErrorCode><d2p1:Message>'Category' must not be empty.</d2p1:Message>\
         <d2p1:StackTrace i:nil=\"true\" /><d2p1:Errors><d2p1:ResponseError><d2p1:ErrorCode>NotEmpty</d2p1:ErrorCode>\
         <d2p1:FieldName>Category</d2p1:FieldName><d2p1:Message>'Category' must not be empty.</d2p1:Message>\
         <d2p1:Meta xmlns:d5p1=\"http://schemas.microsoft.com/2003/10/Serialization/Arrays\" i:nil=\"true\" />\
         </d2p1:ResponseError></d2p1:Errors>\
         <d2p1:Meta xmlns:d3p1=\"http://schemas.microsoft.com/2003/10/Serialization/Arrays\" i:nil=\"true\" />\
         </ResponseStatus></SetRateResponse>"
    );
    assert_eq!(write(&resp, false), want);
}

#[test]
fn input_binds_in_any_order_with_any_or_no_namespaces() {
    let want = NewBillable {
        account_id: Some("AC1".into()),
        customer_id: Some("c1".into()),
        session_id: None,
        call_sid: Some("CA1".into()),
    };
    // What a C# client sends: ordinal order, the DTO's namespace.
    let dcs = r#"<?xml version="1.0" encoding="utf-8"?><NewBillable xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.datacontract.org/2004/07/Voice.Api.Billing"><AccountId>AC1</AccountId><CallSid>CA1</CallSid><CustomerId>c1</CustomerId><SessionId i:nil="true" /></NewBillable>"#;
    assert_eq!(bind::<NewBillable>(dcs), want);
    // Prefixed, another namespace, any order, any case.
    let prefixed = r#"<a:NewBillable xmlns:a="urn:whatever">
        <a:callSid>CA1</a:callSid>
        <a:customerid>c1</a:customerid>
        <a:ACCOUNTID>AC1</a:ACCOUNTID>
    </a:NewBillable>"#;
    assert_eq!(bind::<NewBillable>(prefixed), want);
    // No namespace at all, and an unknown member.
    let bare = "<NewBillable><CustomerId>c1</CustomerId><Extra><X>1</X></Extra><CallSid>CA1</CallSid><AccountId>AC1</AccountId></NewBillable>";
    assert_eq!(bind::<NewBillable>(bare), want);
    // Escapes, CDATA and an empty element.
    let escaped = "<NewBillable><AccountId>a&amp;b&lt;&#x41;</AccountId><CallSid><![CDATA[<raw>]]></CallSid><CustomerId/></NewBillable>";
    let got = bind::<NewBillable>(escaped);
    assert_eq!(got.account_id.as_deref(), Some("a&b<A"));
    assert_eq!(got.call_sid.as_deref(), Some("<raw>"));
    assert_eq!(got.customer_id.as_deref(), Some(""));
}

#[test]
fn written_xml_reads_back() {
    let r = Rich {
        name: Some("n".into()),
        tags: Some(vec!["x".into(), "y, z".into()]),
        ids: vec![1, 2],
        active: true,
        price: Some("2.50".parse().unwrap()),
        ratio: 1.25,
        child: Some(Child {
            code: Some("c".into()),
            amount: 4,
        }),
        children: vec![
            Child {
                code: Some("d".into()),
                amount: 5,
            },
            Child {
                code: None,
                amount: 6,
            },
        ],
        labels: HashMap::from([("k".to_string(), "v".to_string())]),
    };
    let text = write(&r, false);
    assert_eq!(bind::<Rich>(&text), r);
    let pretty = write(&r, true);
    assert_eq!(bind::<Rich>(&pretty), r);
    // A single item still reads as a list, and an empty list element as an empty list.
    let one = "<Rich><Children><Child><Amount>1</Amount></Child></Children><Ids/><Tags><string>t</string></Tags></Rich>";
    let got = bind::<Rich>(one);
    assert_eq!(
        got.children,
        vec![Child {
            code: None,
            amount: 1
        }]
    );
    assert_eq!(got.tags, Some(vec!["t".to_string()]));
    assert!(got.ids.is_empty());
}

#[test]
fn doctype_and_entities_are_refused() {
    let target = NewBillable::type_info();
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><NewBillable><AccountId>&x;</AccountId></NewBillable>"#;
    let err = read_with(xxe, target, 32, 1000).unwrap_err();
    assert!(err.message.contains("DOCTYPE"), "{err:?}");
    let laughs = r#"<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><NewBillable>&lol2;</NewBillable>"#;
    assert!(read_with(laughs, target, 32, 1000).is_err());
    // An undeclared entity is an error, not an expansion.
    assert!(
        read_with(
            "<NewBillable><AccountId>&foo;</AccountId></NewBillable>",
            target,
            32,
            1000
        )
        .is_err()
    );
}

#[test]
fn limits_and_malformed_input() {
    let target = NewBillable::type_info();
    let deep = format!(
        "<NewBillable>{}{}</NewBillable>",
        "<a>".repeat(40),
        "</a>".repeat(40)
    );
    let err = read_with(&deep, target, 32, 1000).unwrap_err();
    assert!(err.message.contains("deeper"), "{err:?}");
    assert!(read_with(&deep, target, 64, 1000).is_ok());
    let wide = format!(
        "<NewBillable><AccountId>{}</AccountId></NewBillable>",
        "<s>1</s>".repeat(11)
    );
    assert!(read_with(&wide, target, 32, 10).is_err());

    let err = read_with(
        "<NewBillable>\n  <AccountId>x</CallSid>\n</NewBillable>",
        target,
        32,
        1000,
    )
    .unwrap_err();
    assert_eq!(err.line, 2, "{err:?}");
    assert!(err.column > 0);
    let err = read_with("<NewBillable><AccountId>x</AccountId>", target, 32, 1000).unwrap_err();
    assert!(err.message.contains("not closed"), "{err:?}");
    assert!(read_with("", target, 32, 1000).is_err());
    assert!(read_with("<A/><B/>", target, 32, 1000).is_err());
    assert!(read_with("<A/>junk", target, 32, 1000).is_err());
    assert!(read_with("\u{feff}<NewBillable/>", target, 32, 1000).is_ok());
    // Never a panic, whatever the bytes.
    for body in [
        &b"\xff\xfe<"[..],
        b"<",
        b"<a",
        b"<a b=>",
        b"</a>",
        b"<a><b></a></b>",
        b"<![CDATA[x]]>",
        b"<?xml?>",
    ] {
        let mut types = TypeMap::new();
        types.add(target);
        let ctx = ReadContext {
            types: &types,
            target,
            max_depth: 8,
            max_items: 8,
        };
        assert!(Xml.read(body, &ctx).unwrap().is_err(), "{body:?}");
    }
}

#[test]
fn nil_root_reads_as_null() {
    let v = read_with(
        r#"<NewBillable xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true" />"#,
        NewBillable::type_info(),
        8,
        8,
    )
    .unwrap();
    assert_eq!(v, jsv::Value::Null);
}

/// ServiceStack's `ErrorResponse` shape, as the pipeline writes an error body.
#[dto(
    xml_namespace = "http://schemas.servicestack.net/types",
    member_order = "declared"
)]
#[derive(Debug, Clone, Default, PartialEq)]
struct ErrorBody {
    response_status: Option<ResponseStatus>,
}

/// An envelope response with a `ResponseStatus`.
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default, PartialEq)]
struct ListChildrenResponse {
    items: Vec<Child>,
    total_count: i32,
    response_status: Option<ResponseStatus>,
}

#[test]
fn an_error_body_written_as_the_operation_response() {
    let body = ErrorBody {
        response_status: Some(ResponseStatus {
            error_code: Some("NotFound".into()),
            message: Some("x".into()),
            ..Default::default()
        }),
    };
    let root = ListChildrenResponse::type_ref();
    let mut types = TypeMap::new();
    types.add_ref(&root);
    let ctx = WriteContext {
        types: &types,
        root: Some(&root),
        operation: "ListChildren",
        pretty: false,
    };
    let mut out = Vec::new();
    Xml.write(&body, &ctx, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("<ListChildrenResponse xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"http://schemas.datacontract.org/2004/07/Voice.Api.Billing\"><Items i:nil=\"true\" /><ResponseStatus xmlns:d2p1=\"http://schemas.servicestack.net/types\"><d2p1:ErrorCode>NotFound</d2p1:ErrorCode>"),
        "{text}"
    );
    assert!(
        text.ends_with("</ResponseStatus><TotalCount>0</TotalCount></ListChildrenResponse>"),
        "{text}"
    );
}

/// A tiny deterministic generator, so the robustness tests need no extra crate.
fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *seed >> 33
}

#[test]
fn arbitrary_bodies_never_panic() {
    const PIECES: &[&str] = &[
        "<",
        ">",
        "/",
        "</",
        "/>",
        "<NewBillable>",
        "</NewBillable>",
        "<AccountId>",
        "</AccountId>",
        "<a:x xmlns:a=\"u\">",
        "</a:x>",
        " i:nil=\"true\"",
        "&amp;",
        "&",
        "&#x0;",
        "&#xD800;",
        "<![CDATA[",
        "]]>",
        "<!--",
        "-->",
        "<?xml version=\"1.0\"?>",
        "<!DOCTYPE",
        "text",
        " ",
        "\n",
        "\"",
        "=",
        "é",
        "\u{0}",
    ];
    let target = NewBillable::type_info();
    let mut types = TypeMap::new();
    types.add(target);
    let ctx = ReadContext {
        types: &types,
        target,
        max_depth: 6,
        max_items: 6,
    };
    let mut seed = 42;
    for _ in 0..20_000 {
        let n = (lcg(&mut seed) % 24) as usize;
        let body: String = (0..n)
            .map(|_| PIECES[(lcg(&mut seed) as usize) % PIECES.len()])
            .collect();
        let _ = Xml.read(body.as_bytes(), &ctx).unwrap();
    }
}

#[test]
fn arbitrary_values_are_written() {
    // Untyped values (no TypeInfo at all) still produce well-formed XML.
    let value = serde_json::json!({"a": [1, 2.5, null, {"b": "x<y"}], "c": {"d": true}, "e": []});
    let mut out = Vec::new();
    let types = TypeMap::new();
    let ctx = WriteContext {
        types: &types,
        root: None,
        operation: "Any",
        pretty: false,
    };
    Xml.write(&value, &ctx, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("x&lt;y"), "{text}");
    // It parses back.
    let target = NewBillable::type_info();
    let mut types = TypeMap::new();
    types.add(target);
    let rctx = ReadContext {
        types: &types,
        target,
        max_depth: 16,
        max_items: 16,
    };
    assert!(Xml.read(text.as_bytes(), &rctx).unwrap().is_ok(), "{text}");
}
