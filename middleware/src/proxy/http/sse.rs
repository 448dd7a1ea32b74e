//! Cutting a server-sent event stream into events, as it arrives, without changing a byte:
//! each event is relayed exactly as the upstream wrote it, after the proxy has read its data.

use bytes::{Bytes, BytesMut};

/// The largest event whose data the proxy reads; a longer one is relayed unread.
pub(super) const MAX_EVENT_BYTES: usize = 32 * 1024 * 1024;

/// A piece of the stream, ready to relay.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Piece {
    /// A whole event (its bytes, terminator included) and its data (the `data:` lines joined
    /// with `\n`).
    Event { raw: Bytes, data: Vec<u8> },
    /// Bytes of an event too long to read, relayed as they come.
    Unread(Bytes),
}

/// Splits an event stream into [`Piece`]s.
#[derive(Debug, Default)]
pub(super) struct Splitter {
    buf: BytesMut,
    /// How far `buf` has been scanned for the end of the event.
    scanned: usize,
    /// Inside an event too long to read: relay until its end.
    skipping: bool,
    /// The last byte relayed while skipping was a line end.
    skip_line_end: bool,
}

impl Splitter {
    /// Feed `chunk`; returns the pieces it completes.
    pub(super) fn push(&mut self, chunk: &[u8]) -> Vec<Piece> {
        let mut out = Vec::new();
        if self.skipping {
            // Relay up to the end of the long event (a blank line), then read again.
            match blank_line_end(chunk, self.skip_line_end) {
                Some(end) => {
                    out.push(Piece::Unread(Bytes::copy_from_slice(&chunk[..end])));
                    self.skipping = false;
                    self.skip_line_end = false;
                    out.extend(self.push(&chunk[end..]));
                }
                None => {
                    self.skip_line_end = matches!(chunk.last(), Some(b'\n'))
                        || (self.skip_line_end && chunk.iter().all(|b| *b == b'\r'));
                    out.push(Piece::Unread(Bytes::copy_from_slice(chunk)));
                }
            }
            return out;
        }
        self.buf.extend_from_slice(chunk);
        loop {
            match blank_line_end(&self.buf[self.scanned..], self.scanned == 0) {
                Some(end) => {
                    let raw = self.buf.split_to(self.scanned + end).freeze();
                    self.scanned = 0;
                    let data = event_data(&raw);
                    out.push(Piece::Event { raw, data });
                }
                None => {
                    // Rescan the last two bytes next time: a line end may be split.
                    self.scanned = self.buf.len().saturating_sub(2);
                    if self.buf.len() > MAX_EVENT_BYTES {
                        self.skip_line_end = matches!(self.buf.last(), Some(b'\n'));
                        out.push(Piece::Unread(self.buf.split().freeze()));
                        self.scanned = 0;
                        self.skipping = true;
                    }
                    return out;
                }
            }
        }
    }

    /// What is left when the stream ends (an unterminated event), to relay as is.
    pub(super) fn finish(&mut self) -> Option<Piece> {
        if self.buf.is_empty() {
            return None;
        }
        let raw = self.buf.split().freeze();
        let data = event_data(&raw);
        Some(Piece::Event { raw, data })
    }
}

/// The offset just past the first blank line in `bytes` (an event's end), if any.
/// `at_line_start`: `bytes` starts at the beginning of a line.
fn blank_line_end(bytes: &[u8], at_line_start: bool) -> Option<usize> {
    let mut line_start = at_line_start;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' if line_start => return Some(i + 1),
            b'\r' if line_start => {
                return match bytes.get(i + 1) {
                    Some(b'\n') => Some(i + 2),
                    Some(_) => Some(i + 1),
                    // A lone `\r` at the end: wait to see whether `\n` follows.
                    None => None,
                };
            }
            b'\n' => line_start = true,
            b'\r' => {
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                line_start = true;
            }
            _ => line_start = false,
        }
        i += 1;
    }
    None
}

/// The data of one event: its `data:` fields joined with `\n`.
fn event_data(raw: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut first = true;
    for line in raw.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(value) = line.strip_prefix(b"data") else {
            continue;
        };
        let value = match value {
            [] => value,
            [b':', rest @ ..] => rest.strip_prefix(b" ").unwrap_or(rest),
            _ => continue,
        };
        if !first {
            data.push(b'\n');
        }
        first = false;
        data.extend_from_slice(value);
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(pieces: Vec<Piece>) -> Vec<(String, String)> {
        pieces
            .into_iter()
            .map(|p| match p {
                Piece::Event { raw, data } => (
                    String::from_utf8(raw.to_vec()).unwrap(),
                    String::from_utf8(data).unwrap(),
                ),
                Piece::Unread(b) => (String::from_utf8(b.to_vec()).unwrap(), "<unread>".into()),
            })
            .collect()
    }

    #[test]
    fn events_are_cut_whole_whatever_the_chunks() {
        let stream =
            "event: message\r\ndata: {\"a\":1}\r\n\r\nid: 2\ndata: x\ndata: y\n\n: ping\n\n";
        for split in 0..stream.len() {
            let mut s = Splitter::default();
            let mut got = events(s.push(&stream.as_bytes()[..split]));
            got.extend(events(s.push(&stream.as_bytes()[split..])));
            assert_eq!(
                got,
                vec![
                    (
                        "event: message\r\ndata: {\"a\":1}\r\n\r\n".into(),
                        "{\"a\":1}".into()
                    ),
                    ("id: 2\ndata: x\ndata: y\n\n".into(), "x\ny".into()),
                    (": ping\n\n".into(), String::new()),
                ],
                "split at {split}"
            );
            assert!(s.finish().is_none());
        }
    }

    #[test]
    fn an_unterminated_event_is_relayed_at_the_end() {
        let mut s = Splitter::default();
        assert!(s.push(b"data: partial").is_empty());
        assert_eq!(
            events(s.finish().into_iter().collect()),
            vec![("data: partial".into(), "partial".into())]
        );
    }
}
