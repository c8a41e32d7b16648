//! Every format in every URL style, negotiation precedence, JSV debug, JSONP, compression.

use std::io::{Read, Write};

use crate::support::{base, client, echo_body, header, json};

/// The response Content-Type each format is expected to start with, picked by the URL.
const FORMATS: &[(&str, &str)] = &[
    ("json", "application/json; charset=utf-8"),
    ("jsv", "text/jsv; charset=utf-8"),
    ("xml", "application/xml"),
    ("csv", "text/csv"),
    ("html", "text/html"),
];

/// A marker of the Echo body that every format writes somehow.
fn assert_body(fmt: &str, url: &str, body: &str) {
    assert!(body.contains("Zed"), "{fmt} {url}: {body}");
    match fmt {
        "json" => assert!(
            body.starts_with('{') && body.contains(r#""name":"Zed""#),
            "{url}: {body}"
        ),
        "jsv" => assert!(
            body.starts_with('{') && body.contains("name:Zed"),
            "{url}: {body}"
        ),
        "xml" => assert!(
            body.starts_with("<?xml") && body.contains("<EchoResponse"),
            "{url}: {body}"
        ),
        "csv" => assert!(
            body.starts_with("Id,Name,") || body.contains("Name"),
            "{url}: {body}"
        ),
        "html" => assert!(
            body.contains("<html") || body.contains("<!DOCTYPE") || body.contains("<!doctype"),
            "{url}: {body}"
        ),
        _ => unreachable!(),
    }
}

#[actix_rt::test]
async fn every_format_in_every_url_style() {
    for (fmt, ct) in FORMATS {
        let urls = [
            format!("{}/api/Echo.{fmt}", base()),
            format!("{}/{fmt}/reply/Echo", base()),
            format!("{}/echo/1.{fmt}", base()),
            format!("{}/api/Echo?format={fmt}", base()),
            format!("{}/echo/1?format={fmt}", base()),
        ];
        for url in urls {
            let res = client().post(&url).json(&echo_body()).send().await.unwrap();
            assert_eq!(res.status(), 200, "{url}");
            assert!(
                header(&res, "content-type").starts_with(ct),
                "{url}: {}",
                header(&res, "content-type")
            );
            let body = res.text().await.unwrap();
            assert_body(fmt, &url, &body);
        }
    }
}

#[actix_rt::test]
async fn every_format_by_accept_on_api_and_rest_routes() {
    let cases = [
        (
            "application/json",
            "json",
            "application/json; charset=utf-8",
        ),
        ("application/jsv", "jsv", "application/jsv; charset=utf-8"),
        ("text/jsv", "jsv", "text/jsv; charset=utf-8"),
        ("application/xml", "xml", "application/xml"),
        ("text/xml", "xml", "application/xml"),
        ("text/csv", "csv", "text/csv"),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "html",
            "text/html",
        ),
    ];
    for (accept, fmt, ct) in cases {
        for url in [format!("{}/api/Echo", base()), format!("{}/echo/1", base())] {
            let res = client()
                .post(&url)
                .header("Accept", accept)
                .json(&echo_body())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{url} {accept}");
            assert!(
                header(&res, "content-type").starts_with(ct),
                "{url} {accept}: {}",
                header(&res, "content-type")
            );
            assert_body(fmt, &url, &res.text().await.unwrap());
        }
    }
}

#[actix_rt::test]
async fn no_accept_or_any_accept_is_json() {
    for accept in [
        None,
        Some("*/*"),
        Some("text/plain, */*"),
        Some("application/json;q=0.1"),
    ] {
        let mut req = client().get(format!("{}/echo/1?name=Zed", base()));
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(
            header(&res, "content-type"),
            "application/json; charset=utf-8",
            "{accept:?}"
        );
    }
}

#[actix_rt::test]
async fn precedence_suffix_then_query_then_route_then_accept() {
    let ct = |res: &reqwest::Response| header(res, "content-type");
    // Suffix beats ?format, the route's format and Accept.
    let res = client()
        .post(format!("{}/xml/reply/Echo.csv?format=jsv", base()))
        .header("Accept", "text/html")
        .json(&echo_body())
        .send()
        .await
        .unwrap();
    assert!(ct(&res).starts_with("text/csv"), "{}", ct(&res));
    // ?format beats the route's format and Accept.
    let res = client()
        .post(format!("{}/xml/reply/Echo?format=jsv", base()))
        .header("Accept", "text/html")
        .json(&echo_body())
        .send()
        .await
        .unwrap();
    assert!(ct(&res).starts_with("text/jsv"), "{}", ct(&res));
    // The route's format beats Accept.
    let res = client()
        .post(format!("{}/xml/reply/Echo", base()))
        .header("Accept", "text/html")
        .json(&echo_body())
        .send()
        .await
        .unwrap();
    assert!(ct(&res).starts_with("application/xml"), "{}", ct(&res));
    // REST suffix beats Accept.
    let res = client()
        .get(format!("{}/echo/1.json?name=Zed", base()))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(ct(&res), "application/json; charset=utf-8");
    // ?format beats Accept on a REST route; anything after a dot is ignored.
    let res = client()
        .get(format!("{}/echo/1?format=JSON.x&name=Zed", base()))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(ct(&res), "application/json; charset=utf-8");
}

#[actix_rt::test]
async fn csv_is_an_attachment_named_after_the_operation() {
    let res = client()
        .post(format!("{}/api/Echo.csv", base()))
        .json(&echo_body())
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&res, "content-disposition"),
        r#"attachment;filename="Echo.csv""#
    );
}

#[actix_rt::test]
async fn jsv_debug_is_pretty_plain_text() {
    let res = client()
        .post(format!("{}/api/Echo.jsv?debug=true", base()))
        .json(&echo_body())
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "content-type"), "text/plain; charset=utf-8");
    let body = res.text().await.unwrap();
    assert!(body.contains("\n\tname: Zed"), "{body}");
    // A bare `?debug` is empty, so ignored.
    let res = client()
        .post(format!("{}/api/Echo?format=jsv&debug", base()))
        .json(&echo_body())
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "content-type"), "text/jsv; charset=utf-8");
}

#[actix_rt::test]
async fn jsonp_wraps_json() {
    let res = client()
        .get(format!("{}/echo/1?name=Zed&callback=cb", base()))
        .send()
        .await
        .unwrap();
    assert!(header(&res, "content-type").starts_with("text/javascript"));
    let body = res.text().await.unwrap();
    assert!(body.starts_with("cb({") && body.ends_with("})"), "{body}");
}

#[actix_rt::test]
async fn responses_are_compressed_on_request() {
    let res = client()
        .post(format!("{}/api/Echo", base()))
        .header("Accept-Encoding", "gzip")
        .json(&echo_body())
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "content-encoding"), "gzip");
    let bytes = res.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.contains(r#""name":"Zed""#), "{text}");
}

#[actix_rt::test]
async fn gzip_and_deflate_request_bodies_are_decompressed() {
    let raw = serde_json::to_vec(&echo_body()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    let res = client()
        .post(format!("{}/api/Echo", base()))
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await["name"], "Zed");
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).unwrap();
    let res = client()
        .post(format!("{}/api/Echo", base()))
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "deflate")
        .body(z.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await["name"], "Zed");
}
