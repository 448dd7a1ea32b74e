# The Python venv for interop and end-to-end tests (py-key-value-aio, fastmcp).
# Exports STOWAGE_TEST_PYTHON, the venv's interpreter.
STOWAGE_TEST_PYTHON="$(python_venv)/bin/python"
export STOWAGE_TEST_PYTHON
"$STOWAGE_TEST_PYTHON" -c 'import key_value.aio, fastmcp' || {
    log "the Python venv is broken: $STOWAGE_TEST_PYTHON"
    return 1
}
