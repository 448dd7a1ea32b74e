#!/usr/bin/env bash
# Checks every crate of the workspace the way a downstream user builds it: with its
# default features, with none, and with each feature alone (`cargo check -p CRATE
# --no-default-features --features F`). A workspace build unifies the features of all members, so
# a crate that compiles only because a sibling turns a feature on passes every other step; this
# one fails. The benchmark harness is included: its default build is the README's main command.
#
#   scripts/check-features.sh             # every crate
#   scripts/check-features.sh stowage     # the named crates only
set -euo pipefail
cd "$(dirname "$0")/.."

plan=$(cargo metadata --no-deps --format-version 1 --locked | python3 -c '
import json, sys
wanted = set(sys.argv[1:])
for p in json.load(sys.stdin)["packages"]:
    if wanted and p["name"] not in wanted:
        continue
    print(p["name"], "<default>")
    print(p["name"], "<none>")
    for f in sorted(p["features"]):
        if f != "default":
            print(p["name"], f)
' "$@")

failed=()
checked=0
while read -r crate feature; do
    case "$feature" in
    "<default>") args=() ;;
    "<none>") args=(--no-default-features) ;;
    *) args=(--no-default-features --features "$feature") ;;
    esac
    printf '[check-features] %s %s\n' "$crate" "$feature" >&2
    if ! cargo check -q --locked -p "$crate" "${args[@]}"; then
        failed+=("$crate $feature")
    fi
    checked=$((checked + 1))
done <<<"$plan"

if [ ${#failed[@]} -gt 0 ]; then
    printf '[check-features] does not compile on its own: %s\n' "${failed[@]}" >&2
    exit 1
fi
printf '[check-features] %d feature sets compile on their own\n' "$checked" >&2
