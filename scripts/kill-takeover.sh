#!/usr/bin/env bash
# Kill to next attempt, measured from outside: a scheduled Look is in flight (the fake Looker
# takes 8 s to answer its query) when the server running it is killed with SIGKILL; the script
# times how long until the job's next attempt starts, read with `lookerbot jobs`.
#   SQLite: the server is started again at once; it takes back its own leases when it starts.
#   PostgreSQL: another replica is already running; it takes the job once the dead one's
#   heartbeat lease (30 s, renewed every 10 s) runs out.
#
#   scripts/kill-takeover.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
SLACK_PORT=38471
LOOKER_PORT=38472
cargo build --release --quiet --bin lookerbot --example fakes
work=$(mktemp -d)
schema="lookerbot_takeover_$$"
cleanup() {
  kill "${fakes:-}" ${servers:-} 2>/dev/null || true
  psql "$BASE_URL" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
servers=""

target/release/examples/fakes "$SLACK_PORT" "$LOOKER_PORT" 8000 > "$work/fakes.log" 2>&1 &
fakes=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$SLACK_PORT/__fake/stats" && break; sleep 0.1; done
export SLACK_API_KEY=xoxb-test-bot-token SLACK_SIGNING_SECRET=takeover-signing-secret \
  SLACK_API_BASE_URL="http://127.0.0.1:$SLACK_PORT/api" \
  LOOKER_URL="http://127.0.0.1:$LOOKER_PORT" LOOKER_API_BASE_URL="http://127.0.0.1:$LOOKER_PORT/api/4.0" \
  LOOKER_API_CLIENT_ID=looker-client-id LOOKER_API_CLIENT_SECRET=looker-client-secret \
  PUBLIC_URL=https://lookerbot.drill.example LOOKER_WEBHOOK_TOKEN=takeover-webhook-token \
  LOOKERBOT_PER_USER_PER_MINUTE=0 RUST_LOG=warn

start() { # port -> pid
  PORT=$1 target/release/lookerbot serve >> "$work/server-$1.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$1/health_check" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "$pid"
}
attempts() { target/release/lookerbot jobs 2>/dev/null | awk '$0 ~ /takeover/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\/[0-9]+$/) {split($i, a, "/"); print a[1]; exit}}'; }
state() { target/release/lookerbot jobs 2>/dev/null | grep -c "running.*takeover" || true; }
now_ms() { date +%s%3N; }

measure() { # store name; restart (yes: start the killed server again; no: a second replica takes over); channel number
  local victim
  victim=$(start 38473)
  servers="$victim"
  curl -fs -o /dev/null -X POST "http://127.0.0.1:38473/slack/post/channel/burst-0$3" \
    -H 'Content-Type: application/json' -H 'X-Looker-Webhook-Token: takeover-webhook-token' \
    -H "X-Looker-Webhook-Id: takeover-$1" \
    -d "{\"type\":\"query\",\"scheduled_plan\":{\"scheduled_plan_id\":100$3,\"title\":\"takeover-$1\",\"type\":\"Look\",\"url\":\"$LOOKER_URL/looks/1\",\"query_id\":null}}"
  until [[ "$(attempts)" == 1 && "$(state)" -ge 1 ]]; do sleep 0.1; done
  # The other replica starts once the job is the victim's, so that it is the one to take over.
  if [[ $2 == no ]]; then servers="$servers $(start 38474)"; fi
  sleep 1
  kill -9 "$victim"
  local killed
  killed=$(now_ms)
  if [[ $2 == yes ]]; then servers="$servers $(start 38473)"; fi
  until [[ "$(attempts)" -ge 2 ]]; do sleep 0.1; done
  echo "$1: next attempt $(( ($(now_ms) - killed) )) ms after the kill"
  kill ${servers} 2>/dev/null || true
  for pid in ${servers}; do while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; done
  servers=""
}

DATABASE_URL="sqlite://$work/takeover.db" measure sqlite yes 1
psql "$BASE_URL" -qc "CREATE SCHEMA $schema"
separator='?'; [[ "$BASE_URL" == *\?* ]] && separator='&'
DATABASE_URL="$BASE_URL${separator}options[search_path]=$schema" target/release/lookerbot migrate > /dev/null
DATABASE_URL="$BASE_URL${separator}options[search_path]=$schema" measure postgresql no 2
