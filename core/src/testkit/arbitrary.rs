//! Strategies for property tests of stored formats: JSON objects as text, with what breaks naive
//! codecs — integers beyond 64 bits, decimals beyond `f64`, `-0.0`, exponents, escapes, control
//! characters and characters outside the Basic Multilingual Plane.

use proptest::prelude::*;

/// A JSON number as text, exactly as a writer may have sent it.
pub fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        // Beyond 64 bits (Python's json keeps these exact).
        "-?[1-9][0-9]{19,40}",
        Just("-0.0".to_owned()),
        Just("-0".to_owned()),
        // Beyond f64 precision.
        "-?[0-9]\\.[0-9]{17,30}",
        "-?[1-9](\\.[0-9]{1,5})?[eE][+-]?[0-9]{1,3}",
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| f.to_string()),
    ]
}

/// A JSON string as text: any Unicode, escaped as serde_json escapes it, or with characters
/// written as `\u` escapes (surrogate pairs included).
pub fn string_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>().prop_map(|s| serde_json::Value::String(s).to_string()),
        "[a-z]{0,3}".prop_map(|s| format!("\"{s}\\ud83d\\ude00\\u00e9\\n\\t\\\"\\\\/\"")),
    ]
}

/// Any JSON value as compact text, nested up to a few levels.
pub fn value_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        number_text(),
        string_text(),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("null".to_owned()),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6)
                .prop_map(|items| format!("[{}]", items.join(","))),
            object_of(inner),
        ]
    })
}

/// A JSON object as compact text (what a store holds), with unique member names.
pub fn object_text() -> impl Strategy<Value = String> {
    object_of(value_text().boxed())
}

fn object_of(values: impl Strategy<Value = String> + Clone) -> impl Strategy<Value = String> {
    prop::collection::btree_map(any::<String>(), values, 0..6).prop_map(|members| {
        let body: Vec<String> = members
            .into_iter()
            .map(|(k, v)| format!("{}:{v}", serde_json::Value::String(k)))
            .collect();
        format!("{{{}}}", body.join(","))
    })
}
