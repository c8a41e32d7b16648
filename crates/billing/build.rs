//! Compiles `src/store/auth.rs` in only once it exists, so the store builds before and after the
//! auth engineer adds it.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(billing_auth_store)");
    println!("cargo::rerun-if-changed=src/store");
    if std::path::Path::new("src/store/auth.rs").exists() {
        println!("cargo::rustc-cfg=billing_auth_store");
    }
}
