//! The command line: subcommands, their arguments and the examples in their help.

use std::time::Duration;

use clap::{ArgAction, Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

#[cfg(feature = "bench")]
use crate::help::BENCH_HELP;
use crate::help::{
    COLLECTIONS_HELP, COMPLETIONS_HELP, COPY_HELP, CULL_HELP, DELETE_HELP, DESTROY_HELP, GET_HELP,
    HEALTH_HELP, KEYS_HELP, PUT_HELP, TTL_HELP, root_after_help,
};

/// Parse `argv`, with the exit codes in the root help.
pub(crate) fn parse(argv: &[String]) -> Result<Cli, clap::Error> {
    let matches = Cli::command()
        .after_help(root_after_help())
        .try_get_matches_from(argv)?;
    Cli::from_arg_matches(&matches)
}

/// Look into, operate and migrate any Stowage store by URL.
#[derive(Debug, Parser)]
#[command(name = "stowage", version)]
pub(crate) struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub(crate) global: Global,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Print JSON: one document, or one JSON object per line for listings.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Log to standard error: -v info, -vv debug, -vvv trace.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    /// Decrypt and encrypt values with the Fernet key(s) in environment variable VAR
    /// (comma-separated keys: the first encrypts, any decrypts). Default: STOWAGE_FERNET_KEY,
    /// when it is set.
    #[arg(long, value_name = "VAR", global = true)]
    pub(crate) fernet_key_env: Option<String>,
    /// Prefix every collection name: collection C is stored as PREFIX__C (py-key-value's
    /// PrefixCollectionsWrapper).
    #[arg(long, value_name = "PREFIX", global = true)]
    pub(crate) prefix: Option<String>,
    /// Prefix every key: key K is stored as PREFIX__K (py-key-value's PrefixKeysWrapper).
    #[arg(long, value_name = "PREFIX", global = true)]
    pub(crate) key_prefix: Option<String>,
    /// Gzip values of 1 KiB and more, in py-key-value's CompressionWrapper format.
    #[arg(long, global = true)]
    pub(crate) compress: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the value of a key.
    #[command(after_help = GET_HELP)]
    Get(GetArgs),
    /// Store a JSON object under a key.
    #[command(after_help = PUT_HELP)]
    Put(PutArgs),
    /// Remove a key.
    #[command(after_help = DELETE_HELP)]
    Delete(EntryArgs),
    /// Print the remaining time to live of a key.
    #[command(after_help = TTL_HELP)]
    Ttl(EntryArgs),
    /// List the keys of a collection.
    #[command(after_help = KEYS_HELP)]
    Keys(KeysArgs),
    /// List the collections of a store.
    #[command(after_help = COLLECTIONS_HELP)]
    Collections(CollectionsArgs),
    /// Copy entries from one store to another, with their remaining TTLs.
    #[command(after_help = COPY_HELP)]
    Copy(CopyArgs),
    /// Check that stores answer: write, read and delete a probe key.
    #[command(after_help = HEALTH_HELP)]
    Health(HealthArgs),
    /// Remove expired entries now.
    #[command(after_help = CULL_HELP)]
    Cull(UrlArgs),
    /// Remove a collection, or everything the store holds.
    #[command(after_help = DESTROY_HELP)]
    Destroy(DestroyArgs),
    /// A short read/write benchmark against one store.
    #[cfg(feature = "bench")]
    #[command(after_help = BENCH_HELP)]
    Bench(BenchArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
}

/// A store URL, a collection and a key.
#[derive(Debug, Args)]
pub(crate) struct EntryArgs {
    /// The store URL.
    pub(crate) url: String,
    /// The collection.
    pub(crate) collection: String,
    /// The key.
    pub(crate) key: String,
}

/// `get`.
#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// Where and which key.
    #[command(flatten)]
    pub(crate) entry: EntryArgs,
    /// Print the value as stored, even a Fernet envelope when no key is given.
    #[arg(long)]
    pub(crate) raw: bool,
}

/// `put`.
#[derive(Debug, Args)]
pub(crate) struct PutArgs {
    /// Where and under which key.
    #[command(flatten)]
    pub(crate) entry: EntryArgs,
    /// The value, a JSON object; `-` or absent: read from standard input.
    pub(crate) value: Option<String>,
    /// Expire after this many seconds (fractions allowed). Default: never.
    #[arg(long, value_name = "SECS", value_parser = parse_ttl)]
    pub(crate) ttl: Option<Duration>,
}

/// `keys`.
#[derive(Debug, Args)]
pub(crate) struct KeysArgs {
    /// The store URL.
    pub(crate) url: String,
    /// The collection.
    pub(crate) collection: String,
    /// Print at most this many keys.
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
}

/// `collections`.
#[derive(Debug, Args)]
pub(crate) struct CollectionsArgs {
    /// The store URL.
    pub(crate) url: String,
    /// Print at most this many collections.
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
}

/// `copy`.
#[derive(Debug, Args)]
pub(crate) struct CopyArgs {
    /// The store to copy from.
    pub(crate) src: String,
    /// The store to copy to.
    pub(crate) dst: String,
    /// Copy only this collection (repeatable). Default: every collection of the source.
    #[arg(long = "collection", value_name = "C")]
    pub(crate) collections: Vec<String>,
    /// Entries read and written per batch.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    pub(crate) batch_size: u16,
    /// Batches in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) jobs: u16,
    /// Read both stores and report what would be copied, writing nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// `health`.
#[derive(Debug, Args)]
pub(crate) struct HealthArgs {
    /// The store URLs to check.
    #[arg(required = true)]
    pub(crate) urls: Vec<String>,
    /// The collection the probe key is written to.
    #[arg(long, value_name = "C", default_value = "stowage-health")]
    pub(crate) collection: String,
    /// Seconds each step may take before it counts as failed.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_ttl)]
    pub(crate) timeout: Duration,
}

/// A store URL alone.
#[derive(Debug, Args)]
pub(crate) struct UrlArgs {
    /// The store URL.
    pub(crate) url: String,
}

/// `destroy`.
#[derive(Debug, Args)]
pub(crate) struct DestroyArgs {
    /// The store URL.
    pub(crate) url: String,
    /// Remove only this collection. Default: everything this store holds.
    pub(crate) collection: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
}

/// `bench`.
#[cfg(feature = "bench")]
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// The store URL.
    pub(crate) url: String,
    /// Workloads, comma-separated: read-heavy, update-heavy, read-only, read-latest,
    /// read-modify-write, cache (or YCSB letters a, b, c, d, f).
    #[arg(long, value_delimiter = ',', default_value = "read-heavy,update-heavy")]
    pub(crate) workloads: Vec<String>,
    /// Measured seconds per workload.
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = parse_ttl)]
    pub(crate) duration: Duration,
    /// Concurrent client tasks.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) concurrency: u16,
    /// Distinct keys, written before the runs.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub(crate) keys: u32,
    /// Bytes per value.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(16..=16_000_000))]
    pub(crate) value_size: u32,
}

/// `completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    pub(crate) shell: clap_complete::Shell,
}

/// A positive number of seconds, at most about a hundred years.
pub(crate) fn parse_ttl(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 || secs > 3.2e9 {
        return Err(format!(
            "`{text}`: expected more than zero seconds (and at most about a hundred years)"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_has_examples() {
        for sub in Cli::command().get_subcommands() {
            let help = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(
                help.contains("Examples:"),
                "{} has no examples",
                sub.get_name()
            );
            assert!(help.contains(&format!("stowage {}", sub.get_name())));
        }
    }

    #[test]
    fn ttls_must_be_positive_finite_seconds() {
        assert_eq!(parse_ttl("1.5"), Ok(Duration::from_millis(1500)));
        for bad in ["0", "-1", "NaN", "inf", "1e300", "abc", ""] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }
}
