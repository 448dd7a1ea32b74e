# DynamoDB for the stowage-dynamodb tests: AWS DynamoDB Local, shipped inside the npm package
# amplify-dynamodb-simulator, run with Java (-inMemory -sharedDb) on a free loopback port.
# The unpacked package is cached under $STOWAGE_CACHE (never committed: its licence forbids
# redistribution). Exports STOWAGE_TEST_DYNAMODB_URL.
_ddb_dir="$STOWAGE_CACHE/amplify-dynamodb-simulator-2.9.30"
if [ -z "${STOWAGE_TEST_DYNAMODB_URL:-}" ]; then
    command -v java >/dev/null || need_apt openjdk-17-jre-headless
    command -v npm >/dev/null || need_apt npm
    if [ ! -f "$_ddb_dir/package/emulator/DynamoDBLocal.jar" ]; then
        log "fetching DynamoDB Local (npm amplify-dynamodb-simulator@2.9.30)"
        rm -rf "$_ddb_dir"
        mkdir -p "$_ddb_dir"
        (cd "$_ddb_dir" && npm pack -q amplify-dynamodb-simulator@2.9.30 >/dev/null &&
            tar xzf amplify-dynamodb-simulator-2.9.30.tgz && rm -f amplify-dynamodb-simulator-2.9.30.tgz)
    fi
fi
[ -n "${STOWAGE_INSTALL_ONLY:-}" ] && return 0
if [ -z "${STOWAGE_TEST_DYNAMODB_URL:-}" ]; then
    _ddb_port="$(free_port)"
    # java resolves DynamoDBLocal_lib relative to the working directory.
    start_bg dynamodb-local "$STOWAGE_TEST_DIR/dynamodb.log" \
        bash -c "cd '$_ddb_dir/package/emulator' && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -sharedDb -port $_ddb_port -disableTelemetry"
    wait_port "$_ddb_port" 60 || { cat "$STOWAGE_TEST_DIR/dynamodb.log" >&2; return 1; }
    export STOWAGE_TEST_DYNAMODB_URL="http://127.0.0.1:$_ddb_port"
fi
