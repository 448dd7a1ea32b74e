//! The JSON envelope py-key-value writes: any bytes decode to an entry or a `Corrupted` error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stowage_core::ErrorKind;
use stowage_core::codec::json;

fuzz_target!(|data: &[u8]| {
    for result in [json::decode(data).map(drop), json::decode_entry(data).map(drop)] {
        if let Err(e) = result {
            assert_eq!(e.kind(), ErrorKind::Corrupted);
        }
    }
});
