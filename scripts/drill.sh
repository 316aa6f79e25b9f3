#!/usr/bin/env bash
# Fault drill: two replicas on one PostgreSQL (a schema of its own in DATABASE_URL's database),
# 1,000 scheduled webhooks and 1,000 mentions, some sent to both replicas and some retried as
# Slack retries, one replica killed with SIGKILL a third of the way in, started again and killed
# again at two thirds, and 60 s of Slack 503s
# half way. Prints delivered / duplicated / lost (scripts/drill.py).
#
#   scripts/drill.sh
#   DELIVERIES=200 EVENTS=200 OUTAGE=20 scripts/drill.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DELIVERIES=${DELIVERIES:-1000}
EVENTS=${EVENTS:-1000}
OUTAGE=${OUTAGE:-60}
BASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
SLACK_PORT=38461
LOOKER_PORT=38462

cargo build --release --quiet --bin lookerbot --example fakes
work=$(mktemp -d)
schema="lookerbot_drill_$$"
cleanup() {
  kill "${fakes:-}" 2>/dev/null || true
  pkill -f "target/release/lookerbot serve" 2>/dev/null || true
  psql "$BASE_URL" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" || true
  rm -rf "$work"
}
trap cleanup EXIT
psql "$BASE_URL" -qc "CREATE SCHEMA $schema"

target/release/examples/fakes "$SLACK_PORT" "$LOOKER_PORT" 200 > "$work/fakes.log" 2>&1 &
fakes=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$SLACK_PORT/__fake/stats" && break; sleep 0.1; done
curl -s -X POST "http://127.0.0.1:$SLACK_PORT/__fake/pace?per_second=1&burst=3"

separator='?'; [[ "$BASE_URL" == *\?* ]] && separator='&'
export SLACK_API_KEY=xoxb-test-bot-token SLACK_SIGNING_SECRET=drill-signing-secret \
  SLACK_API_BASE_URL="http://127.0.0.1:$SLACK_PORT/api" \
  LOOKER_URL="http://127.0.0.1:$LOOKER_PORT" LOOKER_API_BASE_URL="http://127.0.0.1:$LOOKER_PORT/api/4.0" \
  LOOKER_API_CLIENT_ID=looker-client-id LOOKER_API_CLIENT_SECRET=looker-client-secret \
  PUBLIC_URL=https://lookerbot.drill.example LOOKER_WEBHOOK_TOKEN=drill-webhook-token LOOKERBOT_JOB_LEASE_SECS=20 LOOKERBOT_MIGRATE_ON_START=false LOOKERBOT_PER_USER_PER_MINUTE=0 \
  DATABASE_URL="$BASE_URL${separator}options[search_path]=$schema" RUST_LOG=warn DRILL_DIR="$work"
target/release/lookerbot migrate
python3 scripts/drill.py '["target/release/lookerbot", "serve"]' 38463 38464 "http://127.0.0.1:$SLACK_PORT" \
  "$DELIVERIES" "$EVENTS" "$OUTAGE"
echo "replica logs: $(cat "$work"/replica-*.log | grep -c ' ERROR ' || true) errors"
