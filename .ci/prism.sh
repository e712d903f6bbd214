#!/usr/bin/env bash
# Starts a Prism mock (pinned 5.16.0) of each official OpenAPI document on 127.0.0.1 and runs
# the contract tests against it. Skips, loudly, only when npm is not available.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
spec_dir="$root/../shared/spec"
if ! command -v npm >/dev/null 2>&1; then
  echo "SKIPPED: contract tests need npm to install @stoplight/prism-cli, and npm is not installed" >&2
  exit 0
fi
work=$(mktemp -d)
prism_pid=""
cleanup() {
  [ -n "$prism_pid" ] && kill "$prism_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$work" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund @stoplight/prism-cli@5.16.0 >/dev/null)
prism="$work/node_modules/.bin/prism"

for version in 2026-07-19 2026-08-22; do
  spec="$spec_dir/openrouter-files.$version.openapi.yaml"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$prism" mock --host 127.0.0.1 --port "$port" "$spec" > "$work/prism-$version.log" 2>&1 &
  prism_pid=$!
  for _ in $(seq 100); do
    grep -q 'Prism is listening' "$work/prism-$version.log" && break
    sleep 0.2
  done
  grep -q 'Prism is listening' "$work/prism-$version.log" || { cat "$work/prism-$version.log"; exit 1; }
  echo "contract: $version on Prism port $port"
  PRISM_URL="http://127.0.0.1:$port" PRISM_PID="$prism_pid" PRISM_SPEC="$spec" \
    cargo test --manifest-path "$root/Cargo.toml" --test contract -- --ignored --test-threads 1 --nocapture
  kill "$prism_pid"; wait "$prism_pid" 2>/dev/null || true
  prism_pid=""
done
