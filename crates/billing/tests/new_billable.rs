//! NewBillable (domain.md 4.6, decisions.md 27): every step's errors, idempotency under
//! concurrency, and durability across reopening.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use billing::dto::*;
use billing::store::{BillableFilter, EvoSession, Page};
use billing::{BillingService, BillingStore, SqliteStore};
use chrono::{NaiveDate, Utc};
use common::*;

fn may() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(2024, 5, 1).unwrap(),
        NaiveDate::from_ymd_opt(2024, 5, 31).unwrap(),
    )
}

fn billables(store: &dyn BillingStore, account_id: &str) -> Vec<billing::store::Billable> {
    let (start, end) = may();
    let filter = BillableFilter {
        account_id: account_id.into(),
        customer_id: None,
        start,
        end,
    };
    store
        .list_billables(
            &filter,
            Page {
                offset: 0,
                limit: 1000,
            },
        )
        .unwrap()
        .0
}

fn by_session(session_id: &str, call: &str) -> NewBillable {
    NewBillable {
        session_id: Some(session_id.into()),
        call_sid: Some(call.into()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billables_are_rated_and_stored() {
    let f = fixture();
    let ex = worked_example(&f).await;
    let rows = billables(&**f.svc.store(), &ex.account.id);
    assert_eq!(rows.len(), 4);
    let get = |n: u32| rows.iter().find(|b| b.call_sid == call_sid(n)).unwrap();
    let b1 = get(1);
    assert_eq!(
        (
            b1.category.as_str(),
            b1.billed,
            b1.billed_minutes,
            b1.price.to_plain_string(),
            b1.unit_price.to_plain_string()
        ),
        (
            "calls-inbound-local",
            true,
            2,
            "0.017".into(),
            "0.0085".into()
        )
    );
    assert_eq!(b1.usage_date, NaiveDate::from_ymd_opt(2024, 5, 1).unwrap());
    assert_eq!(b1.price_unit, "usd");
    assert_eq!(b1.created_by, "sysadmin");
    let b4 = get(4);
    assert_eq!(
        (b4.billed, b4.billed_minutes, b4.price.to_plain_string()),
        (false, 0, "0".into())
    );
    let listed = f
        .svc
        .list_billables(
            ListBillables {
                account_id: Some(ex.account.id.clone()),
                start_date: Some("2024-05-01".into()),
                end_date: Some("2024-05-31".into()),
                page: Some(1),
                page_size: Some(3),
                ..Default::default()
            },
            admin(),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            listed.items.len(),
            listed.total_count,
            listed.total_pages,
            listed.has_more_pages
        ),
        (3, 4, 2, true)
    );
    assert_eq!(listed.items[0].call_sid, call_sid(1));
    assert_eq!(
        serde_json::to_value(&listed.items[0]).unwrap()["price"],
        serde_json::json!(0.017)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_step_fails_with_its_status_and_field() {
    let f = fixture();
    let ex = worked_example(&f).await;
    let (a, c) = (ex.account.id.as_str(), ex.customer.id.as_str());
    let svc = &f.svc;
    let other = account(&f, "Other", OTHER_SID).await;
    let other_customer = customer(&f, &other.id, "Elsewhere", None).await;
    import(
        &f,
        vec![
            twilio_call(
                &call_sid(10),
                ACCOUNT_SID,
                "+1",
                "+2",
                "inbound",
                "in-progress",
                "2024-05-03T00:00:00Z",
                None,
            ),
            twilio_call(
                &call_sid(11),
                ACCOUNT_SID,
                "+1",
                "+2",
                "inbound",
                "completed",
                "2024-05-03T00:00:00Z",
                None,
            ),
            twilio_call(
                &call_sid(12),
                OTHER_SID,
                "+1",
                "+2",
                "inbound",
                "completed",
                "2024-05-03T00:00:00Z",
                Some("5"),
            ),
            twilio_call(
                &call_sid(13),
                ACCOUNT_SID,
                "+1",
                "+2",
                "outbound-api",
                "completed",
                "2024-05-03T00:00:00Z",
                Some("5"),
            ),
            twilio_call(
                &call_sid(14),
                ACCOUNT_SID,
                "+1",
                "+2",
                "inbound",
                "queued",
                "2024-05-03T00:00:00Z",
                None,
            ),
            twilio_call(
                &call_sid(15),
                ACCOUNT_SID,
                "+1",
                "+2",
                "inbound",
                "ringing",
                "2024-05-03T00:00:00Z",
                None,
            ),
        ],
    )
    .await
    .unwrap();

    // Step 2: the call SID.
    let mut req = bill(a, c, "");
    req.call_sid = None;
    assert_err(
        svc.new_billable(req, admin()).await,
        400,
        "ArgumentException",
        Some("CallSid"),
    );
    assert_err(
        svc.new_billable(bill(a, c, "  "), admin()).await,
        400,
        "ArgumentException",
        Some("CallSid"),
    );
    for bad in [
        "CA123",
        "XX0123456789abcdef0123456789abcdef",
        "CA0123456789abcdef0123456789abcdeg",
    ] {
        assert_err(
            svc.new_billable(bill(a, c, bad), admin()).await,
            400,
            "ArgumentException",
            Some("CallSid"),
        );
    }
    // Step 2 comes before step 3.
    let req = NewBillable {
        call_sid: Some("bad".into()),
        ..Default::default()
    };
    assert_err(
        svc.new_billable(req, admin()).await,
        400,
        "ArgumentException",
        Some("CallSid"),
    );

    // Step 3: an owner.
    let sid1 = call_sid(1);
    let only_account = NewBillable {
        account_id: Some(a.into()),
        call_sid: Some(sid1.clone()),
        ..Default::default()
    };
    let e = assert_err(
        svc.new_billable(only_account, admin()).await,
        400,
        "ArgumentException",
        Some("SessionId"),
    );
    assert_eq!(
        e.message(),
        "You must specify either SessionId or AccountId + CustomerId"
    );
    let nothing = NewBillable {
        call_sid: Some(sid1.clone()),
        ..Default::default()
    };
    assert_err(
        svc.new_billable(nothing, admin()).await,
        400,
        "ArgumentException",
        Some("SessionId"),
    );

    // Step 4: the owner exists and is consistent.
    assert_err(
        svc.new_billable(by_session("nope", &sid1), admin()).await,
        404,
        "NotFound",
        None,
    );
    f.svc
        .store()
        .create_evo_session(&EvoSession {
            id: "no-customer".into(),
            account_id: a.into(),
            customer_id: None,
            call_sid: None,
            channel: "Voice".into(),
            from_address: None,
            to_address: None,
            date_created: Utc::now(),
        })
        .unwrap();
    assert_err(
        svc.new_billable(by_session("no-customer", &sid1), admin())
            .await,
        400,
        "ArgumentException",
        Some("SessionId"),
    );
    let s = svc
        .new_session(
            NewSession {
                id: Some("sess-1".into()),
                account_id: Some(a.into()),
                customer_id: Some(c.into()),
                ..Default::default()
            },
            admin(),
        )
        .await
        .unwrap();
    let mut mismatch = by_session(&s.id, &call_sid(13));
    mismatch.account_id = Some(other.id.clone());
    assert_err(
        svc.new_billable(mismatch, admin()).await,
        400,
        "ArgumentException",
        Some("AccountId"),
    );
    let mut mismatch = by_session(&s.id, &call_sid(13));
    mismatch.customer_id = Some(other_customer.id.clone());
    assert_err(
        svc.new_billable(mismatch, admin()).await,
        400,
        "ArgumentException",
        Some("CustomerId"),
    );
    assert_err(
        svc.new_billable(bill("nope", c, &sid1), admin()).await,
        404,
        "NotFound",
        None,
    );
    assert_err(
        svc.new_billable(bill(a, "nope", &sid1), admin()).await,
        404,
        "NotFound",
        None,
    );
    assert_err(
        svc.new_billable(bill(a, &other_customer.id, &sid1), admin())
            .await,
        400,
        "ArgumentException",
        Some("CustomerId"),
    );

    // Step 5: access.
    let manager = user(
        &**f.svc.store(),
        "m@example.com",
        &["Manager"],
        &[&other.id],
    );
    assert_err(
        svc.new_billable(bill(a, c, &call_sid(13)), manager.clone())
            .await,
        403,
        "Forbidden",
        None,
    );
    let plain = user(&**f.svc.store(), "u@example.com", &["User"], &[a]);

    // Step 6: the call exists and belongs to the account.
    let e = assert_err(
        svc.new_billable(bill(a, c, &call_sid(99)), admin()).await,
        404,
        "NotFound",
        None,
    );
    assert_eq!(e.message(), format!("Call {} not found", call_sid(99)));
    assert_err(
        svc.new_billable(bill(a, c, &call_sid(12)), admin()).await,
        400,
        "ArgumentException",
        Some("CallSid"),
    );

    // Step 7: idempotency; same owner is a no-op, any difference a conflict.
    svc.new_billable(bill(a, c, &sid1), admin()).await.unwrap();
    let second = customer(&f, a, "Second", None).await;
    assert_err(
        svc.new_billable(bill(a, &second.id, &sid1), admin()).await,
        409,
        "Conflict",
        None,
    );
    assert_err(
        svc.new_billable(by_session(&s.id, &sid1), admin()).await,
        409,
        "Conflict",
        None,
    );
    assert_eq!(billables(&**f.svc.store(), a).len(), 4);

    // Step 8: finished calls only.
    for n in [10, 14, 15] {
        let e = assert_err(
            svc.new_billable(bill(a, c, &call_sid(n)), admin()).await,
            400,
            "ArgumentException",
            Some("CallSid"),
        );
        assert!(e.message().contains("has not finished"), "{e}");
    }
    assert_err(
        svc.new_billable(bill(a, c, &call_sid(11)), admin()).await,
        400,
        "ArgumentException",
        Some("CallSid"),
    );

    // Any authenticated user linked to the account may report; via the session.
    svc.new_billable(by_session(&s.id, &call_sid(13)), plain.clone())
        .await
        .unwrap();
    svc.new_billable(by_session(&s.id, &call_sid(13)), plain)
        .await
        .unwrap();
    let row = f
        .svc
        .store()
        .get_billable_by_call(&call_sid(13))
        .unwrap()
        .unwrap();
    assert_eq!(row.session_id.as_deref(), Some("sess-1"));
    assert_err(
        svc.new_billable(bill(a, c, &call_sid(13)), admin()).await,
        409,
        "Conflict",
        None,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_rate_is_a_400() {
    let f = fixture();
    let a = account(&f, "Acme", ACCOUNT_SID).await;
    let c = customer(&f, &a.id, "C", None).await;
    import(
        &f,
        vec![twilio_call(
            &call_sid(1),
            ACCOUNT_SID,
            "+1",
            "+2",
            "outbound-api",
            "completed",
            "2024-05-03T00:00:00Z",
            Some("5"),
        )],
    )
    .await
    .unwrap();
    f.raw()
        .execute("DELETE FROM rates WHERE category = 'calls-outbound'", [])
        .unwrap();
    assert_err(
        f.svc
            .new_billable(bill(&a.id, &c.id, &call_sid(1)), admin())
            .await,
        400,
        "NoRate",
        None,
    );
}

/// Step 7 (idempotency) answers before steps 8 and 9: a billed call reported again keeps its
/// answer even when rating it anew would now fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_billed_call_stays_idempotent_after_its_rate_is_gone() {
    let f = fixture();
    let a = account(&f, "Acme", ACCOUNT_SID).await;
    let c = customer(&f, &a.id, "C", None).await;
    let other = customer(&f, &a.id, "D", None).await;
    import(
        &f,
        vec![twilio_call(
            &call_sid(1),
            ACCOUNT_SID,
            "+1",
            "+2",
            "outbound-api",
            "completed",
            "2024-05-03T00:00:00Z",
            Some("5"),
        )],
    )
    .await
    .unwrap();
    f.svc
        .new_billable(bill(&a.id, &c.id, &call_sid(1)), admin())
        .await
        .unwrap();
    f.raw()
        .execute("DELETE FROM rates WHERE category = 'calls-outbound'", [])
        .unwrap();
    // Same owner: still a success, and still one row.
    f.svc
        .new_billable(bill(&a.id, &c.id, &call_sid(1)), admin())
        .await
        .unwrap();
    // Another owner: the conflict, not the missing rate.
    assert_err(
        f.svc
            .new_billable(bill(&a.id, &other.id, &call_sid(1)), admin())
            .await,
        409,
        "Conflict",
        None,
    );
    assert_eq!(billables(f.store.as_ref(), &a.id).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_reports_of_one_call_leave_one_row() {
    let f = fixture();
    let a = account(&f, "Acme", ACCOUNT_SID).await;
    let c1 = customer(&f, &a.id, "One", None).await;
    let c2 = customer(&f, &a.id, "Two", None).await;
    import(
        &f,
        vec![
            twilio_call(
                &call_sid(1),
                ACCOUNT_SID,
                "+1",
                "+2",
                "inbound",
                "completed",
                "2024-05-03T00:00:00Z",
                Some("61"),
            ),
            twilio_call(
                &call_sid(2),
                ACCOUNT_SID,
                "+1",
                "+2",
                "inbound",
                "completed",
                "2024-05-03T00:00:00Z",
                Some("61"),
            ),
        ],
    )
    .await
    .unwrap();
    let svc = Arc::new(f.svc);

    // Same owner: all 50 succeed.
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (svc, req) = (svc.clone(), bill(&a.id, &c1.id, &call_sid(1)));
            tokio::spawn(async move { svc.new_billable(req, admin()).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }

    // Two owners race: exactly one row; its owner's requests succeed, the others get 409.
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let customer = if i % 2 == 0 { &c1.id } else { &c2.id };
            let (svc, req) = (svc.clone(), bill(&a.id, customer, &call_sid(2)));
            let customer = customer.clone();
            tokio::spawn(async move { (customer, svc.new_billable(req, admin()).await) })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let row = svc
        .store()
        .get_billable_by_call(&call_sid(2))
        .unwrap()
        .unwrap();
    for (customer, r) in &results {
        if *customer == row.customer_id {
            assert!(r.is_ok(), "{r:?}");
        } else {
            assert_eq!(r.as_ref().unwrap_err().status(), 409);
        }
    }

    let rows = billables(&**svc.store(), &a.id);
    assert_eq!(rows.len(), 2);
    let usage = svc
        .store()
        .usage_by_category(&a.id, may().0, may().1)
        .unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (
            usage[0].count,
            usage[0].billed_minutes,
            usage[0].price.to_plain_string()
        ),
        (2, 4, "0.034".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_calls_at_once_are_group_committed_and_all_kept() {
    let f = fixture();
    let a = account(&f, "Acme", ACCOUNT_SID).await;
    let c = customer(&f, &a.id, "C", None).await;
    let calls = (1..=200)
        .map(|n| {
            twilio_call(
                &call_sid(n),
                ACCOUNT_SID,
                "+1",
                "+2",
                "outbound-api",
                "completed",
                "2024-05-03T00:00:00Z",
                Some("59"),
            )
        })
        .collect();
    import(&f, calls).await.unwrap();
    let svc = Arc::new(f.svc);
    let tasks: Vec<_> = (1..=200)
        .map(|n| {
            let (svc, req) = (svc.clone(), bill(&a.id, &c.id, &call_sid(n)));
            tokio::spawn(async move { svc.new_billable(req, admin()).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let usage = svc
        .store()
        .usage_by_category(&a.id, may().0, may().1)
        .unwrap();
    assert_eq!(
        (
            usage[0].count,
            usage[0].billed_minutes,
            usage[0].price.to_plain_string()
        ),
        (200, 200, "2.6".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billables_survive_reopening_the_store() {
    let f = fixture();
    let ex = worked_example(&f).await;
    let path = f.db_path();
    let dir = f.dir;
    drop(f.svc);
    drop(f.store);

    let store: Arc<dyn BillingStore> = Arc::new(SqliteStore::open(&path).unwrap());
    let rows = billables(&*store, &ex.account.id);
    assert_eq!(rows.len(), 4);
    let svc = BillingService::new(store);
    let r = svc
        .list_usage_records(
            ListUsageRecords {
                account_id: Some(ex.account.id.clone()),
                start_date: Some("2024-05-01".into()),
                end_date: Some("2024-05-31".into()),
            },
            admin(),
        )
        .await
        .unwrap();
    assert_eq!(r.len(), 6);
    assert_eq!(r[5].price.to_plain_string(), "0.096");
    // Reporting again after the restart is still a no-op.
    svc.new_billable(bill(&ex.account.id, &ex.customer.id, &call_sid(1)), admin())
        .await
        .unwrap();
    drop(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_billables_filters_and_validates() {
    let f = fixture();
    let ex = worked_example(&f).await;
    let other = account(&f, "Other", OTHER_SID).await;
    let oc = customer(&f, &other.id, "OC", None).await;
    let second = customer(&f, &ex.account.id, "Second", None).await;
    let req = |customer: Option<&str>, start: Option<&str>, end: Option<&str>| ListBillables {
        account_id: Some(ex.account.id.clone()),
        customer_id: customer.map(str::to_string),
        start_date: start.map(str::to_string),
        end_date: end.map(str::to_string),
        ..Default::default()
    };
    let svc = &f.svc;
    let all = svc
        .list_billables(req(None, Some("2024-05-01"), Some("2024-05-31")), admin())
        .await
        .unwrap();
    assert_eq!(
        (all.total_count, all.total_pages, all.has_more_pages),
        (4, 1, false)
    );
    let mine = svc
        .list_billables(
            req(
                Some(&ex.customer.id),
                Some("2024-05-01"),
                Some("2024-05-10"),
            ),
            admin(),
        )
        .await
        .unwrap();
    assert_eq!(
        mine.items
            .iter()
            .map(|b| b.call_sid.clone())
            .collect::<Vec<_>>(),
        [call_sid(1), call_sid(2)]
    );
    let none = svc
        .list_billables(
            req(Some(&second.id), Some("2024-05-01"), Some("2024-05-31")),
            admin(),
        )
        .await
        .unwrap();
    assert_eq!(
        (none.total_count, none.total_pages, none.items.len()),
        (0, 0, 0)
    );
    // Defaults: this month up to "today" (2024-05-20).
    let default = svc
        .list_billables(req(None, None, None), admin())
        .await
        .unwrap();
    assert_eq!(default.total_count, 3);
    assert_err(
        svc.list_billables(req(Some(&oc.id), None, None), admin())
            .await,
        400,
        "ArgumentException",
        Some("CustomerId"),
    );
    assert_err(
        svc.list_billables(req(Some("nope"), None, None), admin())
            .await,
        404,
        "NotFound",
        None,
    );
    assert_err(
        svc.list_billables(req(None, Some("2024-5-1"), None), admin())
            .await,
        400,
        "ArgumentException",
        Some("StartDate"),
    );
    let manager = user(
        &**f.svc.store(),
        "m@example.com",
        &["Manager"],
        &[&other.id],
    );
    assert_err(
        svc.list_billables(req(None, None, None), manager).await,
        403,
        "Forbidden",
        None,
    );
}
