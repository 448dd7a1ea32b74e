//! Workloads: the mix of operations and how keys are chosen.

use std::fmt;

use anyhow::{Result, bail};

/// A named operation mix, after YCSB's core workloads, plus a cache workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// YCSB A: 50 % reads, 50 % updates.
    UpdateHeavy,
    /// YCSB B: 95 % reads, 5 % updates.
    ReadHeavy,
    /// YCSB C: reads only.
    ReadOnly,
    /// YCSB D: 95 % reads skewed to the newest keys, 5 % inserts of new keys.
    ReadLatest,
    /// YCSB F: 50 % reads, 50 % read-modify-write (a read, then a write of the same key).
    ReadModifyWrite,
    /// Cache-aside: read; on a miss, write the key with a TTL. A share of reads (the target hit
    /// rate) goes to keys loaded before the run, the rest to a large cold key space, so misses
    /// write short-lived entries that expire while the run goes on.
    Cache,
}

impl Workload {
    /// Every workload, in table order.
    pub const ALL: [Workload; 6] = [
        Workload::UpdateHeavy,
        Workload::ReadHeavy,
        Workload::ReadOnly,
        Workload::ReadLatest,
        Workload::ReadModifyWrite,
        Workload::Cache,
    ];

    /// The name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Workload::UpdateHeavy => "update-heavy",
            Workload::ReadHeavy => "read-heavy",
            Workload::ReadOnly => "read-only",
            Workload::ReadLatest => "read-latest",
            Workload::ReadModifyWrite => "read-modify-write",
            Workload::Cache => "cache",
        }
    }

    /// The YCSB letter, when the workload is one of YCSB's.
    pub fn ycsb(self) -> Option<char> {
        match self {
            Workload::UpdateHeavy => Some('a'),
            Workload::ReadHeavy => Some('b'),
            Workload::ReadOnly => Some('c'),
            Workload::ReadLatest => Some('d'),
            Workload::ReadModifyWrite => Some('f'),
            Workload::Cache => None,
        }
    }

    /// The share of operations that are reads (the rest write).
    pub fn read_fraction(self) -> f64 {
        match self {
            Workload::ReadHeavy | Workload::ReadLatest => 0.95,
            Workload::UpdateHeavy | Workload::ReadModifyWrite => 0.5,
            Workload::ReadOnly | Workload::Cache => 1.0,
        }
    }

    /// Parse a name or a YCSB letter (`a`, `b`, `c`, `d`, `f`), or explain which exist.
    pub fn parse(name: &str) -> Result<Workload> {
        let lower = name.trim().to_ascii_lowercase();
        let found = Workload::ALL.iter().find(|w| {
            w.name() == lower
                || w.ycsb().is_some_and(|c| {
                    lower.len() == 1 && lower.starts_with(c) || lower == format!("ycsb-{c}")
                })
        });
        match found {
            Some(w) => Ok(*w),
            None => bail!(
                "unknown workload `{name}`; known workloads: {} (or YCSB letters a, b, c, d, f)",
                Workload::ALL.map(Workload::name).join(", ")
            ),
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How keys are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Distribution {
    /// Every key equally likely.
    Uniform,
    /// YCSB's scrambled Zipfian (θ = 0.99): a few hot keys, spread over the key space.
    Zipfian,
}

/// Draws key indexes in `0..n`.
#[derive(Debug, Clone)]
pub enum KeyChooser {
    /// Uniform over `0..n`.
    Uniform {
        /// Number of keys.
        n: u64,
    },
    /// Scrambled Zipfian (Gray et al., as in YCSB).
    Zipfian(Zipf),
}

/// Precomputed constants of a Zipfian distribution over `0..n`.
#[derive(Debug, Clone)]
pub struct Zipf {
    n: u64,
    theta: f64,
    alpha: f64,
    zetan: f64,
    eta: f64,
}

const THETA: f64 = 0.99;

fn zeta(n: u64, theta: f64) -> f64 {
    (1..=n).map(|i| 1.0 / (i as f64).powf(theta)).sum()
}

impl Zipf {
    fn new(n: u64) -> Zipf {
        let zetan = zeta(n, THETA);
        let zeta2 = zeta(2, THETA);
        Zipf {
            n,
            theta: THETA,
            alpha: 1.0 / (1.0 - THETA),
            zetan,
            eta: (1.0 - (2.0 / n as f64).powf(1.0 - THETA)) / (1.0 - zeta2 / zetan),
        }
    }

    fn next(&self, rng: &mut fastrand::Rng) -> u64 {
        let u = rng.f64();
        let uz = u * self.zetan;
        let rank = if uz < 1.0 {
            0
        } else if uz < 1.0 + 0.5f64.powf(self.theta) {
            1
        } else {
            ((self.n as f64) * (self.eta * u - self.eta + 1.0).powf(self.alpha)) as u64
        };
        rank.min(self.n - 1)
    }
}

impl KeyChooser {
    /// A chooser over `0..n` (n ≥ 1).
    pub fn new(distribution: Distribution, n: usize) -> KeyChooser {
        let n = n.max(1) as u64;
        match distribution {
            Distribution::Uniform => KeyChooser::Uniform { n },
            Distribution::Zipfian => KeyChooser::Zipfian(Zipf::new(n)),
        }
    }

    /// A key index skewed towards the newest of `count` keys (YCSB's "latest" distribution).
    pub fn latest(&self, rng: &mut fastrand::Rng, count: usize) -> usize {
        let back = match self {
            KeyChooser::Uniform { n } => rng.u64(..*n),
            KeyChooser::Zipfian(z) => z.next(rng),
        } as usize;
        count.saturating_sub(1).saturating_sub(back % count.max(1))
    }

    /// The next key index.
    pub fn next(&self, rng: &mut fastrand::Rng) -> usize {
        match self {
            KeyChooser::Uniform { n } => rng.u64(..*n) as usize,
            KeyChooser::Zipfian(z) => {
                // Scramble the rank so hot keys are spread, not clustered at low indexes.
                let rank = z.next(rng);
                (fnv(rank) % z.n) as usize
            }
        }
    }
}

fn fnv(x: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in x.to_le_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_an_error() {
        for w in Workload::ALL {
            assert_eq!(Workload::parse(w.name()).unwrap(), w);
        }
        assert_eq!(Workload::parse("d").unwrap(), Workload::ReadLatest);
        assert_eq!(
            Workload::parse("YCSB-F").unwrap(),
            Workload::ReadModifyWrite
        );
        assert!(Workload::parse("e").is_err());
        let err = Workload::parse("nope").unwrap_err().to_string();
        assert!(err.contains("read-heavy"), "{err}");
    }

    #[test]
    fn zipfian_is_skewed_and_in_range() {
        let chooser = KeyChooser::new(Distribution::Zipfian, 1000);
        let mut rng = fastrand::Rng::with_seed(7);
        let mut counts = vec![0u32; 1000];
        for _ in 0..100_000 {
            counts[chooser.next(&mut rng)] += 1;
        }
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let top10: u32 = counts[..10].iter().sum();
        // Under θ = 0.99 over 1000 keys the ten hottest take about 38 % of draws; uniform, 1 %.
        assert!(top10 > 25_000, "top 10 keys drew {top10} of 100000");
    }

    #[test]
    fn uniform_covers_the_range() {
        let chooser = KeyChooser::new(Distribution::Uniform, 10);
        let mut rng = fastrand::Rng::with_seed(1);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            seen[chooser.next(&mut rng)] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
