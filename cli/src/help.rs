//! The examples and the exit-code table shown in `--help`.

/// Examples and exit codes shown after `stowage --help`.
pub(crate) const ROOT_AFTER_HELP: &str = "\
Store URLs:
  memory://                                   (a fresh in-memory store; for trying things out)
  disk:///var/lib/app/cache.redb   sled:///var/lib/app/sled   rocksdb:///var/lib/app/rocks
  redis://[user:password@]host:6379/0   rediss://…   redis://host:7000/?cluster=true
  mongodb://[user:password@]host:27017/DATABASE
  dynamodb://TABLE?endpoint=http://127.0.0.1:8000&region=us-east-1
Passwords and secret keys in URLs are never printed.

Examples:
  stowage put disk:///tmp/s.redb tokens alice '{\"token\":\"abc\"}' --ttl 3600
  stowage get disk:///tmp/s.redb tokens alice
  stowage keys redis://127.0.0.1:6379/ tokens --limit 20
  stowage copy disk:///tmp/s.redb redis://127.0.0.1:6379/ --collection tokens
  stowage health redis://127.0.0.1:6379/ mongodb://127.0.0.1:27017/
  STOWAGE_FERNET_KEY=… stowage get redis://127.0.0.1:6379/ tokens alice
  stowage completions bash > /etc/bash_completion.d/stowage";

/// Examples after `stowage get --help`.
pub(crate) const GET_HELP: &str = "\
Examples:
  stowage get disk:///tmp/s.redb tokens alice
  stowage get redis://127.0.0.1:6379/ tokens alice --json | jq .value
  STOWAGE_FERNET_KEY=… stowage get redis://127.0.0.1:6379/ tokens alice
Exits 1 when the key is absent or expired, and 77 when the value is Fernet-encrypted and no key
(or a wrong one) is given; --raw prints the encrypted envelope as stored.";

/// Examples after `stowage put --help`.
pub(crate) const PUT_HELP: &str = "\
Examples:
  stowage put disk:///tmp/s.redb tokens alice '{\"token\":\"abc\"}'
  stowage put redis://127.0.0.1:6379/ sessions s1 '{\"user\":\"alice\"}' --ttl 900
  echo '{\"big\":true}' | stowage put mongodb://127.0.0.1:27017/app docs d1
The value is a JSON object; without VALUE (or with `-`) it is read from standard input.";

/// Examples after `stowage delete --help`.
pub(crate) const DELETE_HELP: &str = "\
Examples:
  stowage delete redis://127.0.0.1:6379/ tokens alice
Exits 1 when there was nothing to delete.";

/// Examples after `stowage ttl --help`.
pub(crate) const TTL_HELP: &str = "\
Examples:
  stowage ttl redis://127.0.0.1:6379/ sessions s1
  stowage ttl redis://127.0.0.1:6379/ sessions s1 --json
Prints the remaining time to live (`none` for an entry that never expires); exits 1 when absent.";

/// Examples after `stowage keys --help`.
pub(crate) const KEYS_HELP: &str = "\
Examples:
  stowage keys disk:///tmp/s.redb tokens
  stowage keys redis://127.0.0.1:6379/ tokens --limit 100 --json   (one JSON object per line)
Needs the store's `keys` capability.";

/// Examples after `stowage collections --help`.
pub(crate) const COLLECTIONS_HELP: &str = "\
Examples:
  stowage collections disk:///tmp/s.redb
  stowage collections mongodb://127.0.0.1:27017/kv-store-adapter --json
Needs the store's `collections` capability.";

/// Examples after `stowage copy --help`.
pub(crate) const COPY_HELP: &str = "\
Examples:
  stowage copy disk:///var/lib/app/cache.redb redis://127.0.0.1:6379/
  stowage copy redis://127.0.0.1:6379/ 'dynamodb://kv?endpoint=http://127.0.0.1:8000' \\
      --collection tokens --collection sessions
  stowage copy redis://old:6379/ redis://new:6379/ --dry-run
Entries keep their remaining TTL; expired ones are skipped, and so are entries the destination
already holds with the same value and expiry, so a second run changes nothing. Without
--collection, every collection of the source is copied (needs its `collections` capability).
Layer flags (--fernet-key-env, --prefix, --compress) apply to both stores.";

/// Examples after `stowage health --help`.
pub(crate) const HEALTH_HELP: &str = "\
Examples:
  stowage health redis://127.0.0.1:6379/
  stowage health redis://cache:6379/ mongodb://db:27017/ --timeout 2 --json
Writes, reads and deletes a probe key in its own collection (`stowage-health` by default) and
reports the latency of each step. Exits non-zero when any store fails (69 when unreachable,
75 on a timeout), for container health checks and CI.";

/// Examples after `stowage cull --help`.
pub(crate) const CULL_HELP: &str = "\
Examples:
  stowage cull disk:///var/lib/app/cache.redb
Removes expired entries now (stores with native expiry do this themselves).";

/// Examples after `stowage destroy --help`.
pub(crate) const DESTROY_HELP: &str = "\
Examples:
  stowage destroy disk:///tmp/s.redb tokens      (one collection; asks first)
  stowage destroy redis://127.0.0.1:6379/ --yes  (everything this store holds)
Without --yes it asks for confirmation on the terminal, and refuses when there is none.";

/// Examples after `stowage bench --help`.
#[cfg(feature = "bench")]
pub(crate) const BENCH_HELP: &str = "\
Examples:
  stowage bench redis://127.0.0.1:6379/
  stowage bench disk:///tmp/bench.redb --duration 5 --concurrency 8 --workloads a,b,c
Runs the benchmark harness's workloads against this one store, in a collection of its own that
is removed afterwards. For comparisons between backends use the `stowage-bench` harness.";

/// Examples after `stowage completions --help`.
pub(crate) const COMPLETIONS_HELP: &str = "\
Examples:
  stowage completions bash > ~/.local/share/bash-completion/completions/stowage
  stowage completions zsh > ~/.zfunc/_stowage
  stowage completions fish > ~/.config/fish/completions/stowage.fish";

/// The root help's epilogue: [`ROOT_AFTER_HELP`] and the exit codes of [`crate::exit::TABLE`].
pub(crate) fn root_after_help() -> String {
    let mut text = format!("{ROOT_AFTER_HELP}\n\nExit codes:");
    for (code, meaning) in crate::exit::TABLE {
        text.push_str(&format!("\n  {code:>2}  {meaning}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_help_lists_every_exit_code() {
        let help = root_after_help();
        for (code, meaning) in crate::exit::TABLE {
            assert!(help.contains(&format!("{code:>2}  {meaning}")), "{code}");
        }
    }
}
