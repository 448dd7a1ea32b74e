//! Answers of one protocol era are never served to a request of another: a 2026-07-28 request
//! (its `_meta` names the version) and a handshake-era request for the same call each get
//! their own answer, whoever asks, public or private.

use serde_json::json;
use serde_json::value::RawValue;
use stowage_mcp::{CacheRequest, Caller, Lookup, ResponseCache};

fn request(params: &str) -> CacheRequest<'_> {
    let raw: &RawValue = serde_json::from_str(params).unwrap();
    CacheRequest::from_params_text("resources/read", Some(raw)).unwrap()
}

#[tokio::test]
async fn each_protocol_era_has_its_own_answers() {
    let cache = ResponseCache::in_memory();
    let legacy_params = r#"{"uri":"data://x","_meta":{"progressToken":1}}"#;
    let modern_params =
        r#"{"uri":"data://x","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}"#;
    let legacy = request(legacy_params);
    let modern = request(modern_params);
    assert_eq!(legacy.protocol_version(), None);
    assert_eq!(modern.protocol_version(), Some("2026-07-28"));
    assert_eq!(legacy.key(), modern.key(), "the request digest is the same");

    for public in [false, true] {
        let cache = cache.clone();
        cache.clear().await.unwrap();
        let mut answer = json!({"contents": [{"uri": "data://x", "text": "legacy"}]});
        if public {
            answer["cacheScope"] = json!("public");
        }
        let caller = Caller::from_token("t");
        let Lookup::Miss(ticket) = cache.lookup(&legacy, &caller).await else {
            panic!("a first lookup misses")
        };
        cache.complete(ticket, &answer).await;
        assert!(matches!(
            cache.lookup(&legacy, &caller).await,
            Lookup::Hit(_)
        ));
        assert!(
            matches!(cache.lookup(&modern, &caller).await, Lookup::Miss(_)),
            "public: {public}: a legacy answer is not served to a 2026-07-28 request"
        );
        let other = request(
            r#"{"uri":"data://x","_meta":{"io.modelcontextprotocol/protocolVersion":"2027-01-01"}}"#,
        );
        assert!(matches!(
            cache.lookup(&other, &caller).await,
            Lookup::Miss(_)
        ));
    }
    // And the other way round.
    cache.clear().await.unwrap();
    let caller = Caller::anonymous();
    let Lookup::Miss(ticket) = cache.lookup(&modern, &caller).await else {
        panic!()
    };
    cache
        .complete(ticket, &json!({"resultType": "complete", "contents": []}))
        .await;
    assert!(matches!(
        cache.lookup(&modern, &caller).await,
        Lookup::Hit(_)
    ));
    assert!(matches!(
        cache.lookup(&legacy, &caller).await,
        Lookup::Miss(_)
    ));
}
