#!/usr/bin/env bash
# What differs between the feature combinations a user can pick, and nothing the main test run
# already covers: each combination of the library alone (`-p openrouter-files`, so no other
# workspace member turns features on) compiles and links the TLS stack the crate docs promise;
# the TLS, proxy and trust tests run on the stacks the main run does not use; and the build
# without TLS builds every test and runs what differs there (its refusals) and the core calls.
set -euo pipefail
cd "$(dirname "$0")/.."
lib=(-p openrouter-files)

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
  echo "library: cargo check --lib ${features:-(default features)}"
  # shellcheck disable=SC2086
  cargo check --quiet "${lib[@]}" --lib $features
  # shellcheck disable=SC2086
  linked=$(cargo tree "${lib[@]}" -e normal --prefix none $features | awk '{print $1}' | sort -u)
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

echo "native-tls alone: unit, wire, TLS, proxy and platform-store tests"
cargo test --quiet "${lib[@]}" --no-default-features --features native-tls,platform-roots \
  --lib --test wire --test tls --test proxy --test trust
echo "rustls with the platform's store: the trust tests"
cargo test --quiet "${lib[@]}" --features platform-roots --test trust
# Without TLS only src/tls.rs and src/trust.rs differ (https and root certificates refused);
# their unit tests hold the refusals. Every test target must still build there, and the core
# operations over plain http must still work end to end (tests/trust.rs is compiled only with TLS).
echo "no TLS: the unit tests, every test target built, the core operations against the emulator"
cargo test --quiet "${lib[@]}" --no-default-features --lib
cargo test --quiet "${lib[@]}" --no-default-features --tests --no-run
cargo test --quiet "${lib[@]}" --no-default-features --test api --test client --test wire
