//! `-v`: `tracing` logs on standard error, with secrets masked before they are written.

use std::io::Write;

use tracing_subscriber::fmt::MakeWriter;

/// Install the subscriber for `verbose` (0: warnings only, 1: info, 2: debug, 3+: trace).
pub(crate) fn init(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(RedactingStderr)
        .with_ansi(false)
        .with_target(verbose >= 2)
        .try_init();
}

/// Hands each event a buffer that is masked and written to standard error when dropped.
#[derive(Debug, Clone, Copy)]
struct RedactingStderr;

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = EventBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        EventBuffer(Vec::new())
    }
}

/// One formatted event, held until it is complete.
#[derive(Debug)]
struct EventBuffer(Vec<u8>);

impl Write for EventBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventBuffer {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = crate::redact::text(&String::from_utf8_lossy(&self.0));
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}
