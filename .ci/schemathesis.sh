#!/usr/bin/env bash
# Runs schemathesis (positive mode: status code, content type, response schema conformance and
# no server errors) against the emulator, once for each official OpenAPI document, with the
# emulator speaking that document's version. Any failure fails CI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
spec_dir="$root/../shared/spec"
work=$(mktemp -d)
emulator_pid=""
cleanup() {
  [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'

cargo build --quiet --release --features emulator --example emulator --manifest-path "$root/Cargo.toml"
emulator="$root/target/release/examples/emulator"

for version in 2026-07-19 2026-08-22; do
  spec="$spec_dir/openrouter-files.$version.openapi.yaml"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$emulator" --port "$port" --api-version "$version" --accept-any-content \
    --seed-downloadable seed.bin:4096 > "$work/emulator-$version.log" 2>&1 &
  emulator_pid=$!
  for _ in $(seq 50); do grep -q '^api_key' "$work/emulator-$version.log" && break; sleep 0.1; done
  key=$(awk '/^api_key/ {print $2}' "$work/emulator-$version.log")
  echo "schemathesis: $version against the emulator on port $port"
  (cd "$work" && "$work/venv/bin/schemathesis" run "$spec" \
      --url "http://127.0.0.1:$port/api/v1" \
      --header "Authorization: Bearer $key" \
      --mode positive \
      --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
      --max-examples 100 \
      --generation-database none \
      --no-color)
  kill "$emulator_pid"; wait "$emulator_pid" 2>/dev/null || true
  emulator_pid=""
done
