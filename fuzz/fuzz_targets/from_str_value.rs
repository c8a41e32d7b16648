//! Parse arbitrary bytes as a `jsv::Value`; whatever parses must survive a compact
//! write/read round trip unchanged, and the pretty form must read back too.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = jsv::from_slice::<jsv::Value>(data) else {
        return;
    };
    let text = jsv::to_string(&value).expect("a parsed Value always serializes");
    let back: jsv::Value =
        jsv::from_str(&text).unwrap_or_else(|e| panic!("re-parse of {text:?} failed: {e}"));
    assert_eq!(
        back, value,
        "compact round trip changed the value; text {text:?}"
    );
    let pretty = jsv::to_string_pretty(&value).expect("pretty serializes");
    let back: jsv::Value = jsv::from_str(&pretty)
        .unwrap_or_else(|e| panic!("re-parse of pretty {pretty:?} failed: {e}"));
    assert_eq!(
        back, value,
        "pretty round trip changed the value; text {pretty:?}"
    );
});
