//! The operator API (domain.md 4.8, decisions.md 27): rates and their resolution, users, and
//! the Manager's limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use billing::Money;
use billing::dto::*;
use billing::service::resolve_rate;
use common::*;

fn rate(account: Option<&str>, customer: Option<&str>, category: &str, price: &str) -> SetRate {
    SetRate {
        account_id: account.map(str::to_string),
        customer_id: customer.map(str::to_string),
        category: Some(category.into()),
        unit_price: Some(price.parse().unwrap()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rates_resolve_customer_then_parents_then_account_then_default() {
    let f = fixture();
    let a = account(&f, "Acme", ACCOUNT_SID).await;
    let parent = customer(&f, &a.id, "Parent", None).await;
    let child = customer(&f, &a.id, "Child", Some(&parent.id)).await;
    let store = &**f.svc.store();
    let price = |cid: &str| {
        resolve_rate(store, &a.id, cid, "calls-outbound")
            .unwrap()
            .unit_price
            .to_plain_string()
    };

    assert_eq!(price(&child.id), "0.013");
    f.svc
        .set_rate(rate(Some(&a.id), None, "calls-outbound", "0.02"), admin())
        .await
        .unwrap();
    assert_eq!(price(&child.id), "0.02");
    f.svc
        .set_rate(
            rate(Some(&a.id), Some(&parent.id), "calls-outbound", "0.03"),
            admin(),
        )
        .await
        .unwrap();
    assert_eq!(price(&child.id), "0.03");
    assert_eq!(price(&parent.id), "0.03");
    f.svc
        .set_rate(
            rate(Some(&a.id), Some(&child.id), "calls-outbound", "0.04"),
            admin(),
        )
        .await
        .unwrap();
    assert_eq!(price(&child.id), "0.04");
    assert_eq!(price(&parent.id), "0.03");
    // Other categories still fall through to the default.
    assert_eq!(
        resolve_rate(store, &a.id, &child.id, "calls-inbound-local")
            .unwrap()
            .unit_price
            .to_plain_string(),
        "0.0085"
    );
    // A new default applies where nothing overrides it.
    f.svc
        .set_rate(rate(None, None, "calls-inbound-local", "0.0095"), admin())
        .await
        .unwrap();
    assert_eq!(
        resolve_rate(store, &a.id, &child.id, "calls-inbound-local")
            .unwrap()
            .unit_price
            .to_plain_string(),
        "0.0095"
    );

    // Billables snapshot the resolved rate; later changes do not alter them.
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
            Some("121"),
        )],
    )
    .await
    .unwrap();
    f.svc
        .new_billable(bill(&a.id, &child.id, &call_sid(1)), admin())
        .await
        .unwrap();
    f.svc
        .set_rate(
            rate(Some(&a.id), Some(&child.id), "calls-outbound", "1"),
            admin(),
        )
        .await
        .unwrap();
    let b = f
        .svc
        .store()
        .get_billable_by_call(&call_sid(1))
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            b.billed_minutes,
            b.unit_price.to_plain_string(),
            b.price.to_plain_string()
        ),
        (3, "0.04".into(), "0.12".into())
    );

    // Setting the same scope again updates the row in place.
    let listed = f
        .svc
        .list_rates(
            ListRates {
                account_id: Some(a.id.clone()),
                ..Default::default()
            },
            admin(),
        )
        .await
        .unwrap();
    assert_eq!(listed.total_count, 4 + 3);
    let child_rows: Vec<_> = listed
        .items
        .iter()
        .filter(|r| r.customer_id.as_deref() == Some(child.id.as_str()))
        .collect();
    assert_eq!(child_rows.len(), 1);
    assert_eq!(child_rows[0].unit_price.to_plain_string(), "1");
    let defaults = f
        .svc
        .list_rates(ListRates::default(), admin())
        .await
        .unwrap();
    assert_eq!(defaults.total_count, 4);
    assert!(defaults.items.iter().all(|r| r.account_id.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_rate_validates_and_limits_managers() {
    let f = fixture();
    let a = account(&f, "Acme", ACCOUNT_SID).await;
    let other = account(&f, "Other", OTHER_SID).await;
    let c = customer(&f, &a.id, "C", None).await;
    let oc = customer(&f, &other.id, "OC", None).await;
    let manager = user(&**f.svc.store(), "m@example.com", &["Manager"], &[&a.id]);
    let svc = &f.svc;

    for rollup in ["calls", "calls-inbound", "totalprice"] {
        assert_err(
            svc.set_rate(rate(None, None, rollup, "0.1"), admin()).await,
            400,
            "ArgumentException",
            Some("Category"),
        );
    }
    assert_err(
        svc.set_rate(rate(None, None, "sms", "0.1"), admin()).await,
        400,
        "ArgumentException",
        Some("Category"),
    );
    assert_err(
        svc.set_rate(rate(None, None, "calls-outbound", "-0.01"), admin())
            .await,
        400,
        "ArgumentException",
        Some("UnitPrice"),
    );
    assert_err(
        svc.set_rate(rate(None, None, "calls-outbound", "0.0000001"), admin())
            .await,
        400,
        "ArgumentException",
        Some("UnitPrice"),
    );
    let mut missing = rate(None, None, "calls-outbound", "1");
    missing.unit_price = None;
    assert_err(
        svc.set_rate(missing, admin()).await,
        400,
        "ArgumentException",
        Some("UnitPrice"),
    );

    // Manager: not defaults, not account rates, only customers of their accounts.
    assert_err(
        svc.set_rate(rate(None, None, "calls-outbound", "0.1"), manager.clone())
            .await,
        403,
        "Forbidden",
        None,
    );
    assert_err(
        svc.set_rate(
            rate(Some(&a.id), None, "calls-outbound", "0.1"),
            manager.clone(),
        )
        .await,
        403,
        "Forbidden",
        None,
    );
    assert_err(
        svc.set_rate(
            rate(Some(&other.id), Some(&oc.id), "calls-outbound", "0.1"),
            manager.clone(),
        )
        .await,
        403,
        "Forbidden",
        None,
    );
    assert_err(
        svc.set_rate(
            rate(Some(&a.id), Some(&oc.id), "calls-outbound", "0.1"),
            manager.clone(),
        )
        .await,
        400,
        "ArgumentException",
        Some("CustomerId"),
    );
    let r = svc
        .set_rate(
            rate(Some(&a.id), Some(&c.id), "calls-outbound", "0.123456"),
            manager.clone(),
        )
        .await
        .unwrap();
    assert_eq!(
        (r.account_id.as_deref(), r.customer_id.as_deref()),
        (Some(a.id.as_str()), Some(c.id.as_str()))
    );
    assert_eq!(r.unit_price.to_plain_string(), "0.123456");
    // The account is implied by the customer.
    svc.set_rate(
        rate(None, Some(&c.id), "calls-client", "0"),
        manager.clone(),
    )
    .await
    .unwrap();
    assert_err(
        svc.list_rates(
            ListRates {
                account_id: Some(other.id.clone()),
                ..Default::default()
            },
            manager,
        )
        .await,
        403,
        "Forbidden",
        None,
    );

    // unitPrice arrives as a JSON number or a string.
    let from_number: SetRate =
        serde_json::from_str(r#"{"category":"calls-outbound","unitPrice":0.0085}"#).unwrap();
    assert_eq!(
        from_number.unit_price,
        Some("0.0085".parse::<Money>().unwrap())
    );
    let from_string: SetRate =
        serde_json::from_str(r#"{"category":"calls-outbound","unitPrice":"0.0085"}"#).unwrap();
    assert_eq!(from_string.unit_price, from_number.unit_price);
    assert!(serde_json::from_str::<SetRate>(r#"{"unitPrice":"abc"}"#).is_err());
    let info = serde_json::to_value(&r).unwrap();
    assert_eq!(info["unitPrice"], serde_json::json!(0.123456));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_user_hashes_and_limits_managers() {
    let f = fixture();
    let a = account(&f, "Acme", ACCOUNT_SID).await;
    let other = account(&f, "Other", OTHER_SID).await;
    let manager = user(&**f.svc.store(), "m@example.com", &["Manager"], &[&a.id]);
    let svc = &f.svc;
    let req = |email: &str, roles: &[&str], accounts: &[&str]| NewUser {
        email_address: Some(email.into()),
        password: Some("correct horse".into()),
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        account_ids: accounts.iter().map(|r| r.to_string()).collect(),
    };

    assert_err(
        svc.new_user(
            req("x@example.com", &["SystemAdministrator"], &[&a.id]),
            manager.clone(),
        )
        .await,
        403,
        "Forbidden",
        None,
    );
    assert_err(
        svc.new_user(req("x@example.com", &["Admin"], &[]), manager.clone())
            .await,
        403,
        "Forbidden",
        None,
    );
    assert_err(
        svc.new_user(
            req("x@example.com", &["Manager"], &[&other.id]),
            manager.clone(),
        )
        .await,
        403,
        "Forbidden",
        None,
    );
    assert_err(
        svc.new_user(
            req("x@example.com", &["Manager"], &["nope"]),
            manager.clone(),
        )
        .await,
        404,
        "NotFound",
        None,
    );
    assert_err(
        svc.new_user(req("not-an-email", &[], &[]), admin()).await,
        400,
        "ArgumentException",
        Some("EmailAddress"),
    );
    let mut no_password = req("x@example.com", &[], &[]);
    no_password.password = None;
    assert_err(
        svc.new_user(no_password, admin()).await,
        400,
        "ArgumentException",
        Some("Password"),
    );

    let info = svc
        .new_user(
            req("Agent@Example.com", &["Manager", "User"], &[&a.id]),
            manager.clone(),
        )
        .await
        .unwrap();
    assert_eq!(info.email_address, "Agent@Example.com");
    assert_eq!(info.roles, ["Manager", "User"]);
    assert_eq!(info.account_ids, vec![a.id.clone()]);
    assert_eq!(info.account_names, ["Acme"]);
    let store = f.svc.store();
    let stored = store
        .find_user_by_name("agent@example.COM")
        .unwrap()
        .unwrap();
    assert_eq!(stored.id, info.id);
    assert!(
        stored
            .password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        stored.password_hash
    );
    assert_eq!(store.user_roles(&info.id).unwrap(), ["Manager", "User"]);
    assert_eq!(
        store.user_account_ids(&info.id).unwrap(),
        vec![a.id.clone()]
    );

    // The same address in any case is a conflict.
    assert_err(
        svc.new_user(req("agent@example.com", &[], &[]), admin())
            .await,
        409,
        "Conflict",
        None,
    );
    // A SystemAdministrator may grant anything.
    let sa = svc
        .new_user(
            req("root@example.com", &["SystemAdministrator"], &[&other.id]),
            admin(),
        )
        .await
        .unwrap();
    assert_eq!(sa.roles, ["SystemAdministrator"]);

    // Auth status describes the caller.
    let mut session = manager.clone();
    session.user_id = info.id.clone();
    let status = svc
        .get_auth_status(GetAuthStatus {}, session)
        .await
        .unwrap();
    assert_eq!(
        (status.id.as_str(), status.account_names.as_slice()),
        (info.id.as_str(), &["Acme".to_string()][..])
    );
    store
        .set_user_roles(&info.id, &["User".to_string()])
        .unwrap();
    assert_eq!(store.user_roles(&info.id).unwrap(), ["User"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_customers_sessions_and_calls() {
    let f = fixture();
    let svc = &f.svc;
    let a = account(&f, "Acme", ACCOUNT_SID).await;
    assert_eq!((a.price_unit.as_str(), a.id.len()), ("usd", 24));
    assert_err(
        svc.new_account(
            NewAccount {
                name: Some("Dup".into()),
                twilio_account_sid: Some(ACCOUNT_SID.into()),
                price_unit: None,
            },
            admin(),
        )
        .await,
        409,
        "Conflict",
        None,
    );
    let generated = svc
        .new_account(
            NewAccount {
                name: Some("Gen".into()),
                price_unit: Some("EUR".into()),
                ..Default::default()
            },
            admin(),
        )
        .await
        .unwrap();
    assert!(
        generated.twilio_account_sid.starts_with("AC") && generated.twilio_account_sid.len() == 34
    );
    assert_eq!(generated.price_unit, "eur");
    assert_err(
        svc.new_account(NewAccount::default(), admin()).await,
        400,
        "ArgumentException",
        Some("Name"),
    );
    let got = svc
        .get_account(
            GetAccount {
                account_id: Some(a.id.clone()),
            },
            admin(),
        )
        .await
        .unwrap();
    assert_eq!(got, a);
    assert_err(
        svc.get_account(
            GetAccount {
                account_id: Some("x".into()),
            },
            admin(),
        )
        .await,
        404,
        "NotFound",
        None,
    );

    // Customers: parent in the same account; list envelope paging.
    let c = customer(&f, &a.id, "C0", None).await;
    let g = customer(&f, &generated.id, "G", None).await;
    let bad_parent = NewCustomer {
        account_id: Some(a.id.clone()),
        parent_customer_id: Some(g.id.clone()),
        name: Some("X".into()),
        reference_id: None,
    };
    assert_err(
        svc.new_customer(bad_parent, admin()).await,
        400,
        "ArgumentException",
        Some("ParentCustomerId"),
    );
    for i in 1..5 {
        customer(&f, &a.id, &format!("C{i}"), Some(&c.id)).await;
    }
    let page = |p: i64, s: i64| ListCustomers {
        account_id: Some(a.id.clone()),
        page: Some(p),
        page_size: Some(s),
    };
    let p1 = svc.list_customers(page(1, 2), admin()).await.unwrap();
    assert_eq!(
        (
            p1.items.len(),
            p1.total_count,
            p1.total_pages,
            p1.has_more_pages
        ),
        (2, 5, 3, true)
    );
    assert_eq!(p1.items[0].name, "C0");
    let p3 = svc.list_customers(page(3, 2), admin()).await.unwrap();
    assert_eq!((p3.items.len(), p3.has_more_pages), (1, false));
    assert_err(
        svc.list_customers(page(0, 2), admin()).await,
        400,
        "ArgumentException",
        Some("Page"),
    );
    assert_err(
        svc.list_customers(page(1, 1001), admin()).await,
        400,
        "ArgumentException",
        Some("PageSize"),
    );
    let json = serde_json::to_value(&p1).unwrap();
    assert!(
        json.get("items").is_some()
            && json.get("totalCount").is_some()
            && json.get("hasMorePages").is_some()
    );

    // Sessions.
    let s = svc
        .new_session(
            NewSession {
                account_id: Some(a.id.clone()),
                customer_id: Some(c.id.clone()),
                channel: Some("chat".into()),
                date_created: Some("2024-05-01T10:00:00Z".into()),
                ..Default::default()
            },
            admin(),
        )
        .await
        .unwrap();
    assert_eq!(
        (s.channel.as_str(), s.date_created.as_str(), s.id.len()),
        ("Chat", "2024-05-01T10:00:00Z", 24)
    );
    let dup = NewSession {
        id: Some(s.id.clone()),
        account_id: Some(a.id.clone()),
        customer_id: Some(c.id.clone()),
        ..Default::default()
    };
    assert_err(svc.new_session(dup, admin()).await, 409, "Conflict", None);
    let wrong = NewSession {
        account_id: Some(a.id.clone()),
        customer_id: Some(g.id.clone()),
        ..Default::default()
    };
    assert_err(
        svc.new_session(wrong, admin()).await,
        400,
        "ArgumentException",
        Some("CustomerId"),
    );
    let fax = NewSession {
        account_id: Some(a.id.clone()),
        customer_id: Some(c.id.clone()),
        channel: Some("Pigeon".into()),
        ..Default::default()
    };
    assert_err(
        svc.new_session(fax, admin()).await,
        400,
        "ArgumentException",
        Some("Channel"),
    );

    // Calls: snake_case wire names, validation, upsert, and no change once billed.
    let body = format!(
        r#"{{"calls":[{{"sid":"{}","account_sid":"{ACCOUNT_SID}","from":"+15551230001","to":"+15557654321",
            "direction":"inbound","status":"completed","start_time":"Wed, 01 May 2024 10:00:00 +0000",
            "end_time":"Wed, 01 May 2024 10:01:15 +0000","duration":"75","price":"-0.01700","price_unit":"USD",
            "parent_call_sid":null,"api_version":"2010-04-01"}}]}}"#,
        call_sid(1)
    );
    let req: ImportCalls = serde_json::from_str(&body).unwrap();
    assert_eq!(req.calls[0].duration.as_deref(), Some("75"));
    let r = svc.import_calls(req.clone(), admin()).await.unwrap();
    assert_eq!((r.imported, r.updated), (1, 0));
    let r = svc.import_calls(req.clone(), admin()).await.unwrap();
    assert_eq!((r.imported, r.updated), (0, 0));
    let stored = f.svc.store().get_call(&call_sid(1)).unwrap().unwrap();
    assert_eq!(
        stored.start_time.unwrap().to_rfc3339(),
        "2024-05-01T10:00:00+00:00"
    );
    assert_eq!(stored.duration_seconds, Some(75));
    let mut changed = req.clone();
    changed.calls[0].duration = Some("80".into());
    let r = svc.import_calls(changed.clone(), admin()).await.unwrap();
    assert_eq!((r.imported, r.updated), (0, 1));
    svc.new_billable(bill(&a.id, &c.id, &call_sid(1)), admin())
        .await
        .unwrap();
    // Re-importing the identical call is fine; changing a billed call is not.
    svc.import_calls(changed.clone(), admin()).await.unwrap();
    assert_err(svc.import_calls(req, admin()).await, 409, "Conflict", None);

    let bad = |mutate: fn(&mut TwilioCall)| {
        let mut c = twilio_call(
            &call_sid(5),
            ACCOUNT_SID,
            "+1",
            "+2",
            "inbound",
            "completed",
            "2024-05-03T00:00:00Z",
            Some("5"),
        );
        mutate(&mut c);
        ImportCalls { calls: vec![c] }
    };
    assert_err(
        svc.import_calls(bad(|c| c.sid = Some("CA1".into())), admin())
            .await,
        400,
        "ArgumentException",
        Some("Calls[0].Sid"),
    );
    assert_err(
        svc.import_calls(bad(|c| c.direction = Some("up".into())), admin())
            .await,
        400,
        "ArgumentException",
        Some("Calls[0].Direction"),
    );
    assert_err(
        svc.import_calls(bad(|c| c.status = Some("done".into())), admin())
            .await,
        400,
        "ArgumentException",
        Some("Calls[0].Status"),
    );
    assert_err(
        svc.import_calls(bad(|c| c.start_time = Some("soon".into())), admin())
            .await,
        400,
        "ArgumentException",
        Some("Calls[0].StartTime"),
    );
    assert_err(
        svc.import_calls(bad(|c| c.duration = Some("-1".into())), admin())
            .await,
        400,
        "ArgumentException",
        Some("Calls[0].Duration"),
    );
    assert_err(
        svc.import_calls(
            bad(|c| c.account_sid = Some(format!("AC{}", "9".repeat(32)))),
            admin(),
        )
        .await,
        400,
        "ArgumentException",
        Some("Calls[0].AccountSid"),
    );
    assert_err(
        svc.import_calls(ImportCalls::default(), admin()).await,
        400,
        "ArgumentException",
        Some("Calls"),
    );
    let outsider = user(
        &**f.svc.store(),
        "o@example.com",
        &["Manager"],
        &[&generated.id],
    );
    assert_err(
        svc.import_calls(bad(|_| {}), outsider).await,
        403,
        "Forbidden",
        None,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_status_of_a_user_the_store_does_not_hold() {
    let f = fixture();
    let status = f
        .svc
        .get_auth_status(GetAuthStatus {}, admin())
        .await
        .unwrap();
    assert_eq!(status.id, "sysadmin");
    assert_eq!(status.email_address, "admin@example.com");
    assert_eq!(status.roles, ["SystemAdministrator"]);
    assert!(status.account_ids.is_empty() && status.account_names.is_empty());
}
