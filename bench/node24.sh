#!/usr/bin/env bash
# Runs the benchmarks with the servers on Node 24 (the load generator stays on the current Node).
# Installs Node 24 from the npm registry (the `node` package) into bench/.tmp/node24 on first use.
#
#   bash bench/node24.sh [NAME...] [run.mjs options]      e.g. bash bench/node24.sh self-check --no-record
#   NODE24_VERSION=24.11.0 bash bench/node24.sh           pin an exact version (default: latest 24.x)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="$here/.tmp/node24"
bin="$prefix/node_modules/node/bin/node"
want="${NODE24_VERSION:-24}"

have=""
if [[ -x "$bin" ]]; then have="$("$bin" --version 2>/dev/null || true)"; fi
case "$have" in
  "v$want" | "v$want".*) ;;
  *)
    echo "node24.sh: installing node@$want into $prefix" >&2
    mkdir -p "$prefix"
    # A package.json of its own, so that npm does not treat the repository's workspaces as the project.
    [[ -f "$prefix/package.json" ]] || printf '{ "name": "gatehouse-bench-node24", "private": true }\n' >"$prefix/package.json"
    (cd "$prefix" && npm install --no-audit --no-fund --no-package-lock --loglevel=error "node@$want" >&2)
    have="$("$bin" --version)"
    ;;
esac
case "$have" in
  v24.*) ;;
  *) echo "node24.sh: expected Node 24 at $bin, got '${have:-nothing}'" >&2; exit 1 ;;
esac
echo "node24.sh: servers on Node $have ($bin)" >&2

exec node "$here/run.mjs" --node "$bin" "$@"
