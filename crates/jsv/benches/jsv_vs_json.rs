//! Placeholder by the lead (the JSV engineer replaces it).
fn main() {}
