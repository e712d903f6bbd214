#!/usr/bin/env bash
# The hostile and download-related tests once more with ureq's compression features on, as any
# other crate in a user's tree may turn them on (Cargo unifies features): a download must stay
# the stored bytes, never ones ureq inflated.
set -euo pipefail
cd "$(dirname "$0")/.."
features="ureq/gzip,ureq/brotli"
for suite in hostile client resilience batch; do
  echo "--> cargo test --test $suite with $features"
  cargo test --all-features --features "$features" --test "$suite"
done
