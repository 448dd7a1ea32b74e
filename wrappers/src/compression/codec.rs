//! py-key-value's compressed value format.
//!
//! ```text
//! {"__compressed_data__":"<standard base64 of gzip(JSON text)>","__compression_version__":1,"__compression_algorithm__":"gzip"}
//! ```

use std::io::{Read, Write};

use base64_simd::STANDARD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde_json::{Map, Value as Json};
use stowage_core::{Error, ErrorKind, Result, Value};

/// The member holding the compressed data.
pub const COMPRESSED_DATA_KEY: &str = "__compressed_data__";
/// The member holding the format version.
pub const COMPRESSION_VERSION_KEY: &str = "__compression_version__";
/// The member naming the algorithm.
pub const COMPRESSION_ALGORITHM_KEY: &str = "__compression_algorithm__";

const PREFIX: &str = "{\"__compressed_data__\":\"";
const SUFFIX: &str = "\",\"__compression_version__\":1,\"__compression_algorithm__\":\"gzip\"}";

fn corrupted(message: impl Into<std::borrow::Cow<'static, str>>) -> Error {
    Error::new(ErrorKind::Corrupted, message).with_backend("compression")
}

/// Whether `value` holds the compressed-data marker as a top-level member.
pub(crate) fn has_marker(value: &Value) -> bool {
    value.as_str().contains("\"__compressed_data__\"")
        && value.to_map().contains_key(COMPRESSED_DATA_KEY)
}

/// Gzip `value` (level `level`) into the envelope.
pub(crate) fn compress(value: &Value, level: u32) -> Result<Value> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(value.len() / 2), Compression::new(level));
    let gz = encoder
        .write_all(value.as_bytes())
        .and_then(|()| encoder.finish())
        .map_err(|e| Error::new(ErrorKind::Backend, "gzip failed").with_source(e))?;
    let mut text = String::with_capacity(PREFIX.len() + gz.len().div_ceil(3) * 4 + SUFFIX.len());
    text.push_str(PREFIX);
    STANDARD.encode_append(&gz, &mut text);
    text.push_str(SUFFIX);
    // A JSON object by construction: base64 never needs escaping.
    Ok(Value::from_trusted_json(text))
}

/// Undo [`compress`]; values without the marker come back as they are.
pub(crate) fn decompress(stored: Value, max_len: usize) -> Result<Value> {
    let text = stored.as_str();
    if let Some(data) = text
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(SUFFIX))
        .filter(|data| !data.contains(['"', '\\']))
    {
        return inflate(data, max_len);
    }
    if !text.contains("\"__compressed_data__\"") {
        return Ok(stored);
    }
    let map: Map<String, Json> = stored.to_map();
    let Some(data) = map.get(COMPRESSED_DATA_KEY) else {
        return Ok(stored);
    };
    match map.get(COMPRESSION_VERSION_KEY) {
        Some(Json::Number(n)) if n.as_i64() == Some(1) => {}
        Some(other) => {
            return Err(corrupted(format!(
                "compressed value has version {other}, but only version 1 is supported"
            )));
        }
        None => return Err(corrupted("compressed value has no version")),
    }
    match map.get(COMPRESSION_ALGORITHM_KEY) {
        Some(Json::String(a)) if a == "gzip" => {}
        // py-key-value 0.4 always writes gzip; an absent name is read as gzip too.
        None => {}
        Some(other) => {
            return Err(corrupted(format!(
                "compressed value uses algorithm {other}; only gzip is supported"
            )));
        }
    }
    match data {
        Json::String(data) => inflate(data, max_len),
        _ => Err(corrupted("compressed value's data is not a string")),
    }
}

fn inflate(data: &str, max_len: usize) -> Result<Value> {
    let gz = STANDARD
        .decode_to_vec(data)
        .map_err(|e| corrupted("compressed value is not valid base64").with_source(e))?;
    let mut out = Vec::with_capacity(gz.len() * 4);
    GzDecoder::new(gz.as_slice())
        .take(max_len as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| corrupted("compressed value is not valid gzip").with_source(e))?;
    if out.len() > max_len {
        return Err(corrupted(format!(
            "compressed value expands past the limit of {max_len} bytes"
        )));
    }
    Value::from_stored(&out)
}
