//! The binary envelope of the embedded backends: any bytes decode to an entry or a
//! `Corrupted` error.
#![no_main]

use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use stowage_core::ErrorKind;
use stowage_core::codec::binary;

fuzz_target!(|data: &[u8]| {
    for result in [
        binary::decode(data).map(drop),
        binary::decode_header(data).map(drop),
        binary::decode_live(data, SystemTime::now()).map(drop),
    ] {
        if let Err(e) = result {
            assert_eq!(e.kind(), ErrorKind::Corrupted);
        }
    }
});
