//! Property tests of the canonical request keys: member order never matters, at any depth;
//! numbers are told apart by their text, however large or precise.

use proptest::prelude::*;
use serde_json::value::RawValue;
use stowage_core::testkit::arbitrary::{number_text, value_text};
use stowage_mcp::{CacheRequest, Method, RequestKey, canonical_json_text};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn object(members: &[(String, String)]) -> String {
    let body: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{}:{v}", serde_json::Value::String(k.clone())))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// Arguments as two texts that differ only in member order (top level and one nested object).
fn permuted_arguments() -> impl Strategy<Value = (String, String)> {
    (
        prop::collection::btree_map(any::<String>(), value_text(), 1..6),
        prop::collection::btree_map("[a-z]{1,4}", number_text(), 1..5),
    )
        .prop_flat_map(|(top, nested)| {
            let mut top: Vec<(String, String)> = top.into_iter().collect();
            let nested: Vec<(String, String)> = nested.into_iter().collect();
            top.push(("nested".into(), object(&nested)));
            let shuffled_top = Just(top.clone()).prop_shuffle();
            let shuffled_nested = Just(nested).prop_shuffle();
            (Just(top), shuffled_top, shuffled_nested)
        })
        .prop_map(|(top, mut shuffled, nested)| {
            for (k, v) in &mut shuffled {
                if k == "nested" {
                    *v = object(&nested);
                }
            }
            (object(&top), object(&shuffled))
        })
}

fn key_of(arguments: &str) -> RequestKey {
    let params = format!(r#"{{"name":"t","arguments":{arguments}}}"#);
    let raw = RawValue::from_string(params).unwrap();
    let request = CacheRequest::from_params_text("tools/call", Some(&raw)).unwrap();
    assert_eq!(request.method(), Method::ToolsCall);
    request.key()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn member_order_never_changes_the_key((a, b) in permuted_arguments()) {
        prop_assert_eq!(key_of(&a), key_of(&b));
    }

    #[test]
    fn different_numbers_never_share_a_key(x in number_text(), y in number_text()) {
        prop_assume!(x != y);
        let a = key_of(&format!(r#"{{"n":{x}}}"#));
        let b = key_of(&format!(r#"{{"n":{y}}}"#));
        prop_assert_ne!(a, b);
    }

    #[test]
    fn canonical_text_is_stable(text in value_text()) {
        let once = canonical_json_text(&text).unwrap();
        prop_assert_eq!(canonical_json_text(&once).unwrap(), once);
    }
}
