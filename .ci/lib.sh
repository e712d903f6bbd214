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
