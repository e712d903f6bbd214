#!/usr/bin/env bash
# Runs every ```sh block of README.md and then of cli/README.md, in order, as written (the
# `cargo test` block is the test step of .ci/run and is not run twice). A README command that
# fails fails CI. `cargo install` installs into a temp dir put first on PATH, removed at the
# end, and builds in the repository's target directory (its release build is reused).
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_INSTALL_ROOT=$(mktemp -d)
trap 'rm -rf "$CARGO_INSTALL_ROOT"' EXIT
export CARGO_INSTALL_ROOT PATH="$CARGO_INSTALL_ROOT/bin:$PATH"
CARGO_TARGET_DIR=$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export CARGO_TARGET_DIR

n=0
for readme in README.md cli/README.md; do
  block=""
  in_block=0
  while IFS= read -r line; do
    if [ $in_block -eq 0 ] && [ "$line" = '```sh' ]; then
      in_block=1; block=""; continue
    fi
    if [ $in_block -eq 1 ] && [ "$line" = '```' ]; then
      in_block=0
      n=$((n + 1))
      if [ "$block" = $'cargo test\n' ]; then
        echo "$readme block $n: cargo test (run by the test step)"
        continue
      fi
      printf '%s block %d:\n%s' "$readme" "$n" "$block"
      bash -euo pipefail -c "$block"
      continue
    fi
    [ $in_block -eq 1 ] && block+="$line"$'\n'
  done < "$readme"
done
[ $n -ge 4 ] || { echo "expected at least 4 sh blocks in the READMEs, found $n" >&2; exit 1; }
