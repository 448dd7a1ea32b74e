#!/usr/bin/env bash
# Start the real servers the test suite uses (Redis, a Redis Cluster, DynamoDB Local, the
# MongoDB-protocol server, and the Python venv) on loopback, print the STOWAGE_TEST_* variables,
# and keep everything running until interrupted. For benchmarks and for running single tests:
#
#   scripts/servers.sh /tmp/stowage-env     # also writes the `export` lines to that file
#   source /tmp/stowage-env                 # in another shell
#
# Ctrl-C (or SIGTERM) stops every server it started.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

STOWAGE_TEST_DIR="$(mktemp -d "${TMPDIR:-/tmp}/stowage-servers.XXXXXX")"
export STOWAGE_TEST_DIR
on_exit "rm -rf '$STOWAGE_TEST_DIR'"
trap run_exit_hooks EXIT
trap 'exit 130' INT TERM

for setup in scripts/setup.d/*.sh; do
    [ -e "$setup" ] || continue
    log "setup: $(basename "$setup")"
    source "$setup"
done

exports="$(env | grep '^STOWAGE_TEST_' | sort | sed "s/^\([^=]*\)=\(.*\)$/export \1='\2'/")"
printf '%s\n' "$exports"
[ -n "${1:-}" ] && printf '%s\n' "$exports" >"$1"
log "servers running; interrupt to stop them"
while true; do
    sleep 3600 &
    wait $! || true
done
