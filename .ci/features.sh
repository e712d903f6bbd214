#!/usr/bin/env bash
# Builds the library in every feature combination a user can pick, as the user gets it (the
# library alone, `-p openrouter-files`, so no other workspace member turns features on), checks that
# each links the TLS stack the crate docs promise, runs the TLS tests on each stack, and runs
# the whole suite in the build without TLS (whose refusals no other step exercises).
set -euo pipefail
cd "$(dirname "$0")/.."

# features | TLS crates that must be linked | TLS crates that must not be
combos=(
  "|rustls|native-tls openssl"
  "--no-default-features --features native-tls|native-tls openssl|rustls"
  "--features native-tls|native-tls openssl|"
  "--all-features|native-tls openssl|"
  "--features platform-roots|rustls rustls-native-certs|native-tls openssl"
  "--no-default-features|"'|'"rustls native-tls openssl"
)
for combo in "${combos[@]}"; do
  IFS='|' read -r features must must_not <<< "$combo"
  echo "library build: cargo build --lib ${features:-(default features)}"
  # shellcheck disable=SC2086
  cargo build --quiet -p openrouter-files --lib $features
  # shellcheck disable=SC2086
  linked=$(cargo tree -p openrouter-files -e normal --prefix none $features | awk '{print $1}' | sort -u)
  for crate in $must; do
    grep -qx "$crate" <<< "$linked" || { echo "$crate is not linked with: ${features:-defaults}" >&2; exit 1; }
  done
  for crate in $must_not; do
    if grep -qx "$crate" <<< "$linked"; then
      echo "$crate is linked with: ${features:-defaults}, and must not be" >&2
      exit 1
    fi
  done
done

echo "TLS tests on rustls, on native-tls, and on native-tls with the defaults still on"
cargo test --quiet --test tls
cargo test --quiet --test tls --no-default-features --features native-tls
cargo test --quiet --test tls --features native-tls
echo "proxies (CONNECT, SOCKS5, tinyproxy) on native-tls"
cargo test --quiet --test proxy --no-default-features --features native-tls
echo "the platform's store (SSL_CERT_FILE) on rustls and on native-tls"
cargo test --quiet --test trust --features platform-roots
cargo test --quiet --test trust --no-default-features --features native-tls,platform-roots
echo "unit and wire tests on native-tls alone"
cargo test --quiet --no-default-features --features native-tls --lib --test wire
echo "every unit and integration test without TLS (plain http only; https and root certificates"
echo "refused). Not the doc examples: they show the production https URL, which needs TLS."
cargo test --quiet -p openrouter-files --no-default-features --lib --tests
