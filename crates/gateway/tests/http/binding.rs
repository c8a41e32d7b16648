//! Binding through the pipeline: precedence on both route kinds, keys, JSV query values.

use crate::support::{base, client, json};

#[actix_rt::test]
async fn rest_route_precedence_body_path_query_form() {
    // Path beats body.
    let res = client()
        .post(format!("{}/echo/7", base()))
        .json(&serde_json::json!({"id": "9", "name": "A"}))
        .send()
        .await
        .unwrap();
    let body = json(res).await;
    assert_eq!(
        (body["id"].as_str(), body["name"].as_str()),
        (Some("7"), Some("A"))
    );
    // Query beats body and path.
    let res = client()
        .post(format!("{}/echo/7?name=Q&id=8", base()))
        .json(&serde_json::json!({"name": "A"}))
        .send()
        .await
        .unwrap();
    let body = json(res).await;
    assert_eq!(
        (body["id"].as_str(), body["name"].as_str()),
        (Some("8"), Some("Q"))
    );
    // Form beats query.
    let res = client()
        .post(format!("{}/echo/7?name=Q", base()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("name=F&count=4")
        .send()
        .await
        .unwrap();
    let body = json(res).await;
    assert_eq!(
        (body["name"].as_str(), body["count"].as_i64()),
        (Some("F"), Some(4))
    );
}

#[actix_rt::test]
async fn generic_route_body_wins_and_query_fills_gaps() {
    let res = client()
        .post(format!("{}/api/Echo?name=Q&nickname=N", base()))
        .json(&serde_json::json!({"name": "A"}))
        .send()
        .await
        .unwrap();
    let body = json(res).await;
    assert_eq!(body["name"], "A");
    assert_eq!(body["nickname"], "N");
    let res = client()
        .post(format!("{}/json/reply/Echo?name=Q", base()))
        .json(&serde_json::json!({"name": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(res).await["name"], "A");
}

#[actix_rt::test]
async fn generic_route_reads_json_whatever_the_content_type() {
    let res = client()
        .post(format!("{}/api/Echo", base()))
        .header("Content-Type", "text/plain")
        .body(r#"{"name":"plain"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await["name"], "plain");
}

#[actix_rt::test]
async fn keys_match_case_insensitively_in_body_and_query() {
    let res = client()
        .post(format!("{}/api/Echo?NICKNAME=n", base()))
        .json(&serde_json::json!({"NAME": "x", "Count": 3, "Active": true}))
        .send()
        .await
        .unwrap();
    let body = json(res).await;
    assert_eq!(body["name"], "x");
    assert_eq!(body["count"], 3);
    assert_eq!(body["active"], true);
    assert_eq!(body["nickname"], "n");
}

#[actix_rt::test]
async fn nulls_and_unknown_keys_are_tolerated() {
    let res = client()
        .post(format!("{}/api/Echo", base()))
        .json(&serde_json::json!({"name": "x", "nickname": null, "ids": null, "count": null, "foo": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = json(res).await;
    assert_eq!(body["ids"], serde_json::json!([]));
    assert!(body.get("nickname").is_none());
}

#[actix_rt::test]
async fn jsv_query_values() {
    for qs in ["ids=1,2,3", "ids=[1,2,3]", "ids=1&ids=2&ids=3"] {
        let res = client()
            .get(format!("{}/echo/1?{qs}", base()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{qs}");
        assert_eq!(json(res).await["ids"], serde_json::json!([1, 2, 3]), "{qs}");
    }
    let res = client()
        .get(format!(
            "{}/echo/1?nested={{a:1,b:x}}&tags=a,b&maybe=true",
            base()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = json(res).await;
    assert_eq!(body["nested"], serde_json::json!({"a": 1, "b": "x"}));
    assert_eq!(body["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(body["maybe"], true);
    let res = client()
        .get(format!(
            "{}/api/Echo?nested=%7Ba:1%7D&ratio=0.25&total=5",
            base()
        ))
        .send()
        .await
        .unwrap();
    let body = json(res).await;
    assert_eq!(body["nested"]["a"], 1);
    assert_eq!(body["ratio"], 0.25);
    assert_eq!(body["total"], 5);
}

#[actix_rt::test]
async fn query_strings_decode_plus_as_space_and_keep_strings_raw() {
    let res = client()
        .get(format!("{}/echo/1?name=a+b%2Bc&nickname=%22q%22", base()))
        .send()
        .await
        .unwrap();
    let body = json(res).await;
    assert_eq!(body["name"], "a b+c");
    assert_eq!(body["nickname"], "\"q\"");
}

#[actix_rt::test]
async fn reserved_query_keys_are_ignored() {
    let res = client()
        .get(format!(
            "{}/echo/1?name=x&format=json&debug=1&jsconfig=x&_=123",
            base()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await["name"], "x");
}

#[actix_rt::test]
async fn a_wrong_type_names_the_field() {
    let res = client()
        .get(format!("{}/echo/1?count=abc", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body = json(res).await;
    let rs = &body["responseStatus"];
    assert_eq!(rs["errorCode"], "SerializationException");
    assert_eq!(rs["errors"][0]["errorCode"], "SerializationException");
    assert_eq!(rs["errors"][0]["fieldName"], "Count");
    assert_eq!(
        rs["errors"][0]["message"],
        "'abc' is an Invalid value for 'count'"
    );
}

#[actix_rt::test]
async fn get_bodies_are_ignored() {
    let res = client()
        .get(format!("{}/echo/1?name=q", base()))
        .header("Content-Type", "application/json")
        .body(r#"{"name":"body"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(json(res).await["name"], "q");
}
