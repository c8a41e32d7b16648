//! The running server's own pages against Evo Voice's published ones: the `jsv` operation pages
//! of `NewBillable` and `ListUsageRecords` with `?lang=dart` hold every line of the seed pages
//! in `fixtures/seeds`, and `/types/dart` holds both seed classes, all generated from the
//! billing crate's real DTO declarations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

// The seed-reading and HTML-to-text helpers shared with the gateway's metadata tests.
#[path = "../../gateway/tests/metadata_dtos.rs"]
mod seed_pages;

use seed_pages::{normalise, seed_block, seed_for, visible_lines};

/// Fetches `path` as a browser on evovoice.io would (the seed shows `Host: evovoice.io`).
async fn get(app: &common::TestApp, path: &str) -> (u16, String, String) {
    let res = app
        .client
        .get(app.url(path))
        .header("Host", "evovoice.io")
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

#[tokio::test]
async fn jsv_dart_pages_hold_every_seed_line_in_order() {
    let app = common::spawn_app().await;
    for op in ["NewBillable", "ListUsageRecords"] {
        let seed = seed_for(op);
        let (status, ct, html) = get(&app, &format!("/jsv/metadata?op={op}&lang=dart")).await;
        assert_eq!(status, 200, "{op}");
        assert_eq!(ct, "text/html; charset=utf-8");
        let page = visible_lines(&html);
        let mut at = 0;
        for raw in seed.lines() {
            let want = normalise(raw);
            if want.is_empty() {
                continue;
            }
            match page[at..].iter().position(|l| *l == want) {
                Some(i) => at += i + 1,
                None => panic!(
                    "{op}: seed line {want:?} missing (in order); page from there:\n{}",
                    page[at.saturating_sub(2)..(at + 8).min(page.len())].join("\n")
                ),
            }
        }
    }
}

#[tokio::test]
async fn types_dart_holds_both_seed_classes() {
    let app = common::spawn_app().await;
    let (status, ct, dart) = get(&app, "/types/dart").await;
    assert_eq!(status, 200);
    assert_eq!(ct, "text/plain; charset=utf-8");
    assert!(
        dart.starts_with("/* Options:"),
        "{}",
        &dart[..80.min(dart.len())]
    );
    for op in ["NewBillable", "ListUsageRecords"] {
        // From the class's doc comment to its closing brace, exactly as the seed prints it.
        let class = seed_block(&seed_for(op), "/**", "}");
        assert!(
            dart.contains(&class),
            "/types/dart lacks the seed class {op}:\n{class}"
        );
    }
}
