#!/usr/bin/env bash
# Ack-path benchmark: signed slash commands and signed events per second, with p50/p99/p99.9
# latency and peak RSS, for lookerbot (release build) and for Slack's Bolt for JavaScript (HTTP
# receiver, handlers that only ack), in the same run on the same machine, with the same wrk
# settings. lookerbot answers `/looker help` in the acknowledgement and records every event
# durably (SQLite, fsync) before its 200; Bolt records nothing.
#
#   scripts/bench-ack-path.sh                 # 10 s per case, 32 connections, 1 wrk thread
#   DURATION=20s CONNECTIONS=64 scripts/bench-ack-path.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
EVENTS=${EVENTS:-100000}
SECRET=bench-signing-secret
LB_PORT=38334
BOLT_PORT=38335

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
(cd scripts/bolt && npm install --no-audit --no-fund --silent)
cargo build --release --quiet --bin lookerbot

work=$(mktemp -d)
cleanup() { kill "${lb:-}" "${bolt:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

python3 scripts/sign-slack-requests.py slash 1000 "$SECRET" "$work/slash.lua"
python3 scripts/sign-slack-requests.py event "$EVENTS" "$SECRET" "$work/events.lua"

env -i PATH="$PATH" RUST_LOG=warn \
  SLACK_API_KEY=xoxb-bench SLACK_SIGNING_SECRET="$SECRET" \
  LOOKER_URL=https://looker.bench.invalid LOOKER_API_BASE_URL=https://looker.bench.invalid/api/4.0 \
  LOOKER_API_CLIENT_ID=bench LOOKER_API_CLIENT_SECRET=bench \
  LOOKERBOT_WORKERS=0 DATABASE_URL="sqlite://$work/bench.db" PORT="$LB_PORT" \
  target/release/lookerbot serve &
lb=$!
env -i PATH="$PATH" SLACK_SIGNING_SECRET="$SECRET" PORT="$BOLT_PORT" node scripts/bolt/app.js >/dev/null &
bolt=$!
for port in $LB_PORT $BOLT_PORT; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
sleep 1

run() { # name port path data
  local line
  line=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s scripts/slack-signed.lua "http://127.0.0.1:$2" -- "$4" "$3" | grep '^RESULT')
  echo "$1 ${line#RESULT }"
}
rss() { awk '/VmHWM/ {printf "%d", $2/1024}' "/proc/$1/status"; }

echo "case requests errors non2xx rps p50 p99 p99.9"
run "lookerbot slash /looker help" $LB_PORT /slack/receive "$work/slash.lua"
run "bolt-js   slash /looker (ack)" $BOLT_PORT /slack/events "$work/slash.lua"
run "lookerbot event app_mention (durable)" $LB_PORT /slack/events "$work/events.lua"
run "bolt-js   event app_mention (ack)" $BOLT_PORT /slack/events "$work/events.lua"
echo "peak RSS: lookerbot $(rss $lb) MiB, bolt-js $(rss $bolt) MiB"
queued=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from jobs').fetchone()[0])" "$work/bench.db")
echo "lookerbot recorded $queued distinct events (each of the $EVENTS signed events once; repeats answered from the record)"
