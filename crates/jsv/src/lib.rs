//! ServiceStack JSV for serde (being built).
// Placeholder written by the lead so that dependent crates compile meanwhile: replace freely.
#![allow(missing_docs)]
pub enum Value {
    Null,
    String(String),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
}
