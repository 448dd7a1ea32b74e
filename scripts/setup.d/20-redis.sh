# Redis for the stowage-redis tests: Debian's redis-server, one single node and one 3-primary
# Redis Cluster, each on free loopback ports with fresh directories, without persistence.
# Exports STOWAGE_TEST_REDIS_URL, STOWAGE_TEST_REDIS_CLUSTER_URL (the seed node; the tests select
# cluster mode) and STOWAGE_TEST_REDIS_SERVER (the binary, for tests that start their own server).
need_apt redis-server
[ -n "${STOWAGE_INSTALL_ONLY:-}" ] && return 0
STOWAGE_TEST_REDIS_SERVER="$(command -v redis-server)"
export STOWAGE_TEST_REDIS_SERVER

# A free port whose cluster bus port (port + 10000) is free and valid too.
_redis_port() {
    python3 - <<'PY'
import socket
while True:
    a = socket.socket(); a.bind(("127.0.0.1", 0)); port = a.getsockname()[1]
    if port + 10000 > 65535:
        a.close(); continue
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", port + 10000))
    except OSError:
        a.close(); continue
    b.close(); a.close(); print(port); break
PY
}

if [ -z "${STOWAGE_TEST_REDIS_URL:-}" ]; then
    _redis_dir="$STOWAGE_TEST_DIR/redis-single"
    mkdir -p "$_redis_dir"
    _redis_single_port="$(_redis_port)"
    start_bg redis-server "$_redis_dir/stdout.log" \
        redis-server --port "$_redis_single_port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$_redis_dir" --logfile "$_redis_dir/redis.log"
    wait_port "$_redis_single_port" 30 || { cat "$_redis_dir/redis.log" >&2; return 1; }
    export STOWAGE_TEST_REDIS_URL="redis://127.0.0.1:$_redis_single_port/"
fi

if [ -z "${STOWAGE_TEST_REDIS_CLUSTER_URL:-}" ]; then
    _redis_nodes=()
    for _i in 1 2 3; do
        _p="$(_redis_port)"
        _d="$STOWAGE_TEST_DIR/redis-cluster-$_p"
        mkdir -p "$_d"
        start_bg "redis-cluster-$_i" "$_d/stdout.log" \
            redis-server --port "$_p" --bind 127.0.0.1 --cluster-enabled yes \
            --cluster-config-file nodes.conf --cluster-node-timeout 5000 --save '' \
            --appendonly no --dir "$_d" --logfile "$_d/redis.log"
        _redis_nodes+=("127.0.0.1:$_p")
    done
    for _n in "${_redis_nodes[@]}"; do
        wait_port "${_n##*:}" 30 || return 1
    done
    redis-cli --cluster create "${_redis_nodes[@]}" --cluster-replicas 0 --cluster-yes >"$STOWAGE_TEST_DIR/redis-cluster-create.log" 2>&1 \
        || { cat "$STOWAGE_TEST_DIR/redis-cluster-create.log" >&2; return 1; }
    _seed_port="${_redis_nodes[0]##*:}"
    for _i in $(seq 1 100); do
        _ok=1
        for _n in "${_redis_nodes[@]}"; do
            _info="$(redis-cli -p "${_n##*:}" cluster info 2>/dev/null || true)"
            [[ "$_info" == *cluster_state:ok* ]] || _ok=0
        done
        [ "$_ok" = 1 ] && break
        sleep 0.1
    done
    [ "$_ok" = 1 ] || { log "the Redis Cluster did not reach cluster_state:ok"; return 1; }
    export STOWAGE_TEST_REDIS_CLUSTER_URL="redis://127.0.0.1:$_seed_port/"
fi
