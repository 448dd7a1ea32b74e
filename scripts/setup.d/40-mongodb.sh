# MongoDB for the stowage-mongodb tests: SecantusDB (a MongoDB-wire-protocol server on WiredTiger,
# from PyPI) in its own venv under $STOWAGE_CACHE, in memory, on a free loopback port.
# Exports STOWAGE_TEST_MONGODB_URL.
_secantus_venv="$STOWAGE_CACHE/secantusdb-0.7.0b3"
if [ -z "${STOWAGE_TEST_MONGODB_URL:-}" ] && [ ! -x "$_secantus_venv/bin/secantusd-py" ]; then
    log "installing SecantusDB into $_secantus_venv"
    rm -rf "$_secantus_venv"
    python3 -m venv "$_secantus_venv"
    "$_secantus_venv/bin/pip" install -q 'secantusdb==0.7.0b3'
fi
[ -n "${STOWAGE_INSTALL_ONLY:-}" ] && return 0
if [ -z "${STOWAGE_TEST_MONGODB_URL:-}" ]; then
    _mongo_port="$(free_port)"
    start_bg secantusdb "$STOWAGE_TEST_DIR/secantusdb.log" \
        "$_secantus_venv/bin/secantusd-py" --host 127.0.0.1 --port "$_mongo_port" --storage-path :memory:
    wait_port "$_mongo_port" 60 || { cat "$STOWAGE_TEST_DIR/secantusdb.log" >&2; return 1; }
    export STOWAGE_TEST_MONGODB_URL="mongodb://127.0.0.1:$_mongo_port/?directConnection=true"
fi
