//! ListUsageRecords (domain.md 4.7): the worked example and every validation path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use billing::dto::*;
use common::*;

fn list(account_id: Option<&str>, start: Option<&str>, end: Option<&str>) -> ListUsageRecords {
    ListUsageRecords {
        account_id: account_id.map(str::to_string),
        start_date: start.map(str::to_string),
        end_date: end.map(str::to_string),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worked_example_matches_domain_4_7() {
    let f = fixture();
    let ex = worked_example(&f).await;
    let records = f
        .svc
        .list_usage_records(
            list(Some(&ex.account.id), Some("2024-05-01"), Some("2024-05-31")),
            admin(),
        )
        .await
        .unwrap();

    // (category, count, countUnit, usage, usageUnit, price, description)
    let expected = [
        ("calls", 3, "calls", "6", "minutes", "0.096", "Total Calls"),
        (
            "calls-inbound",
            2,
            "calls",
            "5",
            "minutes",
            "0.083",
            "Inbound Voice Minutes",
        ),
        (
            "calls-inbound-local",
            1,
            "calls",
            "2",
            "minutes",
            "0.017",
            "Inbound Local Voice Minutes",
        ),
        (
            "calls-inbound-tollfree",
            1,
            "calls",
            "3",
            "minutes",
            "0.066",
            "Inbound Toll-Free Voice Minutes",
        ),
        (
            "calls-outbound",
            1,
            "calls",
            "1",
            "minutes",
            "0.013",
            "Outbound Voice Minutes",
        ),
        ("totalprice", 0, "", "0.096", "usd", "0.096", "Total Price"),
    ];
    assert_eq!(records.len(), expected.len());
    for (r, (category, count, count_unit, usage, usage_unit, price, description)) in
        records.iter().zip(expected)
    {
        assert_eq!(r.category, category);
        assert_eq!(r.count, count, "{category}");
        assert_eq!(r.count_unit, count_unit, "{category}");
        assert_eq!(r.usage, usage, "{category}");
        assert_eq!(r.usage_unit, usage_unit, "{category}");
        assert_eq!(r.price.to_plain_string(), price, "{category}");
        assert_eq!(r.price.value(), price.parse().unwrap(), "{category}");
        assert_eq!(r.description, description);
        assert_eq!(r.account_sid, ACCOUNT_SID);
        assert_eq!(r.price_unit, "usd");
        assert_eq!(r.start_date, "2024-05-01");
        assert_eq!(r.end_date, "2024-05-31");
        assert_eq!(
            r.uri,
            format!(
                "/2010-04-01/Accounts/{ACCOUNT_SID}/Usage/Records.json?Category={category}&StartDate=2024-05-01&EndDate=2024-05-31"
            )
        );
    }

    // On the wire: count an integer, price a number, usage a string, keys in declaration order.
    let json = serde_json::to_string(&records[0]).unwrap();
    assert_eq!(
        json,
        format!(
            r#"{{"accountSid":"{ACCOUNT_SID}","category":"calls","count":3,"countUnit":"calls","description":"Total Calls","endDate":"2024-05-31","price":0.096,"priceUnit":"usd","startDate":"2024-05-01","usage":"6","usageUnit":"minutes","uri":"/2010-04-01/Accounts/{ACCOUNT_SID}/Usage/Records.json?Category=calls&StartDate=2024-05-01&EndDate=2024-05-31"}}"#
        )
    );
    let total = serde_json::to_value(&records[5]).unwrap();
    assert_eq!(total["count"], serde_json::json!(0));
    assert_eq!(total["usage"], serde_json::json!("0.096"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_are_inclusive_whole_utc_days() {
    let f = fixture();
    let ex = worked_example(&f).await;
    let id = Some(ex.account.id.as_str());
    // Only the call of 2024-05-10 23:59:59Z.
    let r = f
        .svc
        .list_usage_records(list(id, Some("2024-05-10"), Some("2024-05-10")), admin())
        .await
        .unwrap();
    let cats: Vec<_> = r.iter().map(|r| r.category.as_str()).collect();
    assert_eq!(
        cats,
        [
            "calls",
            "calls-inbound",
            "calls-inbound-tollfree",
            "totalprice"
        ]
    );
    assert_eq!(r[3].price.to_plain_string(), "0.066");
    // The last day of the range counts (outbound call on 05-31 23:00).
    let r = f
        .svc
        .list_usage_records(list(id, Some("2024-05-31"), Some("2024-05-31")), admin())
        .await
        .unwrap();
    assert_eq!(
        r.iter().map(|r| r.category.as_str()).collect::<Vec<_>>(),
        ["calls", "calls-outbound", "totalprice"]
    );
    // The busy call's day alone: nothing billed.
    let r = f
        .svc
        .list_usage_records(list(id, Some("2024-05-15"), Some("2024-05-15")), admin())
        .await
        .unwrap();
    assert!(r.is_empty());
    // No usage at all.
    let r = f
        .svc
        .list_usage_records(list(id, Some("2024-06-01"), Some("2024-06-30")), admin())
        .await
        .unwrap();
    assert!(r.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_default_to_this_month_until_today() {
    let f = fixture();
    let ex = worked_example(&f).await;
    // Today is 2024-05-20: the range is 2024-05-01..=2024-05-20, which excludes the 05-31 call.
    let r = f
        .svc
        .list_usage_records(list(Some(&ex.account.id), None, None), admin())
        .await
        .unwrap();
    assert!(
        r.iter()
            .all(|r| r.start_date == "2024-05-01" && r.end_date == "2024-05-20")
    );
    assert_eq!(r[0].category, "calls");
    assert_eq!(r[0].count, 2);
    // Only an end date: the start is the first of its month.
    let r = f
        .svc
        .list_usage_records(
            list(Some(&ex.account.id), None, Some("2024-05-31")),
            admin(),
        )
        .await
        .unwrap();
    assert_eq!((r[0].start_date.as_str(), r[0].count), ("2024-05-01", 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_errors_name_the_field() {
    let f = fixture();
    let ex = worked_example(&f).await;
    let id = Some(ex.account.id.as_str());
    let svc = &f.svc;

    // No account and no single linked account.
    assert_err(
        svc.list_usage_records(list(None, None, None), admin())
            .await,
        400,
        "ArgumentException",
        Some("AccountId"),
    );
    for bad in [
        "2024-5-01",
        "20240501",
        "2024-02-30",
        "2024-13-01",
        "yesterday",
        "2024-05-01T00:00:00",
    ] {
        let e = assert_err(
            svc.list_usage_records(list(id, Some(bad), None), admin())
                .await,
            400,
            "ArgumentException",
            Some("StartDate"),
        );
        assert!(e.message().contains("YYYY-MM-DD"), "{e}");
        assert_err(
            svc.list_usage_records(list(id, None, Some(bad)), admin())
                .await,
            400,
            "ArgumentException",
            Some("EndDate"),
        );
    }
    let e = assert_err(
        svc.list_usage_records(list(id, Some("x"), Some("y")), admin())
            .await,
        400,
        "ArgumentException",
        Some("StartDate"),
    );
    assert_eq!(e.errors().len(), 2);
    assert_eq!(e.errors()[1].field_name, "EndDate");
    assert_err(
        svc.list_usage_records(list(id, Some("2024-05-31"), Some("2024-05-01")), admin())
            .await,
        400,
        "ArgumentException",
        Some("StartDate"),
    );
    assert_err(
        svc.list_usage_records(list(Some("nope"), None, None), admin())
            .await,
        404,
        "NotFound",
        None,
    );

    // A Manager reaches only linked accounts; with exactly one, it is the default.
    let other = account(&f, "Other", OTHER_SID).await;
    let manager = user(
        &**f.svc.store(),
        "m@example.com",
        &["Manager"],
        &[&ex.account.id],
    );
    assert_err(
        svc.list_usage_records(list(Some(&other.id), None, None), manager.clone())
            .await,
        403,
        "Forbidden",
        None,
    );
    let r = svc
        .list_usage_records(list(None, Some("2024-05-01"), Some("2024-05-31")), manager)
        .await
        .unwrap();
    assert_eq!(r.len(), 6);
    let two = user(
        &**f.svc.store(),
        "two@example.com",
        &["Manager"],
        &[&ex.account.id, &other.id],
    );
    assert_err(
        svc.list_usage_records(list(None, None, None), two).await,
        400,
        "ArgumentException",
        Some("AccountId"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_minutes_are_apart_from_calls() {
    let f = fixture();
    let a = account(&f, "Acme", ACCOUNT_SID).await;
    let c = customer(&f, &a.id, "C", None).await;
    import(
        &f,
        vec![
            twilio_call(
                &call_sid(1),
                ACCOUNT_SID,
                "client:alice",
                "+15550001",
                "outbound-dial",
                "completed",
                "2024-05-02T10:00:00Z",
                Some("61"),
            ),
            twilio_call(
                &call_sid(2),
                ACCOUNT_SID,
                "+15550002",
                "+15550001",
                "outbound-api",
                "completed",
                "2024-05-02T10:00:00Z",
                Some("0"),
            ),
        ],
    )
    .await
    .unwrap();
    for n in 1..=2 {
        f.svc
            .new_billable(bill(&a.id, &c.id, &call_sid(n)), admin())
            .await
            .unwrap();
    }
    let r = f
        .svc
        .list_usage_records(
            list(Some(&a.id), Some("2024-05-01"), Some("2024-05-31")),
            admin(),
        )
        .await
        .unwrap();
    let summary: Vec<_> = r
        .iter()
        .map(|r| {
            (
                r.category.as_str(),
                r.count,
                r.usage.as_str(),
                r.price.to_plain_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("calls", 1, "1", "0.013".to_string()),
            ("calls-outbound", 1, "1", "0.013".to_string()),
            ("calls-client", 1, "2", "0.008".to_string()),
            ("totalprice", 0, "0.021", "0.021".to_string()),
        ]
    );
}
