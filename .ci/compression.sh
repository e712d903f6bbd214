#!/usr/bin/env bash
# The hostile, download-related, TLS, proxy and trust tests once more, in one build with every
# feature on (so native-tls with the defaults still on, and the platform's store) and ureq's
# compression features too, as any other crate in a user's tree may turn them on (Cargo unifies
# features): a download must stay the stored bytes, never ones ureq inflated.
set -euo pipefail
cd "$(dirname "$0")/.."
features="ureq/gzip,ureq/brotli"
echo "--> cargo test -p openrouter-files --all-features --features $features"
cargo test --quiet -p openrouter-files --all-features --features "$features" \
  --test hostile --test client --test resilience --test batch --test tls --test proxy --test trust
