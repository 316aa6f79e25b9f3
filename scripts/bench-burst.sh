#!/usr/bin/env bash
# Burst benchmark: N scheduled Looks for K channels arriving at once (a Monday 9:00), against the
# test suite's fake Looker (each query takes QUERY_MS; the bot's budget is LOOKER_MAX_QUERIES,
# Looker's per-user default of 15) and fake Slack (keeping Slack's per-channel pace of about one
# post a second after a burst of three, and answering 429 with Retry-After past it). Reports the
# drain time against the floor max(N x latency / budget, posts per channel / pace), the most
# queries in flight, the 429s, and slash-command ack latency idle and during the burst.
#
#   scripts/bench-burst.sh                    # 200 deliveries, 50 channels, 1 s queries
#   N=1000 K=50 QUERY_MS=1000 scripts/bench-burst.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test scripts/bench-burst.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-200}
K=${K:-50}
QUERY_MS=${QUERY_MS:-1000}
BUDGET=${LOOKER_MAX_QUERIES:-15}
BOT_PORT=38450
SLACK_PORT=38451
LOOKER_PORT=38452

cargo build --release --quiet --bin lookerbot --example fakes
work=$(mktemp -d)
cleanup() { kill "${fakes:-}" "${bot:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

target/release/examples/fakes "$SLACK_PORT" "$LOOKER_PORT" "$QUERY_MS" > "$work/fakes.log" 2>&1 &
fakes=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$SLACK_PORT/__fake/stats" && break; sleep 0.1; done
curl -s -X POST "http://127.0.0.1:$SLACK_PORT/__fake/pace?per_second=1&burst=3"

export SLACK_API_KEY=xoxb-test-bot-token SLACK_SIGNING_SECRET=burst-signing-secret \
  SLACK_API_BASE_URL="http://127.0.0.1:$SLACK_PORT/api" \
  LOOKER_URL="http://127.0.0.1:$LOOKER_PORT" LOOKER_API_BASE_URL="http://127.0.0.1:$LOOKER_PORT/api/4.0" \
  LOOKER_API_CLIENT_ID=looker-client-id LOOKER_API_CLIENT_SECRET=looker-client-secret \
  PUBLIC_URL=https://lookerbot.drill.example LOOKER_WEBHOOK_TOKEN=burst-webhook-token LOOKER_MAX_QUERIES="$BUDGET" \
  PORT="$BOT_PORT" RUST_LOG=warn
schema="lookerbot_burst_$$"
if [[ "${DATABASE_URL:-}" == postgres* ]]; then
  # A schema of its own in that database, dropped at the end.
  base=$DATABASE_URL; separator='?'; [[ "$base" == *\?* ]] && separator='&'
  psql "$base" -qc "CREATE SCHEMA $schema"
  trap 'cleanup; psql "$base" -qc "DROP SCHEMA IF EXISTS $schema CASCADE"' EXIT
  export DATABASE_URL="$base${separator}options[search_path]=$schema"
else
  export DATABASE_URL="sqlite://$work/burst.db"
fi
target/release/lookerbot serve > "$work/bot.log" 2>&1 &
bot=$!
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$BOT_PORT/health_check" && break; sleep 0.05; done

python3 scripts/burst.py "$BOT_PORT" "http://127.0.0.1:$SLACK_PORT" "http://127.0.0.1:$LOOKER_PORT" \
  "$N" "$K" "$(python3 -c "print($QUERY_MS/1000)")" "$BUDGET" 1
echo "bot log: $(grep -c ' WARN ' "$work/bot.log" || true) warnings, $(grep -c ' ERROR ' "$work/bot.log" || true) errors"
