# The Python venvs for interop and end-to-end tests (py-key-value-aio, fastmcp).
# Exports STOWAGE_TEST_PYTHON, the interpreter of the venv the tests run with (py-key-value-aio
# 0.4.6, FastMCP 4.1), and STOWAGE_TEST_PYTHON_NEXT, that of the current stack
# (py-key-value-aio 0.5, FastMCP 4.2), which scripts/test.sh runs the interop tests with again.
STOWAGE_TEST_PYTHON="$(python_venv)/bin/python"
STOWAGE_TEST_PYTHON_NEXT="$(python_venv venv-next scripts/python-requirements-next.txt)/bin/python"
[ -n "${STOWAGE_INSTALL_ONLY:-}" ] && return 0
export STOWAGE_TEST_PYTHON STOWAGE_TEST_PYTHON_NEXT
"$STOWAGE_TEST_PYTHON" -c 'import key_value.aio, fastmcp' || {
    log "the Python venv is broken: $STOWAGE_TEST_PYTHON"
    return 1
}
"$STOWAGE_TEST_PYTHON_NEXT" -c 'import key_value.aio, fastmcp' || {
    log "the Python venv is broken: $STOWAGE_TEST_PYTHON_NEXT"
    return 1
}
