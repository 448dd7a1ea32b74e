//! Reading newline-delimited messages with a bound on their length, and writing them back as
//! single lines.

use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

/// What one bounded read found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Read {
    /// The input ended (no bytes read).
    Eof,
    /// A whole line is in the buffer (its newline, if any, removed).
    Line,
    /// The line is longer than the limit: the buffer holds its first `limit` bytes and the
    /// rest is still to be read (with [`skip_rest`] or [`copy_rest`]).
    TooLong,
}

/// Read one line into `buf` (cleared first), holding at most `limit` bytes of it.
pub(crate) async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> io::Result<Read> {
    buf.clear();
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(if buf.is_empty() {
                Read::Eof
            } else {
                Read::Line
            });
        }
        let room = limit - buf.len();
        match memchr(available) {
            Some(i) if i <= room => {
                buf.extend_from_slice(&available[..i]);
                reader.consume(i + 1);
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
                return Ok(Read::Line);
            }
            _ if available.len() <= room => {
                let n = available.len();
                buf.extend_from_slice(available);
                reader.consume(n);
            }
            _ => {
                buf.extend_from_slice(&available[..room]);
                reader.consume(room);
                return Ok(Read::TooLong);
            }
        }
    }
}

fn memchr(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// Discard the rest of the current line.
pub(crate) async fn skip_rest<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<()> {
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(());
        }
        if let Some(i) = memchr(available) {
            reader.consume(i + 1);
            return Ok(());
        }
        let n = available.len();
        reader.consume(n);
    }
}

/// Copy the rest of the current line to `out`, up to and including its newline.
pub(crate) async fn copy_rest<R, W>(reader: &mut R, out: &mut W) -> io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return out.write_all(b"\n").await;
        }
        if let Some(i) = memchr(available) {
            out.write_all(&available[..=i]).await?;
            reader.consume(i + 1);
            return Ok(());
        }
        let n = available.len();
        out.write_all(available).await?;
        reader.consume(n);
    }
}

/// `json` as one line: whitespace outside strings removed when the text holds a line break
/// (a stored answer written with indentation, say), left as is otherwise. Strings and numbers
/// keep their exact text.
pub(crate) fn one_line(json: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !json.iter().any(|&b| b == b'\n' || b == b'\r') {
        return std::borrow::Cow::Borrowed(json);
    }
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
            out.push(b);
        } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            out.push(b);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], limit: usize) -> Vec<(Read, Vec<u8>)> {
        let mut reader = tokio::io::BufReader::with_capacity(4, input);
        let mut out = Vec::new();
        let mut buf = Vec::new();
        loop {
            let r = read_line(&mut reader, &mut buf, limit).await.unwrap();
            if r == Read::Eof {
                return out;
            }
            if r == Read::TooLong {
                skip_rest(&mut reader).await.unwrap();
            }
            out.push((r, buf.clone()));
        }
    }

    #[tokio::test]
    async fn lines_are_bounded() {
        let got = lines(b"ab\r\n0123456789\nxyz", 5).await;
        assert_eq!(
            got,
            vec![
                (Read::Line, b"ab".to_vec()),
                (Read::TooLong, b"01234".to_vec()),
                (Read::Line, b"xyz".to_vec()),
            ]
        );
        // Exactly at the limit is fine.
        assert_eq!(
            lines(b"12345\n", 5).await,
            vec![(Read::Line, b"12345".to_vec())]
        );
    }

    #[tokio::test]
    async fn the_rest_of_a_long_line_is_copied() {
        let mut reader = tokio::io::BufReader::with_capacity(3, &b"0123456789\nnext\n"[..]);
        let mut buf = Vec::new();
        assert_eq!(
            read_line(&mut reader, &mut buf, 4).await.unwrap(),
            Read::TooLong
        );
        let mut out = buf.clone();
        copy_rest(&mut reader, &mut out).await.unwrap();
        assert_eq!(out, b"0123456789\n");
        assert_eq!(
            read_line(&mut reader, &mut buf, 4).await.unwrap(),
            Read::Line
        );
        assert_eq!(buf, b"next");
    }

    #[test]
    fn answers_are_put_on_one_line() {
        let text = b"{\n  \"a\": \"x\\n y\\\" \\\\\",\r\n  \"n\": 18446744073709551617\n}";
        let line = one_line(text);
        assert_eq!(
            &*line,
            &b"{\"a\":\"x\\n y\\\" \\\\\",\"n\":18446744073709551617}"[..]
        );
        assert!(matches!(
            one_line(b"{\"a\": 1}"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
