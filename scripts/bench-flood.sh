#!/usr/bin/env bash
# Acks under a flood: scheduled-delivery webhooks to one channel accepted per second, and the ack
# latency of mentions sent at the same time, with the bot's workers off and then on (their
# default number), on SQLite, against the fake Slack and Looker of examples/fakes.rs (Slack's
# pace of about one post a second per channel enforced). The two runs are compared in the same
# invocation: intake with workers on should be at least half of intake with them off, and the
# mention ack p99 under 20 ms during the flood.
#
#   scripts/bench-flood.sh                     # 10 s each, 32 webhook + 4 event connections
#   DURATION=20s scripts/bench-flood.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
SECRET=bench-signing-secret
PORT=38351
SLACK_PORT=38352
LOOKER_PORT=38353

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin lookerbot --example fakes
work=$(mktemp -d)
cleanup() { kill "${lb:-}" "${fakes:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

FAKE_BOT_URL=https://lookerbot.bench.example target/release/examples/fakes "$SLACK_PORT" "$LOOKER_PORT" > "$work/fakes.log" 2>&1 &
fakes=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$SLACK_PORT/__fake/stats" && break; sleep 0.1; done
curl -s -X POST "http://127.0.0.1:$SLACK_PORT/__fake/pace?per_second=1&burst=3" >/dev/null

run() { # workers (empty: the default) and a file number -> one line of figures
  local workers=$1 db="$work/flood-$2.db"
  python3 scripts/sign-slack-requests.py event 200000 "$SECRET" "$work/events-$2.lua" "$2"
  env -i PATH="$PATH" RUST_LOG=warn \
    SLACK_API_KEY=xoxb-test-bot-token SLACK_SIGNING_SECRET="$SECRET" SLACK_API_BASE_URL="http://127.0.0.1:$SLACK_PORT/api" \
    PUBLIC_URL=https://lookerbot.bench.example LOOKER_URL="http://127.0.0.1:$LOOKER_PORT" \
    LOOKER_API_BASE_URL="http://127.0.0.1:$LOOKER_PORT/api/4.0" LOOKER_API_CLIENT_ID=looker-client-id \
    LOOKER_API_CLIENT_SECRET=looker-client-secret LOOKER_WEBHOOK_TOKEN=bench-webhook-token \
    LOOKERBOT_PER_USER_PER_MINUTE=0 DATABASE_URL="sqlite://$db" PORT="$PORT" \
    ${workers:+LOOKERBOT_WORKERS=$workers} target/release/lookerbot serve &
  lb=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/health_check" >/dev/null 2>&1 && break; sleep 0.1; done
  wrk -t1 -c32 -d"$DURATION" --latency -s scripts/webhook-intake.lua "http://127.0.0.1:$PORT" \
    -- "$RANDOM" "http://127.0.0.1:$LOOKER_PORT" > "$work/webhooks.txt" &
  local flood=$!
  local events
  events=$(wrk -t1 -c4 -d"$DURATION" -s scripts/slack-signed.lua "http://127.0.0.1:$PORT" \
    -- "$work/events-$2.lua" /slack/events | grep '^RESULT')
  wait "$flood"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/webhooks.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/webhooks.txt")
  kill "$lb"; wait "$lb" 2>/dev/null || true
  echo "workers=${workers:-default} webhooks_per_s=$rps webhook_p99=$p99 mention_acks: ${events#RESULT }"
}

run 0 0
run "" 1
