#!/usr/bin/env bash
# Starts a Prism mock (pinned 5.16.0) of each official OpenAPI document on 127.0.0.1 and runs
# the contract tests against it. Skips, loudly, only when npm is not available.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v npm >/dev/null 2>&1; then
  echo "SKIPPED: contract tests need npm to install @stoplight/prism-cli, and npm is not installed" >&2
  exit 0
fi
# shellcheck source=.ci/lib.sh
. "$root/.ci/lib.sh"
work=$(mktemp -d)
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT

prism_dir=$(tool_dir prism)
install_npm "$prism_dir" '@stoplight/prism-cli@5.16.0'
prism="$prism_dir/node_modules/.bin/prism"

for version in 2026-07-19 2026-08-22; do
  spec=$(spec_path "$version")
  port=$(free_port)
  log="$work/prism-$version.log"
  start_server "$prism" mock --host 127.0.0.1 --port "$port" "$spec"
  wait_for_line "$log" 'Prism is listening'
  prism_pid=$server_pid
  echo "contract: $version on Prism port $port"
  PRISM_URL="http://127.0.0.1:$port" PRISM_PID="$prism_pid" PRISM_SPEC="$spec" \
    cargo test --manifest-path "$root/Cargo.toml" --test contract -- --ignored --test-threads 1 --nocapture
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  server_pid=""
done
