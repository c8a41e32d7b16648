//! `register` adds every operation, and the DTO declarations carry Evo Voice's metadata.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use billing::dto::*;
use gateway::Registry;
use gateway::meta::{Dto, Primitive, ReturnType, TypeRef};

#[test]
fn every_operation_is_registered_once() {
    let f = common::fixture();
    let mut registry = Registry::new();
    billing::register(&mut registry, Arc::new(f.svc));
    let names: Vec<_> = registry.operations().map(|t| t.name).collect();
    assert_eq!(
        names,
        [
            "NewBillable",
            "ListUsageRecords",
            "NewAccount",
            "GetAccount",
            "NewCustomer",
            "ListCustomers",
            "NewUser",
            "GetAuthStatus",
            "ImportCalls",
            "NewSession",
            "SetRate",
            "ListRates",
            "ListBillables",
        ]
    );
    for name in [
        "UsageRecordInfo",
        "TwilioCall",
        "ListBillablesResponse",
        "BillableInfo",
        "RateInfo",
    ] {
        assert!(registry.types().get(name).is_some(), "{name}");
    }
}

#[test]
fn new_billable_matches_the_seed_page() {
    let t = NewBillable::type_info();
    assert_eq!((t.name, t.namespace), ("NewBillable", "Voice.Api.Billing"));
    assert_eq!(t.description, Some("Report/create a new billable"));
    let props: Vec<_> = t
        .properties
        .iter()
        .map(|p| (p.name, p.wire_name, p.description.unwrap()))
        .collect();
    assert_eq!(
        props,
        [
            (
                "AccountId",
                "accountId",
                "The account to associate the billable with"
            ),
            (
                "CustomerId",
                "customerId",
                "The customer to associate the billable with"
            ),
            (
                "SessionId",
                "sessionId",
                "The session ID to associate the billable with. You must specify either this or (AccountId + CustomerID)"
            ),
            ("CallSid", "callSid", "The call SID to report"),
        ]
    );
    let op = t.operation.as_ref().unwrap();
    assert_eq!(
        (op.routes[0].path, op.routes[0].verbs, op.verb),
        ("/billables", Some("POST"), Some("POST"))
    );
    assert!(op.requires_auth && op.any_roles.is_empty());
    assert!(matches!((op.returns)(), ReturnType::Void));
}

#[test]
fn list_usage_records_matches_the_seed_page() {
    let t = ListUsageRecords::type_info();
    assert_eq!(
        (t.name, t.namespace),
        ("ListUsageRecords", "Voice.Api.Dashboard")
    );
    assert_eq!(
        t.description,
        Some("Gets all usage records for specified date range")
    );
    let props: Vec<_> = t
        .properties
        .iter()
        .map(|p| (p.wire_name, p.description.unwrap()))
        .collect();
    assert_eq!(
        props,
        [
            ("accountId", "The account ID you are listing for"),
            (
                "startDate",
                "The start date to retrieve usage records for (YYYY-MM-DD)"
            ),
            (
                "endDate",
                "The end date to retrieve usage records for (YYYY-MM-DD)"
            ),
        ]
    );
    let op = t.operation.as_ref().unwrap();
    assert_eq!(
        (op.routes[0].path, op.routes[0].verbs),
        ("/billing/usage", Some("GET"))
    );
    assert!(op.requires_auth && !op.return_marker);
    assert_eq!(op.any_roles, ["SystemAdministrator", "Manager"]);
    match (op.returns)() {
        ReturnType::Type(TypeRef::List(inner)) => {
            assert_eq!(inner.dto().unwrap().name, "UsageRecordInfo")
        }
        other => panic!("{other:?}"),
    }
    let info = UsageRecordInfo::type_info();
    assert_eq!(info.namespace, "Voice.Api.Dashboard");
    let wire: Vec<_> = info.properties.iter().map(|p| p.wire_name).collect();
    assert_eq!(
        wire,
        [
            "accountSid",
            "category",
            "count",
            "countUnit",
            "description",
            "endDate",
            "price",
            "priceUnit",
            "startDate",
            "usage",
            "usageUnit",
            "uri"
        ]
    );
    assert!(matches!(
        (info.properties[6].ty)(),
        TypeRef::Primitive(Primitive::Decimal)
    ));
    assert!(matches!(
        (info.properties[2].ty)(),
        TypeRef::Primitive(Primitive::Int64)
    ));
    let twilio = TwilioCall::type_info();
    assert!(
        twilio
            .properties
            .iter()
            .any(|p| p.wire_name == "account_sid" && p.name == "AccountSid")
    );
}
