#!/usr/bin/env bash
# Fuzz the decoders of stored bytes and the MCP proxy's line handling with libFuzzer.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs the nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz into
# ~/.cargo/bin when it is missing. Each target runs for SECONDS_PER_TARGET (default 60) from the
# corpus it has gathered so far (fuzz/corpus/TARGET, not committed); a crash stops the script
# with the input saved under fuzz/artifacts/TARGET. Not part of scripts/test.sh: CI may skip it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(binary_envelope json_envelope fernet_read compressed_read proxy_lines)
fi

if ! rustup toolchain list | grep -q '^nightly'; then
    log "the nightly toolchain is missing: rustup toolchain install nightly"
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

export CARGO_TARGET_DIR="$STOWAGE_CACHE/target-fuzz"
mkdir -p "$CARGO_TARGET_DIR"
for t in "${targets[@]}"; do
    log "fuzzing $t for ${seconds}s"
    mkdir -p "fuzz/corpus/$t"
    out="$CARGO_TARGET_DIR/fuzz-$t.log"
    status=0
    cargo +nightly fuzz run --fuzz-dir fuzz "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$out" 2>&1 || status=$?
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|SUMMARY)' "$out" || true
    if [ "$status" -ne 0 ]; then
        tail -n 40 "$out" >&2
        log "$t failed (see $out; a crashing input is under fuzz/artifacts/$t)"
        exit 1
    fi
done
log "no failures"
