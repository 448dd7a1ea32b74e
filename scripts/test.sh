#!/usr/bin/env bash
# The whole Stowage test suite, from a fresh machine: formatting, lints, and every test against
# real engines. Installs and starts what is missing (servers on 127.0.0.1 only), runs the tests,
# and stops everything it started.
#
#   scripts/test.sh              # everything
#   scripts/test.sh -E 'package(stowage-memory)'   # extra arguments go to cargo nextest
#
# The build directory survives between runs: $CARGO_TARGET_DIR, by default
# ~/.cache/stowage/target, so heavy C++ dependencies are built once per machine.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$STOWAGE_CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
STOWAGE_TEST_DIR="$(mktemp -d "${TMPDIR:-/tmp}/stowage-test.XXXXXX")"
export STOWAGE_TEST_DIR
on_exit "rm -rf '$STOWAGE_TEST_DIR'"
trap run_exit_hooks EXIT
trap 'exit 130' INT TERM

start=$SECONDS
step() {
    log "$* ($((SECONDS - start))s)"
}

# RocksDB's -sys crate generates its bindings with libclang.
need_apt libclang-dev
use_sccache

step "formatting"
cargo fmt --all -- --check

install_in_background

# One feature set for every workspace step (lints, test build, tests, doc tests), so each reuses
# the last one's build: the harness's server backends are off by default (its main run needs no
# server) and on here, for its test that runs each beside its raw client; the MCP proxy gets
# `redis://` store URLs for its test of two servers sharing one Redis.
workspace_features=(--features stowage-bench/servers,stowage-mcp/redis)

step "lints, and the test build"
scripts/check-module-cycles.py
# Clippy (`-D warnings`) runs inside the test build, over every target: what
# `cargo clippy --workspace --all-targets -- -D warnings` reports fails this build.
lint_while_building
cargo test --workspace --all-targets --locked "${workspace_features[@]}" --no-run -q

# The next two steps build with other features in check mode: nothing to share with the test
# build, so they run without clippy.
step "each crate as a dependency: default features, none, each feature alone"
env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS scripts/check-features.sh

step "a user's crate: the README's examples built outside the workspace"
# It starts from the workspace's lock file, so it builds the versions the suite tests; cargo
# drops what it does not use, as a user's own lock would hold only what the user depends on.
cp Cargo.lock tests/downstream/Cargo.lock
env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS \
    cargo run -q --manifest-path tests/downstream/Cargo.toml
env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS \
    cargo check -q --manifest-path tests/downstream/Cargo.toml --features backends

wait_for_install
for setup in scripts/setup.d/*.sh; do
    [ -e "$setup" ] || continue
    step "setup: $(basename "$setup")"
    source "$setup"
done

step "tests"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked "${workspace_features[@]}" --no-fail-fast --profile ci "$@"
else
    cargo test --workspace --locked "${workspace_features[@]}" --no-fail-fast "$@"
fi

# The interop and end-to-end tests once more, against the current Python stack
# (py-key-value-aio 0.5, FastMCP 4.2), so the compatibility claim covers users of either.
if [ $# -eq 0 ] && cargo nextest --version >/dev/null 2>&1; then
    step "interop and end-to-end tests against py-key-value-aio 0.5 and FastMCP 4.2"
    STOWAGE_TEST_PYTHON="$STOWAGE_TEST_PYTHON_NEXT" cargo nextest run --workspace --locked \
        "${workspace_features[@]}" --no-fail-fast --profile ci \
        -E 'binary(interop) | binary(interop_python) | binary(python_e2e)'
fi

step "doc tests"
cargo test --workspace --locked "${workspace_features[@]}" --doc -q

step "pruning the build directory"
prune_superseded_tests

step "done"
