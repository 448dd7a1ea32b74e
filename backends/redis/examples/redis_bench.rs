//! Stowage's Redis store beside the raw `redis` crate and `redis-benchmark`, on one server, in
//! one run, reported as ratios:
//!
//! - `get` and `put` at concurrency 32 (1 KiB JSON values, 10 000 keys): Stowage
//!   (`Arc<dyn KeyValueStore>`, envelope encode/decode included) vs the raw crate
//!   (`ConnectionManager`s, as many as the store's connections and used in turn like them, the
//!   same JSON text stored as is);
//! - pipelined `get_many` of 16 keys from 50 tasks vs `redis-benchmark -P 16 -c 50 -r 10000
//!   -t get` (keys read per second), reading the same 1 KiB values the example loads under the
//!   names `redis-benchmark` uses (`key:000000000042`); the share of its reads that found a value
//!   is printed beside it.
//!
//! Every measurement runs in rounds, the Stowage side and its baseline back to back, and the
//! ratio is taken per round (the median and range are printed). `--threads 0` runs the client
//! on a one-thread runtime, like `redis-benchmark`'s single event loop, leaving the other core
//! to `redis-server`; the default is a two-worker runtime. `--connections C` sets the store's
//! connections and the raw client's alike (default: the store's default, `DEFAULT_CONNECTIONS`).
//!
//! ```sh
//! cargo run --release -p stowage-redis --example redis_bench -- redis://127.0.0.1:6379/ \
//!     [--threads N] [--rounds R] [--connections C]
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use stowage_core::{KeyValueStore, Value};
use stowage_redis::RedisStore;

const KEYS: usize = 10_000;
const VALUE_SIZE: usize = 1024;
const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(2);

/// One measurement over the rounds: (Stowage, baseline) per round.
#[derive(Default)]
struct Pairs(Vec<(f64, f64)>);

impl Pairs {
    fn push(&mut self, stowage: f64, baseline: f64) {
        self.0.push((stowage, baseline));
    }

    fn print(&self, what: &str) {
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            (v[v.len() / 2], v[0], v[v.len() - 1])
        };
        let (stowage, ..) = median(self.0.iter().map(|p| p.0).collect());
        let (baseline, ..) = median(self.0.iter().map(|p| p.1).collect());
        let (ratio, low, high) = median(self.0.iter().map(|(s, b)| s / b).collect());
        println!("| {what} | {stowage:.0} | {baseline:.0} | {ratio:.2}× ({low:.2}–{high:.2}) |");
    }
}
/// Each pair of measurements is repeated, one side right after the other, and the ratio taken
/// per round: the machine is shared, and a slow moment should not decide a ratio.
const ROUNDS: usize = 5;
const COLLECTION: &str = "bench";

/// Run `op` from `tasks` tasks for the warm-up plus the measured time; ops per second measured.
async fn drive<F, Fut>(tasks: usize, op: F) -> f64
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = u64> + Send,
{
    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let (op, stop, measuring, done) =
                (op.clone(), stop.clone(), measuring.clone(), done.clone());
            tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let n = op(t, i).await;
                    if measuring.load(Ordering::Relaxed) {
                        done.fetch_add(n, Ordering::Relaxed);
                    }
                    i += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(WARMUP).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(MEASURE).await;
    let count = done.load(Ordering::Relaxed);
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.await.expect("no bench task panicked");
    }
    count as f64 / elapsed.as_secs_f64()
}

fn key(t: usize, i: u64) -> String {
    let n = (t as u64)
        .wrapping_mul(7919)
        .wrapping_add(i.wrapping_mul(104_729))
        % KEYS as u64;
    format!("key-{n}")
}

/// The key `redis-benchmark -r KEYS` reads for key number `n` (`key:` and twelve digits).
fn bench_key(n: usize) -> String {
    format!("key:{n:012}")
}

/// `GET` requests per second from `redis-benchmark -P 16 -c 50 -r KEYS -t get`, reading the
/// `bench_key`s the caller loaded. Without loaded keys `-t get` reads one key that does not exist
/// and measures 5-byte nil replies, not 1 KiB values; `hits` says what share of its reads found a
/// value (from the server's `keyspace_hits`/`keyspace_misses`), so that is checked, not assumed.
async fn redis_benchmark(url: &str, raw: &ConnectionManager) -> Option<(f64, f64)> {
    let u = url::Url::parse(url).ok()?;
    let stats = || async {
        let info: String = redis::cmd("INFO")
            .arg("stats")
            .query_async(&mut raw.clone())
            .await
            .ok()?;
        let field = |name: &str| -> Option<f64> {
            info.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))?
                .trim()
                .parse()
                .ok()
        };
        Some((field("keyspace_hits")?, field("keyspace_misses")?))
    };
    let before = stats().await?;
    let out = tokio::process::Command::new("redis-benchmark")
        .args([
            "-h",
            u.host_str()?,
            "-p",
            &u.port().unwrap_or(6379).to_string(),
        ])
        .args(["-q", "-n", "1000000", "-P", "16", "-c", "50"])
        .args(["-r", &KEYS.to_string(), "-t", "get"])
        .output()
        .await
        .ok()?;
    let after = stats().await?;
    let (hits, misses) = (after.0 - before.0, after.1 - before.1);
    let text = String::from_utf8_lossy(&out.stdout);
    // "GET: 1234567.89 requests per second, p50=… msec" (the last of the progress lines).
    let line = text
        .rsplit('\r')
        .next()?
        .lines()
        .find(|l| l.starts_with("GET:"))?;
    let rate = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((rate, hits / (hits + misses).max(1.0)))
}

const USAGE: &str = "usage: redis_bench [REDIS_URL] [--threads N] [--rounds R] [--connections C]\n\
    (threads 0: a one-thread runtime; connections: for the store and the raw client alike, by default the store's default)";

/// What to run.
struct Options {
    url: String,
    rounds: usize,
    connections: usize,
}

/// The raw crate over `n` connection managers used in turn, as the store uses its connections.
struct RawPool {
    conns: Vec<ConnectionManager>,
    next: AtomicU64,
}

impl RawPool {
    async fn open(url: &str, n: usize) -> redis::RedisResult<RawPool> {
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            conns.push(ConnectionManager::new(redis::Client::open(url)?).await?);
        }
        Ok(RawPool {
            conns,
            next: AtomicU64::new(0),
        })
    }

    fn pick(&self) -> ConnectionManager {
        let i = self.next.fetch_add(1, Ordering::Relaxed) as usize % self.conns.len();
        self.conns[i].clone()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut url = std::env::var("STOWAGE_TEST_REDIS_URL").ok();
    let mut threads = 2usize;
    let mut rounds = ROUNDS;
    let mut connections = stowage_redis::DEFAULT_CONNECTIONS;
    let mut args = std::env::args().skip(1);
    let count = |value: Option<String>| value.and_then(|n| n.parse::<usize>().ok()).ok_or(USAGE);
    let positive = |value| count(value).and_then(|n| if n > 0 { Ok(n) } else { Err(USAGE) });
    while let Some(arg) = args.next() {
        if arg == "--threads" {
            threads = count(args.next())?;
        } else if arg == "--connections" {
            connections = positive(args.next())?;
        } else if arg == "--rounds" {
            rounds = positive(args.next())?;
        } else {
            url = Some(arg);
        }
    }
    let url = url.ok_or(USAGE)?;
    let runtime = match threads {
        0 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()?,
    };
    println!(
        "runtime: {}; {connections} connection(s) on each side",
        match threads {
            0 => "one thread".to_owned(),
            n => format!("{n} worker threads"),
        }
    );
    runtime.block_on(run(Options {
        url,
        rounds,
        connections,
    }))
}

async fn run(opts: Options) -> Result<(), Box<dyn std::error::Error>> {
    let Options {
        url,
        rounds,
        connections,
    } = opts;
    let store: Arc<dyn KeyValueStore> = Arc::new(
        RedisStore::builder()
            .url(&url)
            .namespace("stowage-bench")
            .connections(connections)
            .build()
            .await?,
    );
    let pool = Arc::new(RawPool::open(&url, connections).await?);
    let raw = pool.pick();
    let data: String = "x".repeat(VALUE_SIZE - r#"{"data":""}"#.len());
    let value = Value::from_serialize(&serde_json::json!({ "data": data }))?;
    let json: Arc<str> = Arc::from(value.as_str());

    // Load every key on both sides.
    let names: Vec<String> = (0..KEYS).map(|n| format!("key-{n}")).collect();
    for chunk in names.chunks(500) {
        let batch: Vec<(&str, Value)> = chunk.iter().map(|k| (k.as_str(), value.clone())).collect();
        store.put_many(COLLECTION, &batch, None).await?;
        let pairs: Vec<(String, &str)> = chunk
            .iter()
            .map(|k| (format!("raw::{k}"), &*json))
            .collect();
        let () = raw.clone().mset(&pairs).await?;
    }
    // The same values under the names `redis-benchmark -r` reads.
    for chunk in (0..KEYS).collect::<Vec<_>>().chunks(500) {
        let pairs: Vec<(String, &str)> = chunk.iter().map(|&n| (bench_key(n), &*json)).collect();
        let () = raw.clone().mset(&pairs).await?;
    }

    let mut get = Pairs::default();
    let mut put = Pairs::default();
    let mut many = Pairs::default();
    let mut versus_bench = Pairs::default();
    let mut hit_share = 1f64;
    for _ in 0..rounds {
        let s = store.clone();
        let stowage_get_now = drive(32, move |t, i| {
            let s = s.clone();
            async move {
                assert!(s.get(COLLECTION, &key(t, i)).await.unwrap().is_some());
                1
            }
        })
        .await;
        let r = pool.clone();
        let raw_get_now = drive(32, move |t, i| {
            let mut r = r.pick();
            async move {
                let v: Option<Vec<u8>> = r.get(format!("raw::{}", key(t, i))).await.unwrap();
                assert!(v.is_some());
                1
            }
        })
        .await;
        let (s, v) = (store.clone(), value.clone());
        let stowage_put_now = drive(32, move |t, i| {
            let (s, v) = (s.clone(), v.clone());
            async move {
                s.put(COLLECTION, &key(t, i), v, None).await.unwrap();
                1
            }
        })
        .await;
        let (r, j) = (pool.clone(), json.clone());
        let raw_put_now = drive(32, move |t, i| {
            let (mut r, j) = (r.pick(), j.clone());
            async move {
                let () = r.set(format!("raw::{}", key(t, i)), &*j).await.unwrap();
                1
            }
        })
        .await;
        let s = store.clone();
        let stowage_many_now = drive(50, move |t, i| {
            let s = s.clone();
            async move {
                let keys: Vec<String> = (0..16).map(|j| key(t, i * 16 + j)).collect();
                let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
                let got = s.get_many(COLLECTION, &refs).await.unwrap();
                assert!(got.iter().all(Option::is_some));
                16
            }
        })
        .await;
        let r = pool.clone();
        let raw_many_now = drive(50, move |t, i| {
            let mut r = r.pick();
            async move {
                let keys: Vec<String> = (0..16)
                    .map(|j| format!("raw::{}", key(t, i * 16 + j)))
                    .collect();
                let got: Vec<Option<Vec<u8>>> = r.mget(&keys).await.unwrap();
                assert!(got.iter().all(Option::is_some));
                16
            }
        })
        .await;
        get.push(stowage_get_now, raw_get_now);
        put.push(stowage_put_now, raw_put_now);
        many.push(stowage_many_now, raw_many_now);
        if let Some((rate, hits)) = redis_benchmark(&url, &raw).await {
            versus_bench.push(stowage_many_now, rate);
            hit_share = hit_share.min(hits);
        }
    }

    println!(
        "{rounds} rounds; medians of each side, and the median (range) of the per-round ratios"
    );
    println!("| measurement | Stowage | baseline | ratio |");
    println!("| --- | ---: | ---: | ---: |");
    get.print("get, concurrency 32 (ops/s) vs raw `redis` crate");
    put.print("put, concurrency 32 (ops/s) vs raw `redis` crate");
    many.print("get_many of 16, 50 tasks (keys/s) vs raw `redis` crate `MGET` of 16");
    if versus_bench.0.is_empty() {
        println!("| get_many vs `redis-benchmark` | – | redis-benchmark not found | – |");
    } else {
        versus_bench.print(&format!(
            "get_many of 16, 50 tasks (keys/s) vs `redis-benchmark -P 16 -c 50 -r {KEYS} -t get` ({:.0} % hits)",
            hit_share * 100.0
        ));
    }
    store.destroy().await?;
    let loaded: Vec<String> = names
        .iter()
        .map(|k| format!("raw::{k}"))
        .chain((0..KEYS).map(bench_key))
        .collect();
    let () = redis::cmd("DEL")
        .arg(loaded)
        .query_async(&mut raw.clone())
        .await?;
    Ok(())
}
