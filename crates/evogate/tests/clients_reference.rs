//! Add ServiceStack Reference with the published `@servicestack/cli` 1.0.10, driven by
//! `tests/clients/node/reference.mjs`: `typescript-ref`, `csharp-ref` and `dart-ref` write their
//! files from `/types/{lang}`; the TypeScript one compiles with `tsc --strict`; a program built on
//! it calls ListUsageRecords with `@servicestack/client`; `typescript-ref dtos.ts` updates the
//! file in place, sending the uncommented options back (`?IncludeTypes=ListUsageRecords.*`).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod clients_support;

use std::time::Duration;

use clients_support::{
    Admin, Checks, Client, completed_inbound_call, run_driver, start_server, twilio_sid,
};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servicestack_cli_reference() {
    let server = start_server().await;
    let admin = Admin::login(&server).await;
    let (account_id, account_sid) = admin.new_account("Reference clients").await;
    let customer_id = admin.new_customer(&account_id, "Reference customer").await;
    let call_sid = twilio_sid("CA");
    admin
        .import_calls(vec![completed_inbound_call(&call_sid, &account_sid)])
        .await;
    admin
        .call(
            "POST",
            "NewBillable",
            json!({"accountId": account_id, "customerId": customer_id, "callSid": call_sid}),
        )
        .await;

    let cfg = json!({"user": server.admin_user, "password": server.admin_password, "accountId": account_id});
    let report = run_driver(
        Client::TypeScript,
        "reference",
        &server.base_url,
        &cfg,
        Duration::from_secs(300),
    )
    .await;
    let mut c = Checks::new("@servicestack/cli reference", &report);
    let base_line = format!("BaseUrl: {}", server.base_url);

    for (tool, file) in [
        ("typescriptRef", "typescript"),
        ("csharpRef", "csharp"),
        ("dartRef", "dart"),
    ] {
        c.eq(&format!("/{tool}/exitCode"), 0);
        c.eq(&format!("/{file}/exists"), true);
        c.eq(&format!("/{file}/hasOptions"), true);
        c.eq(&format!("/{file}/baseUrlLine"), base_line.as_str());
        c.non_empty_str(&format!("/{file}/dateLine"));
        c.eq(&format!("/{file}/commentedIncludeTypes"), true);
        c.eq(&format!("/{file}/hasNewBillable"), true);
        c.eq(&format!("/{file}/hasListUsageRecords"), true);
        c.eq(&format!("/{file}/hasUsageRecordInfo"), true);
    }

    // dtos.ts type-checks under --strict
    c.eq("/tscCheck/exitCode", 0);

    // A program compiled against the generated dtos.ts calls ListUsageRecords.
    c.eq("/appCompile/exitCode", 0);
    c.eq("/appRun/exitCode", 0);
    c.check(
        c.at("/appRun/result/userName")
            .as_str()
            .is_some_and(|u| u.eq_ignore_ascii_case(&server.admin_user)),
        || "/appRun: the generated Authenticate should sign the administrator in".into(),
    );
    let records = c
        .at("/appRun/result/records")
        .as_array()
        .cloned()
        .unwrap_or_default();
    let categories: Vec<&str> = records
        .iter()
        .filter_map(|r| r.get("category").and_then(Value::as_str))
        .collect();
    c.check(categories == ["calls", "calls-inbound", "calls-inbound-local", "totalprice"], || {
        format!("/appRun: expected the usage records calls, calls-inbound, calls-inbound-local, totalprice; got {categories:?}")
    });
    if let Some(local) = records
        .iter()
        .find(|r| r.get("category") == Some(&json!("calls-inbound-local")))
    {
        c.check(
            local.get("usage") == Some(&json!("2")) && local.get("count") == Some(&json!(1)),
            || format!("/appRun: calls-inbound-local should be count 1, usage \"2\": {local}"),
        );
    }

    // Update in place: the uncommented option goes back to the server and round-trips.
    c.eq("/optionUncommented", true);
    c.eq("/updateRef/exitCode", 0);
    c.eq("/updated/exists", true);
    c.eq("/updated/markerGone", true);
    c.eq("/updated/baseUrlLine", base_line.as_str());
    c.eq(
        "/updated/includeTypesLine",
        "IncludeTypes: ListUsageRecords.*",
    );
    c.eq("/updated/hasListUsageRecords", true);
    c.eq("/updated/hasUsageRecordInfo", true);
    c.eq("/updated/hasNewBillable", false);
    c.eq("/updatedTscCheck/exitCode", 0);
    c.finish();
}
