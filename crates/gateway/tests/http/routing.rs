//! URL styles, REST routes, verbs, 404/405/OPTIONS/HEAD and method overrides.

use crate::support::{base, client, echo_body, header, json, status_line};

#[actix_rt::test]
async fn api_route_answers_json_with_global_headers() {
    let res = client()
        .post(format!("{}/api/Echo", base()))
        .json(&echo_body())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "content-type"),
        "application/json; charset=utf-8"
    );
    assert_eq!(header(&res, "vary"), "Accept");
    assert!(
        header(&res, "x-powered-by").starts_with("ServiceStack/"),
        "{}",
        header(&res, "x-powered-by")
    );
    assert!(header(&res, "x-powered-by").contains("evogate/"));
    let body = json(res).await;
    assert_eq!(body["name"], "Zed");
    assert_eq!(body["total"], 9000000000_i64);
    assert_eq!(body["nested"]["b"], "x");
}

#[actix_rt::test]
async fn operation_names_are_case_insensitive_on_every_generic_route() {
    for path in [
        "/api/echo",
        "/api/ECHO",
        "/json/reply/echo",
        "/JSON/REPLY/Echo",
        "/json/syncreply/Echo",
    ] {
        let res = client()
            .post(format!("{}{path}", base()))
            .json(&echo_body())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(json(res).await["name"], "Zed", "{path}");
    }
}

#[actix_rt::test]
async fn rest_route_binds_the_path_variable() {
    let res = client()
        .get(format!("{}/echo/42?name=q", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = json(res).await;
    assert_eq!(body["id"], "42");
    assert_eq!(body["name"], "q");
}

#[actix_rt::test]
async fn rest_literals_ignore_case_and_trailing_slash() {
    for path in ["/ECHO/42/", "/Echo/42", "/echo/42//"] {
        let res = client()
            .get(format!("{}{path}", base()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(json(res).await["id"], "42", "{path}");
    }
}

#[actix_rt::test]
async fn percent_encoded_path_variables_are_decoded() {
    let res = client()
        .get(format!("{}/echo/a%20b%2Fc", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await["id"], "a b/c");
}

#[actix_rt::test]
async fn unknown_operation_is_404_not_implemented() {
    for path in ["/api/Nope", "/json/reply/Nope", "/xml/oneway/Nope"] {
        let res = client()
            .post(format!("{}{path}", base()))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path}");
        if path.starts_with("/xml") {
            assert!(
                header(&res, "content-type").starts_with("application/xml"),
                "{path}"
            );
            continue;
        }
        let body = json(res).await;
        assert_eq!(
            body["responseStatus"]["errorCode"],
            "NotImplementedException"
        );
        assert_eq!(
            body["responseStatus"]["message"],
            "The operation 'Nope' does not exist for this service"
        );
        assert_eq!(body["responseStatus"]["errors"], serde_json::json!([]));
    }
    let line = status_line(
        base(),
        "GET /api/Nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(line, "HTTP/1.1 404 NotImplementedException");
}

#[actix_rt::test]
async fn unknown_path_is_404_with_a_response_status() {
    let res = client()
        .get(format!("{}/no/such/path", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(header(&res, "vary"), "Accept");
    let body = json(res).await;
    assert_eq!(body["responseStatus"]["errorCode"], "NotFound");
    assert_eq!(body["responseStatus"]["errors"], serde_json::json!([]));
    let line = status_line(
        base(),
        "GET /no/such/path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(line, "HTTP/1.1 404 NotFound");
}

#[actix_rt::test]
async fn known_path_wrong_verb_is_405_with_allow() {
    let res = client()
        .delete(format!("{}/echo/1", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    let allow = header(&res, "allow");
    assert!(
        allow.contains("GET") && allow.contains("POST") && !allow.contains("DELETE"),
        "{allow}"
    );
    let body = json(res).await;
    assert_eq!(body["responseStatus"]["errorCode"], "MethodNotAllowed");
    let line = status_line(
        base(),
        "DELETE /echo/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(line, "HTTP/1.1 405 MethodNotAllowed");
    // `/ping` is POST-only: GET is 405 too, as decided (upstream: 404).
    let res = client()
        .get(format!("{}/ping", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert!(header(&res, "allow").contains("POST"));
}

#[actix_rt::test]
async fn options_on_a_route_is_204_with_allow() {
    let res = client()
        .request(reqwest::Method::OPTIONS, format!("{}/echo/1", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let allow = header(&res, "allow");
    assert!(
        allow.contains("GET") && allow.contains("POST") && allow.contains("OPTIONS"),
        "{allow}"
    );
    assert_eq!(header(&res, "vary"), "Accept");
    // Generic routes too, without running the (protected) service.
    for path in ["/api/Secret", "/json/reply/Secret"] {
        let res = client()
            .request(reqwest::Method::OPTIONS, format!("{}{path}", base()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204, "{path}");
        assert!(header(&res, "allow").contains("POST"));
    }
}

#[actix_rt::test]
async fn head_is_get_without_a_body() {
    let res = client()
        .head(format!("{}/echo/7?name=x", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "content-type"),
        "application/json; charset=utf-8"
    );
    assert!(res.bytes().await.unwrap().is_empty());
}

#[actix_rt::test]
async fn method_override_from_header_query_and_form() {
    // Header: a POST treated as DELETE meets the route's verbs.
    let res = client()
        .post(format!("{}/echo/1", base()))
        .header("X-HTTP-Method-Override", "DELETE")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    // Query string.
    let res = client()
        .put(format!(
            "{}/echo/5?X-HTTP-Method-Override=GET&name=n",
            base()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await["id"], "5");
    // Form field.
    let res = client()
        .post(format!("{}/echo/1", base()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("X-HTTP-Method-Override=PATCH&name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
}

#[actix_rt::test]
async fn route_precedence_literal_then_variable_then_wildcard() {
    let res = client()
        .get(format!("{}/things/special", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(json(res).await["op"], "SpecialThing");
    let res = client()
        .get(format!("{}/THINGS/Special/", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(json(res).await["op"], "SpecialThing");
    let res = client()
        .get(format!("{}/things/other", base()))
        .send()
        .await
        .unwrap();
    let body = json(res).await;
    assert_eq!(
        (body["op"].as_str(), body["value"].as_str()),
        (Some("AnyThing"), Some("other"))
    );
    // PUT only matches the variable route.
    let res = client()
        .put(format!("{}/things/special", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(json(res).await["op"], "AnyThing");
    let res = client()
        .get(format!("{}/files/a/b/c.txt", base()))
        .send()
        .await
        .unwrap();
    let body = json(res).await;
    assert_eq!(
        (body["op"].as_str(), body["value"].as_str()),
        (Some("GetFile"), Some("a/b/c.txt"))
    );
}

#[actix_rt::test]
async fn void_operation_is_204_with_zero_length() {
    for path in ["/api/Ping", "/ping", "/json/reply/Ping"] {
        let res = client()
            .post(format!("{}{path}", base()))
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204, "{path}");
        assert!(res.bytes().await.unwrap().is_empty());
    }
    let raw = crate::support::raw(
        base(),
        b"POST /api/Ping HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    assert!(raw.starts_with("HTTP/1.1 204"), "{raw}");
    // actix follows RFC 9110 and sends no Content-Length on a 204; nothing is chunked either.
    assert!(
        !raw.to_ascii_lowercase().contains("transfer-encoding"),
        "{raw}"
    );
    assert!(raw.ends_with("\r\n\r\n"), "{raw}");
}

#[actix_rt::test]
async fn oneway_runs_the_service_and_answers_204() {
    for fmt in ["json", "jsv", "xml", "csv", "html"] {
        let res = client()
            .post(format!("{}/{fmt}/oneway/Echo", base()))
            .json(&echo_body())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204, "{fmt}");
    }
}

#[actix_rt::test]
async fn health() {
    let res = client()
        .get(format!("{}/health", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await, serde_json::json!({"status": "ok"}));
}

#[actix_rt::test]
async fn metadata_paths_reach_the_metadata_module() {
    let get = |path: &'static str| client().get(format!("{}{path}", base())).send();
    let res = get("/metadata").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(header(&res, "content-type").starts_with("text/html"));
    assert_eq!(header(&res, "vary"), "Accept");
    assert!(res.text().await.unwrap().contains("Echo"));
    let res = get("/json/metadata?op=Echo").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("/echo/{id}"));
    let res = get("/types/csharp").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Options:"));
    let res = get("/types/metadata").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(json(res).await["operations"].is_array());
    let res = get("/api").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(json(res).await.is_object());
    // Only GET: a POST to `/api` is no index.
    let res = client()
        .post(format!("{}/api", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[actix_rt::test]
async fn a_path_seen_before_is_still_decided_by_method_query_and_accept() {
    // One client, so one keep-alive connection and one worker: the repeats reach the routing
    // decisions that worker remembers.
    let c = client();
    let url = |path: &str| format!("{}{path}", base());
    for round in 0..2 {
        let res = c.post(url("/ping")).send().await.unwrap();
        assert_eq!(res.status(), 204, "round {round}");
        let res = c.get(url("/ping")).send().await.unwrap();
        assert_eq!(res.status(), 405, "round {round}");
        let res = c
            .post(url("/ping"))
            .header("X-HTTP-Method-Override", "DELETE")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "round {round}");
        let res = c.get(url("/json/reply/Echo?name=a")).send().await.unwrap();
        assert_eq!(res.status(), 200, "round {round}");
        assert!(header(&res, "content-type").starts_with("application/json"));
        let res = c
            .get(url("/json/reply/Echo?name=a&format=jsv"))
            .send()
            .await
            .unwrap();
        assert!(
            header(&res, "content-type").starts_with("text/jsv"),
            "round {round}"
        );
        let res = c
            .get(url("/api/Echo?name=a"))
            .header("Accept", "application/xml")
            .send()
            .await
            .unwrap();
        assert!(
            header(&res, "content-type").starts_with("application/xml"),
            "round {round}"
        );
        let res = c.get(url("/api")).send().await.unwrap();
        assert_eq!(res.status(), 200, "round {round}");
        assert!(json(res).await.is_object());
    }
}
