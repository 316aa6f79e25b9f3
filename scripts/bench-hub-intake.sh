#!/usr/bin/env bash
# Action Hub intake benchmark: execute requests (a 4 KB CSV pushed inline, as Looker sends the
# slack integration) per second that the bot accepts AND records durably (the CSV kept in the job
# store, the delivery a committed job, fsync included) before it answers Looker, against a bare
# axum handler that only checks the token and parses the JSON (examples/bare_hub.rs), in the same
# run. Workers are off and LOOKERBOT_HUB_WAIT_SECS=0, so only intake is measured.
#
#   scripts/bench-hub-intake.sh            # 10 s a round, 32 connections, 1 wrk thread, 3 rounds
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
ROUNDS=${ROUNDS:-3}
BOT_PORT=38460
BARE_PORT=38461

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
  LOOKER_API_CLIENT_ID=bench LOOKER_API_CLIENT_SECRET=bench LOOKERBOT_AUTH_TOKEN=bench-hub-token \
  LOOKERBOT_WORKERS=0 LOOKERBOT_HUB_WAIT_SECS=0 DATABASE_URL="sqlite://$workdir/bench.db" PORT="$BOT_PORT" \
  target/release/lookerbot serve &
bot=$!
target/release/examples/bare_hub "$BARE_PORT" bench-hub-token &
bare=$!
for port in "$BOT_PORT" "$BARE_PORT"; do
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
  done
done

run() { # name port round
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s scripts/hub-intake.lua "http://127.0.0.1:$2" -- "$3$RANDOM" \
    > "$workdir/$1-$3.txt"
  awk -v name="$1" '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF}
    END {printf "%-10s round  %s req/s  p50 %s  p99 %s  non-2xx %s\n", name, rps, p50, p99, (bad ? bad : 0)}' \
    "$workdir/$1-$3.txt"
}
# Warm both up, then alternate rounds.
wrk -t1 -c8 -d2s -s scripts/hub-intake.lua "http://127.0.0.1:$BOT_PORT" -- 0 >/dev/null
wrk -t1 -c8 -d2s -s scripts/hub-intake.lua "http://127.0.0.1:$BARE_PORT" -- 0 >/dev/null
for round in $(seq "$ROUNDS"); do
  run lookerbot "$BOT_PORT" "$round"
  run bare-axum "$BARE_PORT" "$round"
done
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$bot/status")
bare_kb=$(awk '/VmHWM/ {print $2}' "/proc/$bare/status")
python3 - "$workdir/bench.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
jobs = db.execute("select count(*) from jobs where kind = 'action_hub_delivery'").fetchone()[0]
files = db.execute("select count(*) from job_files").fetchone()[0]
print(f"durably recorded deliveries: {jobs}, files kept: {files}")
PY
echo "peak RSS: lookerbot $((rss_kb / 1024)) MiB, bare axum $((bare_kb / 1024)) MiB"
