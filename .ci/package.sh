#!/usr/bin/env bash
# Packages the library and the emulator as they would be published, unpacks them outside the
# repository, and runs the library's tests there against the unpacked emulator (as a user's
# build would get both from crates.io), then the emulator's doc examples.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$root"
version_of() {
  cargo metadata --no-deps --format-version 1 |
    python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == sys.argv[1]))' "$1"
}
lib_version=$(version_of openrouter-files)
emu_version=$(version_of openrouter-files-emulator)
# Both at once: cargo resolves the library's dev-dependency on the (unpublished) emulator
# against the emulator being packaged.
cargo package --quiet -p openrouter-files -p openrouter-files-emulator --no-verify --target-dir "$work/target"
for crate in "openrouter-files-$lib_version" "openrouter-files-emulator-$emu_version"; do
  tar -xzf "$work/target/package/$crate.crate" -C "$work"
  echo "packaged files in $crate: $(tar -tzf "$work/target/package/$crate.crate" | wc -l)"
done
cd "$work/openrouter-files-$lib_version"
cat >> Cargo.toml <<TOML

[patch.crates-io]
openrouter-files-emulator = { path = "../openrouter-files-emulator-$emu_version" }
TOML
# The repository's own target directory: the dependencies built for it are reused, which saves
# a whole second build's disk and time. cargo package dates every file 2006-07-24, before
# any build, and the crate's own units hash the same here as in the repository: cargo would take
# the repository's builds of them as up to date and never compile the packaged sources. Dated
# now, they are compiled from the unpacked crate's own path.
find . "../openrouter-files-emulator-$emu_version" -type f -exec touch {} +
CARGO_TARGET_DIR=$(cd "$root" && cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
export CARGO_TARGET_DIR
echo "unpacked library: cargo test (against the unpacked emulator)"
cargo test --quiet
echo "unpacked emulator: cargo test --doc"
cd "../openrouter-files-emulator-$emu_version"
cargo test --quiet --doc
