# Helpers shared by the CI scripts (sourced, not run).

# A TCP port on 127.0.0.1 that is free right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits up to 20 s for a line matching $2 in the file $1; fails with the file's content if none.
wait_for_line() {
  for _ in $(seq 100); do
    grep -q "$2" "$1" && return 0
    sleep 0.2
  done
  cat "$1" >&2
  return 1
}

# Starts "$@" in the background with its output in $log; sets $server_pid.
# A trap set by the caller should kill $server_pid.
start_server() {
  "$@" > "$log" 2>&1 &
  server_pid=$!
}

# The path of the repository's OpenAPI document for API version $1; fails, naming the path, if
# it is missing.
spec_path() {
  local path
  path="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/spec/openrouter-files.$1.openapi.yaml"
  if [ ! -f "$path" ]; then
    echo "the OpenAPI document for $1 is missing: $path" >&2
    return 1
  fi
  echo "$path"
}

# Conformance tools. Each installs into the directory $1 unless it is already there, so
# .ci/tools.sh can install them all in the background while CI builds, and a suite run on its
# own installs what it needs itself. The official SDKs' versions: each API version with the
# Python and npm packages that speak it (the newest for 2026-08-22, older ones for 2026-07-19).
SDK_PAIRS=(
  "2026-08-22 openrouter==1.3.84 @openrouter/sdk@1.3.19"
  "2026-07-19 openrouter==1.0.22 @openrouter/sdk@1.0.17"
)

install_python() { # DIR PACKAGE [IMPORT]
  if [ -x "$1/bin/python" ] && [ -f "$1/.installed" ]; then return 0; fi
  rm -rf "$1"
  python3 -m venv "$1"
  "$1/bin/pip" install --quiet --disable-pip-version-check "$2"
  touch "$1/.installed"
}

install_npm() { # DIR PACKAGE
  if [ -f "$1/.installed" ]; then return 0; fi
  rm -rf "$1"
  mkdir -p "$1"
  (cd "$1" && npm init -y > /dev/null && npm install --silent --no-audit --no-fund "$2" > /dev/null)
  touch "$1/.installed"
}

# The directory a suite keeps tool $1 in: under $CI_TOOLS when CI installed them beforehand,
# else under the suite's own temp dir $work.
tool_dir() {
  echo "${CI_TOOLS:-$work}/$1"
}
