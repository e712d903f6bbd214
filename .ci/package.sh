#!/usr/bin/env bash
# Packages the crate as it would be published, unpacks the .crate outside the repository, and
# runs its tests there: `cargo test` (the tests and examples that need the emulator are skipped
# by their required-features) and `cargo test --all-features` (all of them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$root"
version=$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "openrouter-files"))')
cargo package --quiet -p openrouter-files --no-verify --target-dir "$work/target"
crate="$work/target/package/openrouter-files-$version.crate"
tar -xzf "$crate" -C "$work"
cd "$work/openrouter-files-$version"
echo "packaged files: $(tar -tzf "$crate" | wc -l)"
# The repository's own target directory: the dependencies built for it are reused, which saves
# a whole second build's disk and time. cargo package dates every file 2006-07-24, before
# any build, and the crate's own units hash the same here as in the repository: cargo would take
# the repository's builds of them as up to date and never compile the packaged sources. Dated
# now, they are compiled from the unpacked crate's own path.
find . -type f -exec touch {} +
CARGO_TARGET_DIR=$(cd "$root" && cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export CARGO_TARGET_DIR
echo "unpacked crate: cargo test"
cargo test --quiet
echo "unpacked crate: cargo test --all-features"
cargo test --quiet --all-features
