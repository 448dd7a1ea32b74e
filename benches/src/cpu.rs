//! The CPU time this process has used. CPU time per operation is a cost that the machine's
//! other load disturbs much less than throughput: time a virtual CPU spends stolen, or waiting
//! behind another process, is not counted. Beside ops/s it gives a second, steadier estimate of a
//! store's overhead against its baseline.
//!
//! ```
//! let before = stowage_bench::cpu::process_cpu();
//! let after = stowage_bench::cpu::process_cpu();
//! if let (Some(before), Some(after)) = (before, after) {
//!     assert!(after >= before);
//! }
//! ```

use std::time::Duration;

/// Clock ticks per second of the times in `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SEC: u64 = 100;

/// User plus system CPU time of this process: every thread, live or exited, in steps of 10 ms.
/// `None` where `/proc/self/stat` cannot be read (not Linux).
pub fn process_cpu() -> Option<Duration> {
    parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// `utime + stime` from the text of `/proc/<pid>/stat`.
fn parse_stat(stat: &str) -> Option<Duration> {
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so fields are counted
    // from the last `)`. The first field after it is field 3 (state); utime and stime are
    // fields 14 and 15.
    let mut fields = stat[stat.rfind(')')? + 1..].split_ascii_whitespace();
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    let ticks = utime.checked_add(stime)?;
    Some(Duration::from_millis(
        ticks.checked_mul(1000)? / TICKS_PER_SEC,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn reads_utime_and_stime_after_an_odd_command_name() {
        let stat = "4242 (a (b) c) R 1 4242 4242 0 -1 4194560 100 0 0 0 250 125 0 0 20 0 3 0 \
                    12345 1000000 500 18446744073709551615";
        assert_eq!(parse_stat(stat), Some(Duration::from_millis(3750)));
        assert_eq!(parse_stat("4242 (short) R 1 2"), None);
        assert_eq!(parse_stat("no parenthesis"), None);
        assert_eq!(
            parse_stat("1 (x) R 1 1 1 0 -1 0 0 0 0 0 ten 0 0"),
            None,
            "not a number"
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn grows_while_this_process_computes() {
        let start = process_cpu().expect("/proc/self/stat on Linux");
        let began = Instant::now();
        let mut x = 0u64;
        while process_cpu().unwrap() < start + Duration::from_millis(50) {
            for i in 0..100_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
            }
            std::hint::black_box(x);
            assert!(
                began.elapsed() < Duration::from_secs(30),
                "CPU time did not advance"
            );
        }
    }
}
