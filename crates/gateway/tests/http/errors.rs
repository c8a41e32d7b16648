//! Error bodies in every format, reason phrases, 401/403, limits and panics.

use crate::support::{base, client, debug_base, header, json, raw, status_line};

/// (kind, status, errorCode, reason phrase)
const FAILURES: &[(&str, u16, &str, &str)] = &[
    ("validation", 400, "NotEmpty", "NotEmpty"),
    ("notfound", 404, "NotFound", "NotFound"),
    ("conflict", 409, "Conflict", "Conflict"),
    ("forbidden", 403, "Forbidden", "Forbidden"),
    ("unauthorized", 401, "Unauthorized", "Unauthorized"),
    (
        "internal",
        500,
        "InternalServerError",
        "InternalServerError",
    ),
];

#[actix_rt::test]
async fn each_failure_has_its_status_code_and_reason() {
    for (kind, status, code, reason) in FAILURES {
        let res = client()
            .get(format!("{}/fail/{kind}", base()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), *status, "{kind}");
        assert_eq!(
            header(&res, "content-type"),
            "application/json; charset=utf-8"
        );
        assert_eq!(header(&res, "vary"), "Accept");
        assert!(header(&res, "x-powered-by").starts_with("ServiceStack/"));
        let body = json(res).await;
        let rs = &body["responseStatus"];
        assert_eq!(rs["errorCode"], *code, "{kind}: {body}");
        assert!(rs["errors"].is_array(), "{kind}: errors always present");
        assert!(
            rs.get("stackTrace").is_none(),
            "{kind}: no stack trace outside debug"
        );
        let line = status_line(
            base(),
            &format!("GET /fail/{kind} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        );
        assert_eq!(line, format!("HTTP/1.1 {status} {reason}"));
    }
}

#[actix_rt::test]
async fn validation_lists_every_field() {
    let res = client()
        .post(format!("{}/api/Fail", base()))
        .json(&serde_json::json!({"kind": "validation"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body = json(res).await;
    assert_eq!(
        body,
        serde_json::json!({"responseStatus": {
            "errorCode": "NotEmpty",
            "message": "'Account Id' must not be empty.",
            "errors": [
                {"errorCode": "NotEmpty", "fieldName": "AccountId", "message": "'Account Id' must not be empty."},
                {"errorCode": "GreaterThan", "fieldName": "Count", "message": "'Count' must be greater than '0'."}
            ]
        }})
    );
}

#[actix_rt::test]
async fn internal_errors_hide_their_cause() {
    let res = client()
        .get(format!("{}/fail/internal", base()))
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert!(!text.contains("on fire"), "{text}");
}

#[actix_rt::test]
async fn a_panicking_handler_is_a_500_response_status() {
    let res = client()
        .get(format!("{}/fail/panic", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    let body = json(res).await;
    assert_eq!(body["responseStatus"]["errorCode"], "InternalServerError");
    assert!(body["responseStatus"].get("stackTrace").is_none());
    // The server is still there.
    let res = client()
        .get(format!("{}/fail/none", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await["result"], "none");
}

#[actix_rt::test]
async fn a_panicking_writer_is_a_500_response_status() {
    for fmt in ["json", "xml", "jsv"] {
        let res = client()
            .get(format!("{}/api/Boom.{fmt}", base()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 500, "{fmt}");
        let body = json(res).await;
        assert_eq!(
            body["responseStatus"]["errorCode"], "InternalServerError",
            "{fmt}"
        );
    }
    let res = client()
        .get(format!("{}/fail/none", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[actix_rt::test]
async fn debug_mode_shows_the_panic_as_stack_trace() {
    let res = client()
        .get(format!("{}/fail/panic", debug_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    let body = json(res).await;
    assert!(
        body["responseStatus"]["stackTrace"]
            .as_str()
            .unwrap_or("")
            .contains("the handler exploded"),
        "{body}"
    );
}

#[actix_rt::test]
async fn error_bodies_in_every_format() {
    // JSV: camelCase keys.
    let res = client()
        .get(format!("{}/fail/notfound.jsv", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(header(&res, "content-type"), "text/jsv; charset=utf-8");
    let text = res.text().await.unwrap();
    assert!(
        text.starts_with("{responseStatus:{errorCode:NotFound,message:No such thing,errors:[]"),
        "{text}"
    );

    // XML without a response DTO carrying ResponseStatus: ServiceStack's ErrorResponse.
    let res = client()
        .get(format!("{}/fail/notfound.xml", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(header(&res, "content-type").starts_with("application/xml"));
    let text = res.text().await.unwrap();
    assert!(text.contains(r#"<ErrorResponse xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.servicestack.net/types">"#), "{text}");
    assert!(
        text.contains("<ErrorCode>NotFound</ErrorCode><Message>No such thing</Message>"),
        "{text}"
    );

    // XML for an operation whose response DTO has ResponseStatus: `{Op}Response` in its namespace.
    let res = client()
        .get(format!("{}/xml/reply/Echo?count=abc", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let text = res.text().await.unwrap();
    assert!(text.contains("<EchoResponse"), "{text}");
    assert!(
        text.contains(r#"xmlns="http://schemas.datacontract.org/2004/07/Test.Http""#),
        "{text}"
    );
    assert!(text.contains("SerializationException"), "{text}");

    // CSV and HTML still carry the error.
    let res = client()
        .get(format!("{}/fail/conflict.csv", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert!(header(&res, "content-type").starts_with("text/csv"));
    assert!(res.text().await.unwrap().contains("Conflict"));
    let res = client()
        .get(format!("{}/fail/conflict", base()))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert!(header(&res, "content-type").starts_with("text/html"));
    assert!(res.text().await.unwrap().contains("Already there"));
}

#[actix_rt::test]
async fn anonymous_on_a_protected_operation_is_401_with_challenges() {
    for path in [
        "/secret",
        "/api/Secret",
        "/json/reply/Secret",
        "/managers",
        "/both",
    ] {
        let res = client()
            .get(format!("{}{path}", base()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{path}");
        let challenges: Vec<String> = res
            .headers()
            .get_all("www-authenticate")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        assert_eq!(
            challenges,
            vec![
                r#"credentials realm="/auth/credentials""#,
                r#"Basic realm="/auth/basic""#
            ]
        );
        let body = json(res).await;
        assert_eq!(body["responseStatus"]["errorCode"], "Unauthorized");
        assert_eq!(body["responseStatus"]["message"], "Not Authenticated");
    }
    // Browsers get the same status, no login redirect.
    let res = client()
        .get(format!("{}/secret", base()))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let line = status_line(
        base(),
        "GET /secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(line, "HTTP/1.1 401 Unauthorized");
}

#[actix_rt::test]
async fn signed_in_users_pass_and_roles_are_checked() {
    let get = |path: &'static str, user: &'static str| {
        client()
            .get(format!("{}{path}", base()))
            .header("X-Test-User", user)
            .send()
    };
    let res = get("/secret", "ann").await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await["userName"], "ann");
    assert_eq!(get("/managers", "m;Manager").await.unwrap().status(), 200);
    assert_eq!(
        get("/managers", "s;Other,SystemAdministrator")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(get("/managers", "a;Admin").await.unwrap().status(), 200);
    assert_eq!(get("/both", "b;Role1,Role2").await.unwrap().status(), 200);
    assert_eq!(get("/both", "a;Admin").await.unwrap().status(), 200);
    for (path, user) in [
        ("/managers", "u"),
        ("/managers", "u;manager"),
        ("/both", "b;Role1"),
    ] {
        let res = get(path, user).await.unwrap();
        assert_eq!(res.status(), 403, "{path} {user}");
        let body = json(res).await;
        assert_eq!(body["responseStatus"]["errorCode"], "Forbidden");
        assert_eq!(body["responseStatus"]["message"], "Invalid Role");
    }
    let line = status_line(
        base(),
        "GET /managers HTTP/1.1\r\nHost: x\r\nX-Test-User: u\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(line, "HTTP/1.1 403 Invalid Role");
}

#[actix_rt::test]
async fn rejected_credentials_are_answered_even_on_open_operations() {
    let res = client()
        .get(format!("{}/echo/1", base()))
        .header("X-Test-User", "!bad")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        json(res).await["responseStatus"]["message"],
        "Invalid Username or Password"
    );
}

#[actix_rt::test]
async fn cookies_headers_and_status_from_the_service() {
    let res = client()
        .post(format!("{}/cookies", base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(header(&res, "x-custom"), "yes");
    assert_eq!(
        header(&res, "set-cookie"),
        "sid=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Lax"
    );
    let res = client()
        .post(format!("{}/cookies", base()))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&res, "set-cookie"),
        "sid=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
    );
}

#[actix_rt::test]
async fn bodies_over_the_limit_are_413() {
    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(1024 * 1024 + 10));
    let res = client()
        .post(format!("{}/api/Echo", base()))
        .header("Content-Type", "application/json")
        .body(big)
        .send()
        .await;
    // The server may close the connection before the client has written everything.
    if let Ok(res) = res {
        assert_eq!(res.status(), 413);
        let body = json(res).await;
        assert_eq!(body["responseStatus"]["errorCode"], "RequestEntityTooLarge");
    }
    // Declared length over the limit: refused before reading.
    let head = raw(
        base(),
        b"POST /api/Echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\nConnection: close\r\n\r\n{}",
    );
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("responseStatus"), "{head}");
    // Chunked, no declared length: refused while streaming.
    let mut req = b"POST /api/Echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..20 {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(&chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let head = raw(base(), &req);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
}

#[actix_rt::test]
async fn compressed_bodies_are_bounded_after_decompression() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(br#"{"name":""#).unwrap();
    gz.write_all(&vec![b'a'; 4 * 1024 * 1024]).unwrap();
    gz.write_all(br#""}"#).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 64 * 1024);
    let res = client()
        .post(format!("{}/api/Echo", base()))
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(bomb)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

#[actix_rt::test]
async fn deep_bodies_are_400() {
    // `/jsv/reply` reads a JSV body, `/api` a JSON one.
    let post = |body: String, ct: &'static str| {
        let url = if ct == "text/jsv" {
            "/jsv/reply/Tree"
        } else {
            "/api/Tree"
        };
        client()
            .post(format!("{}{url}", base()))
            .header("Content-Type", ct)
            .body(body)
            .send()
    };
    let nested =
        |depth: usize| format!(r#"{{"data":{}1{}}}"#, "[".repeat(depth), "]".repeat(depth));
    assert_eq!(
        post(nested(50), "application/json").await.unwrap().status(),
        200
    );
    for depth in [200, 5000] {
        let res = post(nested(depth), "application/json").await.unwrap();
        assert_eq!(res.status(), 400, "{depth}");
        assert!(json(res).await["responseStatus"]["errorCode"].is_string());
    }
    let jsv = format!("{{data:{}1{}}}", "[".repeat(5000), "]".repeat(5000));
    assert_eq!(post(jsv, "text/jsv").await.unwrap().status(), 400);
}

#[actix_rt::test]
async fn malformed_json_is_400() {
    let res = client()
        .post(format!("{}/api/Echo", base()))
        .header("Content-Type", "application/json")
        .body(r#"{"name": "x", "count": }"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body = json(res).await;
    assert!(body["responseStatus"]["message"].is_string());
}
