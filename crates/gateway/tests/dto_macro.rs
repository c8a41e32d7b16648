//! The `#[dto]` attribute produces the metadata and serde shape the rest of the host relies on.
#![allow(clippy::unwrap_used)]

use gateway::dto;
use gateway::meta::{Dto, Operation, Primitive, ReturnType, TypeRef};

/// A row
#[dto(namespace = "Test.Dtos")]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// The name
    pub name: Option<String>,
    /// How many
    pub count: i64,
    /// Labels
    pub tags: Vec<String>,
}

/// Lists rows
///
/// Second line.
#[dto(
    namespace = "Test.Dtos",
    route("/rows/{accountId}", "GET"),
    verb = "GET",
    response = Vec<Row>,
    implicit_response,
    roles_any("SystemAdministrator", "Manager")
)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListRows {
    /// The account
    #[dto(required)]
    pub account_id: Option<String>,
    /// A call
    pub twilio_call_sid: Option<String>,
}

#[test]
fn type_info_comes_from_the_declaration() {
    let t = ListRows::type_info();
    assert_eq!(t.name, "ListRows");
    assert_eq!(t.namespace, "Test.Dtos");
    assert_eq!(t.description, Some("Lists rows\n\nSecond line."));
    assert_eq!(t.properties.len(), 2);
    let p = &t.properties[0];
    assert_eq!(
        (p.name, p.wire_name, p.description, p.required),
        ("AccountId", "accountId", Some("The account"), true)
    );
    assert!(
        matches!((p.ty)(), TypeRef::Option(inner) if matches!(*inner, TypeRef::Primitive(Primitive::String)))
    );
    assert_eq!(t.properties[1].name, "TwilioCallSid");
    let op = t.operation.as_ref().unwrap();
    assert_eq!(op.routes[0].path, "/rows/{accountId}");
    assert_eq!(op.routes[0].verbs, Some("GET"));
    assert!(op.requires_auth && !op.return_marker);
    assert_eq!(op.any_roles, &["SystemAdministrator", "Manager"]);
    match (op.returns)() {
        ReturnType::Type(TypeRef::List(inner)) => assert_eq!(inner.dto().unwrap().name, "Row"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(Row::type_info().operation.is_none());
    fn response_is_vec_row<T: Operation<Response = Vec<Row>>>() {}
    response_is_vec_row::<ListRows>();
}

#[test]
fn serde_shape_is_camel_case_without_nulls() {
    let r = Row {
        name: None,
        count: 3,
        tags: vec![],
    };
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"count":3,"tags":[]}"#
    );
    let back: Row = serde_json::from_str(r#"{"name":null,"count":2,"tags":null}"#).unwrap();
    assert_eq!(
        back,
        Row {
            name: None,
            count: 2,
            tags: vec![]
        }
    );
    let empty: Row = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, Row::default());
}
