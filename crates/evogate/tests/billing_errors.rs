//! Every validation and error path of `NewBillable` (domain.md 4.6, steps 1-9) and
//! `ListUsageRecords` (4.7) over HTTP against a real evogate (127.0.0.1:0, SQLite file in a temp
//! dir), each checked on the wire: status, reason phrase (decisions.md 15: the error code, or
//! `Invalid Role`), `responseStatus.errorCode`, `message`, and the `fieldName` of every
//! `errors` entry (decisions.md 14, 17); `WWW-Authenticate` on 401 (16). The order of the steps
//! is checked where two failures meet ("first failure wins"). Some error bodies are also read
//! in XML and JSV (JSV with the project's `jsv` crate), and the generic routes
//! (`/api/NewBillable`, `/json/reply/NewBillable`) answer the same errors as the REST route.
//! Also: re-importing a billed call with changes is 409 (4.8), a malformed body is 400 with its
//! line and column, a wrongly typed value 400 `SerializationException` naming the field, and a
//! known path with the wrong verb 405 `MethodNotAllowed` with `Allow` (decisions.md 3, 13, 29).
//!
//! The one fixture not made over HTTP is a call session without a customer, which the
//! operator API cannot create (`NewSession` requires `customerId`): it is written into the
//! same SQLite file with the billing store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod billing_support;
mod common;

use std::sync::Arc;

use billing::BillingStore;
use billing::store::SqliteStore;
use billing_support::{Api, PW, Raw, assert_error, assert_error_containing, raw, sid, twilio_call};
use serde_json::{Value, json};

const UNAUTHORIZED_CHALLENGES: [&str; 2] = [
    r#"credentials realm="/auth/credentials""#,
    r#"Basic realm="/auth/basic""#,
];
const NEITHER: &str = "You must specify either SessionId or AccountId + CustomerId";
const BAD_SID: &str = "CallSid must be 'CA' followed by 32 hexadecimal digits";

/// Two accounts, their customers, calls in every state, a session, and users of every kind.
struct World {
    app: common::TestApp,
    admin: Api,
    /// Account A and its Twilio SID.
    a: String,
    /// Account B.
    b: String,
    /// Customers of A.
    a1: String,
    a2: String,
    /// Customer of B.
    b1: String,
    /// Completed calls of A, none billed yet.
    ok: Vec<String>,
    queued: String,
    ringing: String,
    in_progress: String,
    /// Completed, without a duration.
    no_duration: String,
    /// A completed call of B's Twilio account.
    call_of_b: String,
    /// A session of A for customer a1.
    session: String,
    /// A session of A without a customer.
    session_without_customer: String,
    /// Manager of B only.
    manager_b: Api,
    /// Manager of A and B.
    manager_ab: Api,
    /// Manager of no account.
    manager_none: Api,
    /// Role `User`, linked to A.
    user: Api,
    /// No role at all, linked to A.
    nobody: Api,
}

async fn world() -> World {
    let app = common::spawn_app().await;
    let admin = Api::admin(&app);
    let (sid_a, sid_b) = (sid("AC", 0xa), sid("AC", 0xb));
    let a = admin.create_account("A", &sid_a).await;
    let b = admin.create_account("B", &sid_b).await;
    let a1 = admin.create_customer(&a, "a1").await;
    let a2 = admin.create_customer(&a, "a2").await;
    let b1 = admin.create_customer(&b, "b1").await;
    let ok: Vec<String> = (1..=8).map(|i| sid("CA", 0xa00 + i)).collect();
    let queued = sid("CA", 0xa51);
    let ringing = sid("CA", 0xa52);
    let in_progress = sid("CA", 0xa53);
    let no_duration = sid("CA", 0xa54);
    let call_of_b = sid("CA", 0xb01);
    let (from, to) = ("+14155550100", "+13125550101");
    let mut calls: Vec<Value> = ok
        .iter()
        .map(|c| {
            twilio_call(
                c,
                &sid_a,
                from,
                to,
                "inbound",
                "completed",
                (3, 8),
                Some(61),
            )
        })
        .collect();
    for (c, status) in [
        (&queued, "queued"),
        (&ringing, "ringing"),
        (&in_progress, "in-progress"),
        (&no_duration, "completed"),
    ] {
        calls.push(twilio_call(
            c,
            &sid_a,
            from,
            to,
            "inbound",
            status,
            (3, 9),
            None,
        ));
    }
    admin.import_calls(&calls).await;
    admin
        .import_calls(&[twilio_call(
            &call_of_b,
            &sid_b,
            from,
            to,
            "outbound-api",
            "completed",
            (3, 9),
            Some(10),
        )])
        .await;
    let session = admin.create_session(&a, &a1).await;
    let session_without_customer = format!("{session}-nocust");
    {
        // The operator API cannot create it: write it with the store, beside the server.
        let path = app.db_path();
        let (from, to) = (session.clone(), session_without_customer.clone());
        tokio::task::spawn_blocking(move || {
            let store = Arc::new(SqliteStore::open(&path).unwrap());
            let mut s = store.get_evo_session(&from).unwrap().unwrap();
            s.id = to;
            s.customer_id = None;
            store.create_evo_session(&s).unwrap();
        })
        .await
        .unwrap();
    }
    admin
        .create_user("manager-b@example.com", &["Manager"], &[&b])
        .await;
    admin
        .create_user("manager-ab@example.com", &["Manager"], &[&a, &b])
        .await;
    admin
        .create_user("manager-none@example.com", &["Manager"], &[])
        .await;
    admin
        .create_user("user@example.com", &["User"], &[&a])
        .await;
    admin.create_user("nobody@example.com", &[], &[&a]).await;
    World {
        manager_b: admin.as_user("manager-b@example.com", PW),
        manager_ab: admin.as_user("manager-ab@example.com", PW),
        manager_none: admin.as_user("manager-none@example.com", PW),
        user: admin.as_user("user@example.com", PW),
        nobody: admin.as_user("nobody@example.com", PW),
        app,
        admin,
        a,
        b,
        a1,
        a2,
        b1,
        ok,
        queued,
        ringing,
        in_progress,
        no_duration,
        call_of_b,
        session,
        session_without_customer,
    }
}

fn assert_no_content(r: &Raw) {
    assert_eq!(
        (r.status, r.reason.as_str(), r.body.as_str()),
        (204, "No Content", ""),
        "{r:?}"
    );
}

fn assert_challenges(r: &Raw) {
    assert_eq!(
        r.headers_all("www-authenticate"),
        UNAUTHORIZED_CHALLENGES.to_vec(),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_billable_authentication_and_request_validation() {
    let w = world().await;
    let (a, a1) = (w.a.as_str(), w.a1.as_str());
    let valid = json!({"accountId": a, "customerId": a1, "callSid": w.ok[0]});

    // 1. Anonymous: 401 before anything is read, even a body that would fail validation.
    for body in [valid.to_string(), "{not json".to_string(), "{}".to_string()] {
        let r = raw(
            w.app.port,
            "POST",
            "/billables",
            &[
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
            ],
            Some(&body),
        )
        .await;
        assert_error(
            &r,
            401,
            "Unauthorized",
            "Unauthorized",
            "Not Authenticated",
            &[],
        );
        assert_challenges(&r);
    }
    // A wrong password is no better.
    let r = w
        .admin
        .as_user(common::ADMIN_USER, "wrong password")
        .new_billable(&valid)
        .await;
    assert_eq!(
        (r.status, r.reason.as_str()),
        (401, "Unauthorized"),
        "{r:?}"
    );
    assert_eq!(r.json()["responseStatus"]["errorCode"], "Unauthorized");

    // 2. callSid missing, null or blank; then malformed.
    for body in [
        json!({"accountId": a, "customerId": a1}),
        json!({"accountId": a, "customerId": a1, "callSid": null}),
        json!({"accountId": a, "customerId": a1, "callSid": ""}),
        json!({"accountId": a, "customerId": a1, "callSid": "   "}),
    ] {
        let r = w.admin.new_billable(&body).await;
        assert_error(
            &r,
            400,
            "ArgumentException",
            "ArgumentException",
            "CallSid is required",
            &["CallSid"],
        );
    }
    for bad in [
        "CA123".to_string(),
        format!("CA{}", "g".repeat(32)),
        format!("ca{}", "0".repeat(32)),
        sid("AC", 1),
        format!("{}0", sid("CA", 1)),
        format!(" {}", &sid("CA", 1)[..33]),
    ] {
        let r = w
            .admin
            .new_billable(&json!({"accountId": a, "customerId": a1, "callSid": bad}))
            .await;
        assert_error(
            &r,
            400,
            "ArgumentException",
            "ArgumentException",
            BAD_SID,
            &["CallSid"],
        );
    }
    // The SID is checked before the owner (step 2 before step 3).
    let r = w.admin.new_billable(&json!({"callSid": "CA123"})).await;
    assert_error(
        &r,
        400,
        "ArgumentException",
        "ArgumentException",
        BAD_SID,
        &["CallSid"],
    );

    // 3. Neither a session nor account + customer.
    let c = &w.ok[0];
    for body in [
        json!({"callSid": c}),
        json!({"callSid": c, "accountId": a}),
        json!({"callSid": c, "customerId": a1}),
        json!({"callSid": c, "accountId": a, "customerId": "  "}),
        json!({"callSid": c, "sessionId": "", "accountId": a}),
        json!({"callSid": c, "sessionId": "   "}),
    ] {
        let r = w.admin.new_billable(&body).await;
        assert_error(
            &r,
            400,
            "ArgumentException",
            "ArgumentException",
            NEITHER,
            &["SessionId"],
        );
    }

    // The generic routes answer the same; keys are case-insensitive there too.
    for path in ["/api/NewBillable", "/json/reply/NewBillable"] {
        let r = w
            .admin
            .raw(
                "POST",
                path,
                &[],
                Some(&json!({"AccountId": a, "CUSTOMERID": a1})),
            )
            .await;
        assert_error(
            &r,
            400,
            "ArgumentException",
            "ArgumentException",
            "CallSid is required",
            &["CallSid"],
        );
        let r = w
            .admin
            .raw("POST", path, &[], Some(&json!({"CallSid": c})))
            .await;
        assert_error(
            &r,
            400,
            "ArgumentException",
            "ArgumentException",
            NEITHER,
            &["SessionId"],
        );
    }
    // Nothing was billed.
    assert_eq!(w.admin.billables_may_2024(&w.a).await["totalCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_billable_owner_resolution_and_access() {
    let w = world().await;
    let (a, b, a1, a2, b1) = (
        w.a.as_str(),
        w.b.as_str(),
        w.a1.as_str(),
        w.a2.as_str(),
        w.b1.as_str(),
    );
    let c = w.ok[0].as_str();

    // 4a. With a session.
    let r = w
        .admin
        .new_billable(&json!({"callSid": c, "sessionId": "no-such-session"}))
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        "NotFound",
        "Session no-such-session not found",
        &[],
    );
    let r = w
        .admin
        .new_billable(&json!({"callSid": c, "sessionId": w.session_without_customer}))
        .await;
    assert_error(
        &r,
        400,
        "ArgumentException",
        "ArgumentException",
        &format!("Session {} has no customer", w.session_without_customer),
        &["SessionId"],
    );
    let r = w
        .admin
        .new_billable(&json!({"callSid": c, "sessionId": w.session, "accountId": b}))
        .await;
    assert_error(
        &r,
        400,
        "ArgumentException",
        "ArgumentException",
        "AccountId does not match the session's account",
        &["AccountId"],
    );
    let r = w
        .admin
        .new_billable(
            &json!({"callSid": c, "sessionId": w.session, "accountId": a, "customerId": a2}),
        )
        .await;
    assert_error(
        &r,
        400,
        "ArgumentException",
        "ArgumentException",
        "CustomerId does not match the session's customer",
        &["CustomerId"],
    );
    // An unknown session wins over a body that names a missing account.
    let r = w
        .admin
        .new_billable(&json!({"callSid": c, "sessionId": "nope", "accountId": "nope"}))
        .await;
    assert_eq!(r.status, 404, "{r:?}");

    // 4b. With account + customer.
    let r = w
        .admin
        .new_billable(&json!({"callSid": c, "accountId": "no-such-account", "customerId": a1}))
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        "NotFound",
        "Account no-such-account not found",
        &[],
    );
    let r = w
        .admin
        .new_billable(&json!({"callSid": c, "accountId": a, "customerId": "no-such-customer"}))
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        "NotFound",
        "Customer no-such-customer not found",
        &[],
    );
    let r = w
        .admin
        .new_billable(&json!({"callSid": c, "accountId": a, "customerId": b1}))
        .await;
    assert_error(
        &r,
        400,
        "ArgumentException",
        "ArgumentException",
        &format!("Customer {b1} does not belong to account {a}"),
        &["CustomerId"],
    );

    // 5. Access: a manager of B only, on A, by account or by session; checked before the
    // call is looked up (step 5 before step 6).
    let forbidden = format!("You do not have access to account {a}");
    for body in [
        json!({"callSid": c, "accountId": a, "customerId": a1}),
        json!({"callSid": c, "sessionId": w.session}),
        json!({"callSid": sid("CA", 0xdead), "accountId": a, "customerId": a1}),
    ] {
        let r = w.manager_b.new_billable(&body).await;
        assert_error(&r, 403, "Forbidden", "Forbidden", &forbidden, &[]);
    }
    // Any authenticated user with access may report: a plain `User` and a user with no
    // role at all, linked to A; a manager of A and B; the administrator.
    for (who, c) in [
        (&w.user, &w.ok[0]),
        (&w.nobody, &w.ok[1]),
        (&w.manager_ab, &w.ok[2]),
        (&w.admin, &w.ok[3]),
    ] {
        let r = who
            .new_billable(&json!({"callSid": c, "accountId": a, "customerId": a1}))
            .await;
        assert_no_content(&r);
    }
    // A session resolves the owner on its own.
    let r = w
        .manager_ab
        .new_billable(&json!({"callSid": w.ok[4], "sessionId": w.session}))
        .await;
    assert_no_content(&r);
    // ... and accepts a body that repeats the session's own account and customer.
    let r = w
        .admin
        .new_billable(
            &json!({"callSid": w.ok[5], "sessionId": w.session, "accountId": a, "customerId": a1}),
        )
        .await;
    assert_no_content(&r);
    let page = w.admin.billables_may_2024(&w.a).await;
    assert_eq!(page["totalCount"], 6, "{page}");
    for item in page["items"].as_array().unwrap() {
        assert_eq!(item["customerId"], a1, "{item}");
        let with_session = item["callSid"] == json!(w.ok[4]) || item["callSid"] == json!(w.ok[5]);
        assert_eq!(
            item.get("sessionId"),
            with_session.then(|| json!(w.session)).as_ref(),
            "{item}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_billable_call_checks_and_idempotency() {
    let w = world().await;
    let (a, a1, a2) = (w.a.as_str(), w.a1.as_str(), w.a2.as_str());
    let owner = |c: &str| json!({"callSid": c, "accountId": a, "customerId": a1});

    // 6. The call must exist, and belong to the account's Twilio account.
    let unknown = sid("CA", 0xdead_beef);
    let r = w.admin.new_billable(&owner(&unknown)).await;
    assert_error(
        &r,
        404,
        "NotFound",
        "NotFound",
        &format!("Call {unknown} not found"),
        &[],
    );
    let r = w.admin.new_billable(&owner(&w.call_of_b)).await;
    assert_error(
        &r,
        400,
        "ArgumentException",
        "ArgumentException",
        &format!("Call {} does not belong to account {a}", w.call_of_b),
        &["CallSid"],
    );

    // 8. Unfinished calls, and a completed call without a duration.
    for c in [&w.queued, &w.ringing, &w.in_progress] {
        let r = w.admin.new_billable(&owner(c)).await;
        assert_error(
            &r,
            400,
            "ArgumentException",
            "ArgumentException",
            &format!("Call {c} has not finished"),
            &["CallSid"],
        );
    }
    let r = w.admin.new_billable(&owner(&w.no_duration)).await;
    assert_error(
        &r,
        400,
        "ArgumentException",
        "ArgumentException",
        &format!("Call {} is completed but has no duration", w.no_duration),
        &["CallSid"],
    );
    assert_eq!(w.admin.billables_may_2024(&w.a).await["totalCount"], 0);

    // 7. Idempotency: the same owner again is 204 with no change; another owner is 409.
    let c = w.ok[0].as_str();
    assert_no_content(&w.admin.new_billable(&owner(c)).await);
    let first = w.admin.billables_may_2024(&w.a).await;
    assert_eq!(first["totalCount"], 1, "{first}");
    for _ in 0..3 {
        assert_no_content(&w.admin.new_billable(&owner(c)).await);
    }
    // Reported by another user with access, same owner: still the same billable.
    assert_no_content(&w.user.new_billable(&owner(c)).await);
    let conflict = format!("Call {c} is already billed");
    for other in [
        json!({"callSid": c, "accountId": a, "customerId": a2}),
        json!({"callSid": c, "sessionId": w.session}),
    ] {
        let r = w.admin.new_billable(&other).await;
        assert_error_containing(&r, 409, "Conflict", "Conflict", &conflict, &[]);
    }
    // Billed through a session: the same session again is 204, no session is 409 (null equals
    // null only, decisions.md 27).
    let c = w.ok[1].as_str();
    let by_session = json!({"callSid": c, "sessionId": w.session});
    assert_no_content(&w.admin.new_billable(&by_session).await);
    assert_no_content(&w.admin.new_billable(&by_session).await);
    let r = w.admin.new_billable(&owner(c)).await;
    assert_error_containing(
        &r,
        409,
        "Conflict",
        "Conflict",
        &format!("Call {c} is already billed"),
        &[],
    );
    // A billed call cannot change any more (domain.md 4.8); re-importing it unchanged is fine.
    let sid_a = sid("AC", 0xa);
    let (from, to) = ("+14155550100", "+13125550101");
    let same = twilio_call(
        &w.ok[0],
        &sid_a,
        from,
        to,
        "inbound",
        "completed",
        (3, 8),
        Some(61),
    );
    let (st, body) = w.admin.post("/calls", &json!({"calls": [same]})).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        (body["imported"].as_i64(), body["updated"].as_i64()),
        (Some(0), Some(0))
    );
    let longer = twilio_call(
        &w.ok[0],
        &sid_a,
        from,
        to,
        "inbound",
        "completed",
        (3, 8),
        Some(3600),
    );
    let r = w
        .admin
        .raw("POST", "/calls", &[], Some(&json!({"calls": [longer]})))
        .await;
    assert_eq!((r.status, r.reason.as_str()), (409, "Conflict"), "{r:?}");
    assert_eq!(r.json()["responseStatus"]["errorCode"], "Conflict", "{r:?}");
    // Nothing changed through all of this.
    let after = w.admin.billables_may_2024(&w.a).await;
    assert_eq!(after["totalCount"], 2, "{after}");
    let first_item = &first["items"][0];
    let same = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["callSid"] == first_item["callSid"])
        .unwrap();
    assert_eq!(same, first_item);
    let usage = w.admin.usage_may_2024(&w.a).await;
    assert_eq!(usage[0]["category"], "calls", "{usage}");
    assert_eq!(usage[0]["count"], 2, "{usage}");
    assert_eq!(usage[0]["usage"], "4", "{usage}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_usage_records_errors() {
    let w = world().await;
    let a = w.a.as_str();
    let range = "startDate=2024-05-01&endDate=2024-05-31";
    let usage_a = format!("/billing/usage?accountId={a}&{range}");

    // Anonymous.
    let r = raw(
        w.app.port,
        "GET",
        &usage_a,
        &[("Accept", "application/json")],
        None,
    )
    .await;
    assert_error(
        &r,
        401,
        "Unauthorized",
        "Unauthorized",
        "Not Authenticated",
        &[],
    );
    assert_challenges(&r);

    // Roles: neither `User` nor no role at all reaches it, even for a linked account.
    for who in [&w.user, &w.nobody] {
        for path in [
            usage_a.clone(),
            format!("/api/ListUsageRecords?accountId={a}"),
            "/billing/usage".to_string(),
        ] {
            let r = who.raw("GET", &path, &[], None).await;
            assert_error(&r, 403, "Invalid Role", "Forbidden", "Invalid Role", &[]);
        }
    }

    // accountId omitted: fine with exactly one linked account, else 400.
    for who in [&w.admin, &w.manager_ab, &w.manager_none] {
        let r = who
            .raw("GET", &format!("/billing/usage?{range}"), &[], None)
            .await;
        assert_error(
            &r,
            400,
            "ArgumentException",
            "ArgumentException",
            "AccountId is required",
            &["AccountId"],
        );
    }
    let r = w
        .manager_b
        .raw("GET", &format!("/billing/usage?{range}"), &[], None)
        .await;
    assert_eq!((r.status, r.body.as_str()), (200, "[]"), "{r:?}");

    // Unknown and inaccessible accounts.
    let r = w
        .admin
        .raw(
            "GET",
            &format!("/billing/usage?accountId=no-such-account&{range}"),
            &[],
            None,
        )
        .await;
    assert_error(
        &r,
        404,
        "NotFound",
        "NotFound",
        "Account no-such-account not found",
        &[],
    );
    let r = w.manager_b.raw("GET", &usage_a, &[], None).await;
    assert_error(
        &r,
        403,
        "Forbidden",
        "Forbidden",
        &format!("You do not have access to account {a}"),
        &[],
    );
    let r = w
        .manager_ab
        .raw(
            "GET",
            &format!("/billing/usage?accountId={}&{range}", w.b),
            &[],
            None,
        )
        .await;
    assert_eq!((r.status, r.body.as_str()), (200, "[]"), "{r:?}");

    // Dates: the form YYYY-MM-DD and a real calendar day, each field named.
    for (query, fields) in [
        ("startDate=2024-5-01&endDate=2024-05-31", &["StartDate"][..]),
        ("startDate=20240501&endDate=2024-05-31", &["StartDate"]),
        ("startDate=2024-13-01&endDate=2024-05-31", &["StartDate"]),
        (
            "startDate=2024-05-01T00:00:00&endDate=2024-05-31",
            &["StartDate"],
        ),
        (
            "startDate=May%201%202024&endDate=2024-05-31",
            &["StartDate"],
        ),
        ("startDate=2024-05-01&endDate=2024-02-30", &["EndDate"]),
        ("startDate=2024-05-01&endDate=2023-02-29", &["EndDate"]),
        (
            "startDate=2024-05-01&endDate=%EF%BC%92024-05-31",
            &["EndDate"],
        ),
        ("endDate=yesterday", &["EndDate"]),
        (
            "startDate=2024-00-10&endDate=2024-05-32",
            &["StartDate", "EndDate"],
        ),
    ] {
        let r = w
            .admin
            .raw(
                "GET",
                &format!("/billing/usage?accountId={a}&{query}"),
                &[],
                None,
            )
            .await;
        let first = fields[0];
        let value = query
            .split('&')
            .find_map(|kv| {
                kv.strip_prefix(&format!(
                    "{}{}=",
                    first[..1].to_ascii_lowercase(),
                    &first[1..]
                ))
            })
            .unwrap();
        let value = value
            .replace("%201%20", " 1 ")
            .replace("%EF%BC%92", "\u{ff12}");
        assert_error(
            &r,
            400,
            "ArgumentException",
            "ArgumentException",
            &format!("{first} '{value}' is not a valid date in the form YYYY-MM-DD"),
            fields,
        );
    }
    let r = w
        .admin
        .raw(
            "GET",
            &format!("/billing/usage?accountId={a}&startDate=2024-05-31&endDate=2024-05-01"),
            &[],
            None,
        )
        .await;
    assert_error(
        &r,
        400,
        "ArgumentException",
        "ArgumentException",
        "StartDate must not be after EndDate",
        &["StartDate"],
    );

    // Empty results: a range without billables, a range whose only billable is a busy call,
    // a one-day range, a leap day, and the default range (this month: no usage).
    let r = w.admin.raw("GET", &usage_a, &[], None).await;
    assert_eq!((r.status, r.body.as_str()), (200, "[]"), "{r:?}");
    let busy = sid("CA", 0xb5);
    w.admin
        .import_calls(&[twilio_call(
            &busy,
            &sid("AC", 0xa),
            "+14155550100",
            "+18885550100",
            "inbound",
            "busy",
            (3, 10),
            Some(0),
        )])
        .await;
    assert_no_content(
        &w.admin
            .new_billable(&json!({"callSid": busy, "accountId": a, "customerId": w.a1}))
            .await,
    );
    for query in [
        range.to_string(),
        "startDate=2024-05-03&endDate=2024-05-03".to_string(),
        "startDate=2024-02-29&endDate=2024-02-29".to_string(),
        String::new(),
        "endDate=2024-05-31".to_string(),
    ] {
        let r = w
            .admin
            .raw(
                "GET",
                &format!("/billing/usage?accountId={a}&{query}"),
                &[],
                None,
            )
            .await;
        assert_eq!((r.status, r.body.as_str()), (200, "[]"), "{query}: {r:?}");
    }
    // A billed local inbound call on 3 May (calls, calls-inbound, calls-inbound-local,
    // totalprice) appears in its one-day range and in "endDate=2024-05-31"
    // (startDate defaults to the first of that month), and not in the day after.
    assert_no_content(
        &w.admin
            .new_billable(&json!({"callSid": w.ok[0], "accountId": a, "customerId": w.a1}))
            .await,
    );
    for (query, records) in [
        ("startDate=2024-05-03&endDate=2024-05-03", 4),
        ("endDate=2024-05-31", 4),
        ("startDate=2024-05-04&endDate=2024-05-31", 0),
    ] {
        let (st, body) = w
            .admin
            .get(&format!("/billing/usage?accountId={a}&{query}"))
            .await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body.as_array().unwrap().len(), records, "{query}: {body}");
    }
    let (_, body) = w
        .admin
        .get(&format!("/billing/usage?accountId={a}&endDate=2024-05-31"))
        .await;
    assert_eq!(body[0]["startDate"], "2024-05-01", "{body}");
    assert_eq!(body[0]["endDate"], "2024-05-31", "{body}");
    assert_eq!(body[0]["count"], 1, "busy calls are not counted: {body}");
}

/// Reads `responseStatus` out of a JSV error body: (errorCode, message, fieldNames).
fn jsv_status(text: &str) -> (String, String, Vec<String>) {
    let v: jsv::Value = jsv::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let rs = v.get("responseStatus").unwrap_or_else(|| panic!("{text}"));
    let s = |k: &str| {
        rs.get(k)
            .and_then(jsv::Value::as_str)
            .unwrap_or_else(|| panic!("{k} in {text}"))
            .to_string()
    };
    let fields = rs
        .get("errors")
        .and_then(jsv::Value::as_list)
        .unwrap_or_else(|| panic!("errors in {text}"))
        .iter()
        .map(|e| {
            e.get("fieldName")
                .and_then(jsv::Value::as_str)
                .unwrap_or("")
                .to_string()
        })
        .collect();
    (s("errorCode"), s("message"), fields)
}

/// The positions of `needles` in `xml`, asserting each is present and they come in order.
fn assert_in_order(xml: &str, needles: &[&str]) {
    let mut from = 0;
    for n in needles {
        let at = xml[from..]
            .find(n)
            .unwrap_or_else(|| panic!("{n} after byte {from} in {xml}"));
        from += at + n.len();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_bodies_in_xml_and_jsv() {
    let w = world().await;
    let a = w.a.as_str();
    let missing_sid = json!({"accountId": a, "customerId": w.a1});

    // NewBillable 400 in XML, by Accept and by the suffix of the REST route.
    for (path, accept) in [
        ("/billables", "application/xml"),
        ("/billables.xml", "application/json"),
        ("/xml/reply/NewBillable", "application/json"),
    ] {
        let r = w
            .admin
            .raw("POST", path, &[("Accept", accept)], Some(&missing_sid))
            .await;
        assert_eq!(
            (r.status, r.reason.as_str()),
            (400, "ArgumentException"),
            "{path}: {r:?}"
        );
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("application/xml")),
            "{path}: {r:?}"
        );
        assert!(r.body.starts_with("<?xml"), "{path}: {}", r.body);
        assert_in_order(
            &r.body,
            &[
                "<ResponseStatus",
                "<ErrorCode>ArgumentException</ErrorCode>",
                "<Message>CallSid is required</Message>",
                "<Errors",
                "<ResponseError",
                "<ErrorCode>ArgumentException</ErrorCode>",
                "<FieldName>CallSid</FieldName>",
                "<Message>CallSid is required</Message>",
                "</ResponseError>",
                "</Errors>",
                "</ResponseStatus>",
            ],
        );
    }
    // ... and in JSV.
    for (path, accept) in [
        ("/billables", "text/jsv"),
        ("/billables.jsv", "application/json"),
        ("/billables?format=jsv", "application/json"),
        ("/jsv/reply/NewBillable", "application/json"),
    ] {
        let r = w
            .admin
            .raw("POST", path, &[("Accept", accept)], Some(&missing_sid))
            .await;
        assert_eq!(
            (r.status, r.reason.as_str()),
            (400, "ArgumentException"),
            "{path}: {r:?}"
        );
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("text/jsv")),
            "{path}: {r:?}"
        );
        assert_eq!(
            jsv_status(&r.body),
            (
                "ArgumentException".to_string(),
                "CallSid is required".to_string(),
                vec!["CallSid".to_string()]
            ),
            "{path}: {}",
            r.body
        );
    }
    // A 404 and a 409 in JSV.
    let unknown = sid("CA", 0x404);
    let r = w
        .admin
        .raw(
            "POST",
            "/billables.jsv",
            &[],
            Some(&json!({"accountId": a, "customerId": w.a1, "callSid": unknown})),
        )
        .await;
    assert_eq!((r.status, r.reason.as_str()), (404, "NotFound"), "{r:?}");
    assert_eq!(
        jsv_status(&r.body),
        (
            "NotFound".to_string(),
            format!("Call {unknown} not found"),
            vec![]
        )
    );

    // ListUsageRecords: a role failure and two bad dates, in XML and JSV.
    let r = w
        .user
        .raw(
            "GET",
            &format!("/billing/usage?accountId={a}"),
            &[("Accept", "application/xml")],
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.reason.as_str()),
        (403, "Invalid Role"),
        "{r:?}"
    );
    assert_in_order(
        &r.body,
        &[
            "<ResponseStatus",
            "<ErrorCode>Forbidden</ErrorCode>",
            "<Message>Invalid Role</Message>",
            "</ResponseStatus>",
        ],
    );
    let r = w
        .user
        .raw(
            "GET",
            &format!("/billing/usage.jsv?accountId={a}"),
            &[],
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.reason.as_str()),
        (403, "Invalid Role"),
        "{r:?}"
    );
    assert_eq!(
        jsv_status(&r.body),
        ("Forbidden".to_string(), "Invalid Role".to_string(), vec![])
    );
    let bad_dates = format!("accountId={a}&startDate=2024-02-30&endDate=31/05/2024");
    let r = w
        .admin
        .raw(
            "GET",
            &format!("/billing/usage?{bad_dates}&format=jsv"),
            &[],
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.reason.as_str()),
        (400, "ArgumentException"),
        "{r:?}"
    );
    assert_eq!(
        jsv_status(&r.body),
        (
            "ArgumentException".to_string(),
            "StartDate '2024-02-30' is not a valid date in the form YYYY-MM-DD".to_string(),
            vec!["StartDate".to_string(), "EndDate".to_string()]
        ),
        "{}",
        r.body
    );
    let r = w
        .admin
        .raw("GET", &format!("/billing/usage.xml?{bad_dates}"), &[], None)
        .await;
    assert_eq!(
        (r.status, r.reason.as_str()),
        (400, "ArgumentException"),
        "{r:?}"
    );
    assert_in_order(
        &r.body,
        &[
            "<ErrorCode>ArgumentException</ErrorCode>",
            "<FieldName>StartDate</FieldName>",
            "<FieldName>EndDate</FieldName>",
            "31/05/2024",
        ],
    );
}

/// Malformed bodies, wrong verbs (decisions.md 3, 13, 29).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_and_wrong_verbs() {
    let w = world().await;
    let a = w.a.as_str();
    // A malformed JSON body: 400 naming the line and column.
    let r = raw(
        w.app.port,
        "POST",
        "/billables",
        &[
            ("Authorization", &w.admin.auth),
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ],
        Some("{\n  \"accountId\": \"x\",\n  \"callSid\": }"),
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");
    let body = r.json();
    let message = body["responseStatus"]["message"].as_str().unwrap();
    assert!(
        message.contains("line 3") && message.contains("column"),
        "{r:?}"
    );
    assert_eq!(
        r.reason,
        body["responseStatus"]["errorCode"].as_str().unwrap()
    );
    // A value of the wrong type, named by field.
    let r = w
        .admin
        .new_billable(&json!({"accountId": a, "customerId": w.a1, "callSid": ["CA1"]}))
        .await;
    assert_eq!(
        (r.status, r.reason.as_str()),
        (400, "SerializationException"),
        "{r:?}"
    );
    assert_eq!(
        r.json()["responseStatus"]["errors"][0]["fieldName"],
        "CallSid",
        "{r:?}"
    );
    // Known paths, wrong verbs: 405 with Allow.
    for (method, path, allowed) in [
        ("POST", "/billing/usage", "GET"),
        ("DELETE", "/billables", "POST"),
        ("PUT", "/billing/usage", "GET"),
    ] {
        let r = w.admin.raw(method, path, &[], None).await;
        assert_eq!(
            (r.status, r.reason.as_str()),
            (405, "MethodNotAllowed"),
            "{method} {path}: {r:?}"
        );
        let allow = r.header("allow").unwrap_or_else(|| panic!("Allow: {r:?}"));
        assert!(
            allow.split(',').any(|m| m.trim() == allowed),
            "{method} {path}: {allow}"
        );
        assert_eq!(
            r.json()["responseStatus"]["errorCode"],
            "MethodNotAllowed",
            "{r:?}"
        );
    }
}
