//! Auto-batched requests: `Op[]`.

use crate::support::{base, client, header, json};

#[actix_rt::test]
async fn batches_answer_an_array_and_count_completions() {
    let items = serde_json::json!([{"name": "a"}, {"name": "b", "count": 2}]);
    for path in [
        "/api/Echo[]",
        "/api/Echo%5B%5D",
        "/json/reply/Echo[]",
        "/json/reply/echo%5b%5d",
    ] {
        let res = client()
            .post(format!("{}{path}", base()))
            .json(&items)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(header(&res, "x-autobatch-completed"), "2", "{path}");
        let body = json(res).await;
        let names: Vec<&str> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"], "{path}");
    }
}

#[actix_rt::test]
async fn a_batch_stops_at_the_first_failure() {
    let items = serde_json::json!([{"kind": "ok"}, {"kind": "notfound"}, {"kind": "ok"}]);
    let res = client()
        .post(format!("{}/api/Fail[]", base()))
        .json(&items)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(header(&res, "x-autobatch-completed"), "1");
    let body = json(res).await;
    assert_eq!(body["responseStatus"]["errorCode"], "NotFound");
    assert_eq!(body["responseStatus"]["meta"]["AutoBatchIndex"], "1");
}

#[actix_rt::test]
async fn batches_hold_at_most_1000_items() {
    let ok: Vec<serde_json::Value> = (0..1000).map(|i| serde_json::json!({"count": i})).collect();
    let res = client()
        .post(format!("{}/api/Echo[]", base()))
        .json(&ok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "x-autobatch-completed"), "1000");
    let too_many: Vec<serde_json::Value> =
        (0..1001).map(|i| serde_json::json!({"count": i})).collect();
    let res = client()
        .post(format!("{}/api/Echo[]", base()))
        .json(&too_many)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(json(res).await["responseStatus"]["errorCode"].is_string());
}

#[actix_rt::test]
async fn batches_in_other_formats() {
    let items = serde_json::json!([{"name": "a"}, {"name": "b"}]);
    let res = client()
        .post(format!("{}/api/Echo[].xml", base()))
        .json(&items)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("<ArrayOfEchoResponse"), "{text}");
    let res = client()
        .post(format!("{}/api/Echo.csv[]", base()))
        .json(&items)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().lines().count() >= 3);
}

#[actix_rt::test]
async fn a_batch_of_void_operations_is_204_with_the_count() {
    let items = serde_json::json!([{}, {"note": "x"}, {}]);
    let res = client()
        .post(format!("{}/api/Ping[]", base()))
        .json(&items)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(header(&res, "x-autobatch-completed"), "3");
}

#[actix_rt::test]
async fn a_batch_needs_an_array() {
    let res = client()
        .post(format!("{}/api/Echo[]", base()))
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(header(&res, "x-autobatch-completed"), "0");
}
