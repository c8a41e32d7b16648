//! One Echo response per format, pinned byte for byte in `fixtures/golden/`.
//!
//! Regenerate with `UPDATE_GOLDEN=1 cargo test -p gateway --test http golden`, then review the
//! files by eye against jsv.md §7/§8 and decisions.md 10/11.

use std::path::PathBuf;

use crate::support::{base, client, echo_body};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden")
}

#[actix_rt::test]
async fn echo_in_every_format_matches_the_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for fmt in ["json", "jsv", "xml", "csv", "html"] {
        let res = client()
            .post(format!("{}/echo/42.{fmt}", base()))
            .json(&echo_body())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{fmt}");
        let bytes = res.bytes().await.unwrap();
        let path = golden_dir().join(format!("echo.{fmt}"));
        if update {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            continue;
        }
        let expected = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if expected != bytes.as_ref() {
            mismatches.push(format!(
                "{fmt}:\n  expected {}\n  actual   {}",
                String::from_utf8_lossy(&expected),
                String::from_utf8_lossy(&bytes)
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
