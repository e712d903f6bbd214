#!/usr/bin/env bash
# Runs every ```sh block of README.md, in order, as written (the `cargo test` block is the
# test step of .ci/run and is not run twice). A README command that fails fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."
block=""
in_block=0
n=0
while IFS= read -r line; do
  if [ $in_block -eq 0 ] && [ "$line" = '```sh' ]; then
    in_block=1; block=""; continue
  fi
  if [ $in_block -eq 1 ] && [ "$line" = '```' ]; then
    in_block=0
    n=$((n + 1))
    if [ "$block" = $'cargo test\n' ]; then
      echo "README block $n: cargo test (run by the test step)"
      continue
    fi
    printf 'README block %d:\n%s' "$n" "$block"
    bash -euo pipefail -c "$block"
    continue
  fi
  [ $in_block -eq 1 ] && block+="$line"$'\n'
done < README.md
[ $n -ge 3 ] || { echo "expected at least 3 sh blocks in README.md, found $n" >&2; exit 1; }
