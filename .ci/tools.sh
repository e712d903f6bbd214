#!/usr/bin/env bash
# Installs every conformance tool into $CI_TOOLS at once (schemathesis, Prism, the official
# Python and TypeScript SDKs for both API versions): .ci/run starts this in the background
# while it builds, and the suites find them there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=.ci/lib.sh
. "$root/.ci/lib.sh"
: "${CI_TOOLS:?CI_TOOLS names the directory to install into}"
mkdir -p "$CI_TOOLS"
pids=()
install_python "$(tool_dir schemathesis)" 'schemathesis==4.32.5' & pids+=($!)
install_npm "$(tool_dir prism)" '@stoplight/prism-cli@5.16.0' & pids+=($!)
for pair in "${SDK_PAIRS[@]}"; do
  read -r version python_pkg npm_pkg <<< "$pair"
  install_python "$(tool_dir "sdk-python-$version")" "$python_pkg" & pids+=($!)
  install_npm "$(tool_dir "sdk-node-$version")" "$npm_pkg" & pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
