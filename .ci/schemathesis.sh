#!/usr/bin/env bash
# Runs schemathesis (positive mode: status code, content type, response schema conformance and
# no server errors) against the emulator, once for each official OpenAPI document, with the
# emulator speaking that document's version. Any failure fails CI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=.ci/lib.sh
. "$root/.ci/lib.sh"
work=$(mktemp -d)
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT

venv=$(tool_dir schemathesis)
install_python "$venv" 'schemathesis==4.32.5'

# The emulator as users run it: the CLI's `emulator` subcommand. cargo metadata knows where it
# is built (CARGO_TARGET_DIR, relative or not, or target/).
cargo build --quiet --release -p openrouter-files-cli --manifest-path "$root/Cargo.toml"
emulator=("$(cargo metadata --quiet --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release/openrouter-files" emulator)

for version in 2026-07-19 2026-08-22; do
  spec=$(spec_path "$version")
  port=$(free_port)
  log="$work/emulator-$version.log"
  start_server "${emulator[@]}" --port "$port" --api-version "$version" --accept-any-content \
    --seed-downloadable seed.bin:4096
  wait_for_line "$log" '^api_key'
  key=$(awk '/^api_key/ {print $2}' "$log")
  echo "schemathesis: $version against the emulator on port $port"
  (cd "$work" && "$venv/bin/schemathesis" run "$spec" \
      --url "http://127.0.0.1:$port/api/v1" \
      --header "Authorization: Bearer $key" \
      --mode positive \
      --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
      --max-examples 100 \
      --generation-database none \
      --no-color)
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  server_pid=""
done
