//! The HTML format: a readable, self-contained, escaped page of any response.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gateway::dto;
use gateway::format::html::Html;
use gateway::format::{Format, ReadContext, WriteContext};
use gateway::meta::{Dto, DtoType, TypeMap};
use serde::Serialize;

/// A customer row.
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default)]
struct CustomerInfo {
    id: Option<String>,
    name: Option<String>,
    tags: Vec<String>,
}

/// A list envelope.
#[dto(namespace = "Voice.Api.Billing")]
#[derive(Debug, Clone, Default)]
struct ListCustomersResponse {
    items: Vec<CustomerInfo>,
    total_count: i32,
    owner: Option<CustomerInfo>,
}

fn page<T: Serialize + DtoType>(value: &T, operation: &str) -> String {
    let root = T::type_ref();
    let mut types = TypeMap::new();
    types.add_ref(&root);
    let ctx = WriteContext {
        types: &types,
        root: Some(&root),
        operation,
        pretty: false,
    };
    let mut out = Vec::new();
    Html.write(value, &ctx, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn everything_is_escaped() {
    let evil = "<script>alert('x')</script>";
    let resp = ListCustomersResponse {
        items: vec![CustomerInfo {
            id: Some("1".into()),
            name: Some(evil.into()),
            tags: vec![evil.into()],
        }],
        total_count: 1,
        owner: Some(CustomerInfo {
            id: Some("\"><img src=x>".into()),
            ..Default::default()
        }),
    };
    let html = page(&resp, "<script>Op</script>");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("<title>&lt;script&gt;Op&lt;/script&gt;</title>"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing is fetched from elsewhere"
    );
}

#[test]
fn objects_and_lists_are_tables() {
    let resp = ListCustomersResponse {
        items: vec![
            CustomerInfo {
                id: Some("c1".into()),
                name: Some("Acme".into()),
                tags: vec!["gold".into()],
            },
            CustomerInfo {
                id: Some("c2".into()),
                name: None,
                tags: vec![],
            },
        ],
        total_count: 2,
        owner: None,
    };
    let html = page(&resp, "ListCustomers");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>ListCustomers</title>"));
    assert!(html.contains("<h1>ListCustomers</h1>"));
    // C# names in declaration order; the list is one table with a header row.
    assert!(
        html.contains("<tr><th>Id</th><th>Name</th><th>Tags</th></tr>"),
        "{html}"
    );
    assert!(
        html.contains("<td>c1</td><td>Acme</td><td><ul><li>gold</li></ul></td>"),
        "{html}"
    );
    assert!(html.contains("<th>TotalCount</th><td>2</td>"), "{html}");
    let items = html.find("<th>Items</th>").unwrap();
    let total = html.find("<th>TotalCount</th>").unwrap();
    assert!(items < total);
}

#[test]
fn write_only_format() {
    assert_eq!(Html.content_type(), "text/html; charset=utf-8");
    let types = TypeMap::new();
    let ctx = ReadContext {
        types: &types,
        target: CustomerInfo::type_info(),
        max_depth: 8,
        max_items: 8,
    };
    assert!(Html.read(b"<html/>", &ctx).is_none());
    let list = vec![1, 2, 3];
    assert!(page(&list, "Numbers").contains("<ul><li>1</li><li>2</li><li>3</li></ul>"));
}
