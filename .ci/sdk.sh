#!/usr/bin/env bash
# Official SDKs as judges of the emulator: the Python `openrouter` and npm `@openrouter/sdk`
# packages, pinned (the newest for the 2026-08-22 document, the older ones for 2026-07-19), are
# installed in a temp dir and driven through all five operations against the emulator speaking
# the matching version (.ci/sdk/python_sdk.py, .ci/sdk/node_sdk.mjs). Any SDK validation error,
# crash or mismatch fails CI. The upload limit is small (1,000 bytes) so that a 3 MB upload is
# answered 413 while the SDK is still sending it: the SDK must read that answer, not a reset.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=.ci/lib.sh
. "$root/.ci/lib.sh"
work=$(mktemp -d)
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT

upload_limit=1000
seed_size=4096

if ! command -v npm > /dev/null || ! python3 -m venv --help > /dev/null 2>&1; then
  if command -v apt-get > /dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm python3-venv > /dev/null
  else
    echo "sdk: needs node, npm and python3 with venv" >&2
    exit 1
  fi
fi

# The emulator as users run it: the CLI's `emulator` subcommand. cargo metadata knows where it
# is built (CARGO_TARGET_DIR, relative or not, or target/).
cargo build --quiet --release -p openrouter-files-cli --manifest-path "$root/Cargo.toml"
emulator=("$(cargo metadata --quiet --format-version 1 --no-deps --manifest-path "$root/Cargo.toml" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release/openrouter-files" emulator)

# Starts the emulator for API version $1; sets $base_url, $key and $seed_id.
start_emulator() {
  port=$(free_port)
  log="$work/emulator-$1-$2.log"
  start_server "${emulator[@]}" --port "$port" --api-version "$1" --upload-limit "$upload_limit" \
    --seed-downloadable "seed.bin:$seed_size"
  wait_for_line "$log" '^api_key'
  base_url=$(awk '/^base_url/ {print $2}' "$log")
  key=$(awk '/^api_key/ {print $2}' "$log")
  seed_id=$(awk '/^seeded/ {print $2}' "$log")
}

stop_emulator() {
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

for pair in "${SDK_PAIRS[@]}"; do
  read -r version python_pkg npm_pkg <<< "$pair"

  venv=$(tool_dir "sdk-python-$version")
  install_python "$venv" "$python_pkg"
  start_emulator "$version" python
  echo "sdk: $python_pkg against the emulator speaking $version"
  BASE_URL="$base_url" API_KEY="$key" API_VERSION="$version" SEED_ID="$seed_id" \
    SEED_SIZE="$seed_size" UPLOAD_LIMIT="$upload_limit" \
    "$venv/bin/python" "$root/.ci/sdk/python_sdk.py"
  stop_emulator

  node_dir=$(tool_dir "sdk-node-$version")
  install_npm "$node_dir" "$npm_pkg"
  # Node resolves packages next to the script, so it runs from the project dir.
  cp "$root/.ci/sdk/node_sdk.mjs" "$node_dir/"
  start_emulator "$version" node
  echo "sdk: $npm_pkg against the emulator speaking $version"
  BASE_URL="$base_url" API_KEY="$key" API_VERSION="$version" SEED_ID="$seed_id" \
    SEED_SIZE="$seed_size" UPLOAD_LIMIT="$upload_limit" \
    node "$node_dir/node_sdk.mjs"
  stop_emulator
done
echo "sdk: every official SDK accepted the emulator"
