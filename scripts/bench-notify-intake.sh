#!/usr/bin/env bash
# Notify intake benchmark: POST /api/notify requests per second that the bot accepts AND records
# durably (a committed job, fsync included) before its 202, against a bare axum handler that only
# checks the bearer token and parses the JSON (examples/bare_hub.rs), in the same run. Workers
# are off, so only intake is measured.
#
#   scripts/bench-notify-intake.sh          # 10 s a round, 32 connections, 1 wrk thread, 3 rounds
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
ROUNDS=${ROUNDS:-3}
BOT_PORT=38470
BARE_PORT=38471
TOKEN=bench-notify-token-0123456789

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet --bin lookerbot --example bare_hub

workdir=$(mktemp -d)
trap 'kill "${bot:-}" "${bare:-}" 2>/dev/null || true; rm -rf "$workdir"' EXIT
env -i PATH="$PATH" RUST_LOG=warn \
  SLACK_API_KEY=xoxb-bench SLACK_SIGNING_SECRET=bench \
  LOOKER_URL=https://looker.bench.invalid LOOKER_API_BASE_URL=https://looker.bench.invalid/api/4.0 \
  LOOKER_API_CLIENT_ID=bench LOOKER_API_CLIENT_SECRET=bench LOOKERBOT_NOTIFY_TOKENS="bench:$TOKEN" \
  LOOKERBOT_WORKERS=0 DATABASE_URL="${DATABASE_URL:-sqlite://$workdir/bench.db}" PORT="$BOT_PORT" \
  target/release/lookerbot serve &
bot=$!
target/release/examples/bare_hub "$BARE_PORT" "$TOKEN" &
bare=$!
for port in "$BOT_PORT" "$BARE_PORT"; do
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
  done
done

run() { # name port round
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s scripts/notify-intake.lua "http://127.0.0.1:$2" > "$workdir/$1-$3.txt"
  awk -v name="$1" '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF}
    END {printf "%-10s round  %s req/s  p50 %s  p99 %s  non-2xx %s\n", name, rps, p50, p99, (bad ? bad : 0)}' \
    "$workdir/$1-$3.txt"
}
wrk -t1 -c8 -d2s -s scripts/notify-intake.lua "http://127.0.0.1:$BOT_PORT" >/dev/null
wrk -t1 -c8 -d2s -s scripts/notify-intake.lua "http://127.0.0.1:$BARE_PORT" >/dev/null
for round in $(seq "$ROUNDS"); do
  run lookerbot "$BOT_PORT" "$round"
  run bare-axum "$BARE_PORT" "$round"
done
echo "peak RSS: lookerbot $(awk '/VmHWM/ {print $2}' "/proc/$bot/status") KiB, bare axum $(awk '/VmHWM/ {print $2}' "/proc/$bare/status") KiB"
if [[ "${DATABASE_URL:-sqlite}" == sqlite* ]]; then
  python3 -c "import sqlite3,sys; print('notifications recorded:', sqlite3.connect(sys.argv[1]).execute(\"select count(*) from jobs where kind='notification'\").fetchone()[0])" "$workdir/bench.db"
fi
