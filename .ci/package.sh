#!/usr/bin/env bash
# Packages the library and the emulator as they would be published, unpacks them outside the
# repository, and builds every target of the library there against the unpacked emulator (as a
# user's build would get both from crates.io), then runs both crates' doc examples.
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
# What packaging can break is what is built: a file left out of the package (a module, a
# guide the docs include, a test helper) fails the build of a target. So every target is
# built from the unpacked sources, and the doc examples (built there too) run; the tests
# themselves ran in the main test step on the same sources.
echo "unpacked library: every target built, the doc examples run (against the unpacked emulator)"
cargo test --quiet --no-run --all-targets
cargo test --quiet --doc
echo "unpacked emulator: cargo test --doc"
cd "../openrouter-files-emulator-$emu_version"
cargo test --quiet --doc
