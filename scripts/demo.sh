#!/usr/bin/env bash
# Show the post-response guest under the pristine and the patched
# `wasmtime serve`, side by side.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat <<USAGE
Usage: scripts/demo.sh

Builds the wasmtime CLI twice (scripts/build-cli.sh --pristine and
scripts/build-cli.sh), writes the example guests (the http-guests crate), and
runs the post-response guest under each CLI with

  wasmtime serve -Wcomponent-model-async -Sp3,cli --max-instance-reuse-count=1

The guest answers 200 at once, then keeps working and finally writes
"$(printf '%s' "$MESSAGE")" to stdout. Two scenarios per CLI, one request each:

  kept running   the server keeps running (up to ${LINGER}s) after the response
  ctrl-c         SIGINT right after the response (graceful shutdown)

Prints, for each, whether the guest's line reached the server's stdout, and
the report lines the server logged for the instances it dropped (run with
WASMTIME_LOG=wasmtime_cli=info; the pristine CLI has none). Not part of
scripts/test.sh: the first run builds the CLI twice. Uses only bash
(/dev/tcp) as the HTTP client.
USAGE
}

MESSAGE="post-response work done"
LINGER=3

help_or_no_args "$@"

start=$(date +%s)
pristine=$("$ROOT/scripts/build-cli.sh" --pristine)
patched=$("$ROOT/scripts/build-cli.sh")
built=$(date +%s)

dir=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
cargo run --quiet --manifest-path "$ROOT/Cargo.toml" -p http-guests --bin write-guests \
  -- "$dir" >/dev/null
guest="$dir/post-response.wasm"

# `run BIN SCENARIO`: serves the guest, sends one request, and prints one
# line: the response's status line and whether the guest's line arrived.
run() {
  local bin="$1" scenario="$2" out="$dir/out" err="$dir/err" port="" status i
  WASMTIME_LOG=wasmtime_cli=info "$bin" serve -Wcomponent-model-async -Sp3,cli \
    --max-instance-reuse-count=1 --addr 127.0.0.1:0 "$guest" >"$out" 2>"$err" &
  pid=$!
  for ((i = 0; i < 300; i++)); do
    port=$(sed -n 's|^Serving HTTP on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$err")
    [[ -z "$port" ]] || break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$port" ]] || die "$bin did not start: $(cat "$err")"

  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$port" >&3
  IFS= read -r -t 30 status <&3 || status="no response"
  status=${status%$'\r'}
  timeout 30 cat <&3 >/dev/null || true
  exec 3<&-

  if [[ "$scenario" == "kept running" ]]; then
    for ((i = 0; i < LINGER * 10; i++)); do
      grep -q "$MESSAGE" "$out" && break
      sleep 0.1
    done
  fi
  kill -INT "$pid"
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""

  if grep -q "$MESSAGE" "$out"; then
    printf '%-14s  %-16s  %s\n' "$scenario" "$status" "line written"
  else
    printf '%-14s  %-16s  %s\n' "$scenario" "$status" "LINE LOST"
  fi
  if grep -q 'Instance ended: ' "$err"; then
    sed -n 's/^.*\(Instance ended: .*\)$/                report: \1/p' "$err"
  else
    echo "                report: (none)"
  fi
}

for side in pristine patched; do
  bin=$pristine
  [[ "$side" == patched ]] && bin=$patched
  echo
  echo "== $side: $bin"
  printf '%-14s  %-16s  %s\n' "scenario" "response" "guest's post-response line"
  run "$bin" "kept running"
  run "$bin" "ctrl-c"
done
echo
note "demo: builds took $((built - start))s, the runs $(($(date +%s) - built))s"
