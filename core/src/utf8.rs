//! UTF-8 checks of stored bytes.
//!
//! Every read checks that a value's bytes are UTF-8 before it becomes a [`Value`](crate::Value).
//! The standard library's check is quick on ASCII but takes about 1.2 µs per KiB of text with
//! accents, CJK or emoji on these machines, one byte at a time; `simdutf8` checks the same KiB
//! in about 0.09 µs (and ASCII in 12 ns instead of 28 ns).

use bytes::Bytes;
use bytestring::ByteString;

/// `bytes` as text, or the standard library's description of where it is not UTF-8.
pub(crate) fn check(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    // The fast check says only yes or no; the slow one, run on failure, says where.
    simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes))
}

/// `slice` (a part of `buffer`) as text that shares `buffer`, when that is cheap to prove: for
/// ASCII the standard check `ByteString` runs is fast. `None` for other text, which the caller
/// copies out after [`check`] (a 1 KiB copy costs less than the slow check).
pub(crate) fn shared(buffer: &Bytes, slice: &[u8]) -> Option<ByteString> {
    if slice.is_ascii() {
        ByteString::try_from(buffer.slice_ref(slice)).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_standard_check() {
        let samples: [&[u8]; 6] = [
            b"",
            b"plain",
            "h\u{e9}llo \u{2603} \u{1F600}".as_bytes(),
            b"\xff",
            b"ok \xe2\x82",
            b"\xed\xa0\x80",
        ];
        for bytes in samples {
            assert_eq!(check(bytes), std::str::from_utf8(bytes), "{bytes:?}");
        }
    }

    #[test]
    fn shares_ascii_and_leaves_other_text_to_the_caller() {
        let buffer = Bytes::from_static("ab \u{e9}".as_bytes());
        let ascii = shared(&buffer, &buffer[..2]).unwrap();
        assert_eq!(&*ascii, "ab");
        assert_eq!(ascii.as_ptr(), buffer.as_ptr());
        assert!(shared(&buffer, &buffer[1..]).is_none());
    }
}
