//! What commands print on standard output: aligned tables for people, JSON for scripts.
//!
//! A closed pipe (`stowage keys … | head`) is not an error: output stops quietly.

use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value as Json;

/// Write one line to standard output.
pub(crate) fn line(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Write one JSON value as one compact line.
pub(crate) fn json(doc: &Json) {
    line(doc);
}

/// Valid JSON `text` re-indented by two spaces, every token kept byte for byte (numbers are not
/// parsed, so none can change in its last digit).
pub(crate) fn pretty(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// Columns aligned on the widest cell, a header and a rule under it.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let render = |cells: &mut dyn Iterator<Item = &str>| {
        let line: Vec<String> = cells
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        line.join("  ").trim_end().to_owned()
    };
    let mut out = render(&mut headers.iter().copied());
    out.push('\n');
    out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1)));
    for row in rows {
        out.push('\n');
        out.push_str(&render(&mut row.iter().map(String::as_str)));
    }
    out
}

/// A duration for people: `850ms`, `42.5s`, `3m 20s`, `2h 5m`, `3d 4h`.
pub(crate) fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0 => format!("{}ms", d.as_millis()),
        1..60 => format!("{:.1}s", d.as_secs_f64()),
        60..3600 => format!("{}m {}s", secs / 60, secs % 60),
        3600..86_400 => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
        _ => format!("{}d {}h", secs / 86_400, secs % 86_400 / 3600),
    }
}

/// Milliseconds with two decimals, for latencies.
pub(crate) fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

/// Seconds since the Unix epoch, for JSON.
pub(crate) fn unix(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// A remaining TTL as JSON: seconds, or `null` for "never expires".
pub(crate) fn ttl_json(ttl: Option<Duration>) -> Json {
    ttl.map_or(Json::Null, |d| Json::from(d.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_on_the_widest_cell() {
        let t = table(
            &["key", "ttl"],
            &[
                vec!["alice".into(), "1.0s".into()],
                vec!["ключ".into(), "none".into()],
            ],
        );
        assert_eq!(t, "key    ttl\n-----------\nalice  1.0s\nключ   none");
    }

    #[test]
    fn pretty_keeps_every_token_and_matches_serde_layout() {
        let text =
            r#"{"a":1764753696.4420731,"b":[1,{"c":"x,{y}:\"z\"\\"},[],{}],"d":{ }, "e" : null}"#;
        let out = pretty(text);
        assert!(out.contains("1764753696.4420731"), "{out}");
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            parsed,
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
        // Same layout as serde_json's, which would print the number as 1764753696.442073.
        let reprinted = serde_json::to_string_pretty(&parsed).unwrap();
        assert_eq!(
            reprinted.replace("1764753696.442073", "1764753696.4420731"),
            out
        );
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(Duration::from_millis(850)), "850ms");
        assert_eq!(duration(Duration::from_millis(42_500)), "42.5s");
        assert_eq!(duration(Duration::from_secs(200)), "3m 20s");
        assert_eq!(duration(Duration::from_secs(7500)), "2h 5m");
        assert_eq!(
            duration(Duration::from_secs(3 * 86_400 + 4 * 3600)),
            "3d 4h"
        );
        assert_eq!(millis(Duration::from_micros(1234)), 1.23);
    }
}
