#!/usr/bin/env bash
# Soak: 30 minutes (MINUTES) of mixed valid and hostile traffic against the release binary, with
# a few SIGKILLs (KILLS), against the test suite's fake Slack and Looker run on their own
# (examples/fakes.rs). Reports requests, 5xx, lost and duplicated deliveries and mentions, and the
# bot's RSS and descriptors over time (scripts/soak.py).
#
#   scripts/soak.sh                  # 30 minutes, 3 kills
#   MINUTES=5 KILLS=2 scripts/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=${MINUTES:-30}
KILLS=${KILLS:-3}
BOT_PORT=38440
SLACK_PORT=38441
LOOKER_PORT=38442

cargo build --release --quiet --bin lookerbot --example fakes
work=$(mktemp -d)
cleanup() { kill "${fakes:-}" 2>/dev/null || true; pkill -f "target/release/lookerbot serve" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

target/release/examples/fakes "$SLACK_PORT" "$LOOKER_PORT" > "$work/fakes.log" 2>&1 &
fakes=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$SLACK_PORT/__fake/messages" && break; sleep 0.1; done

export SLACK_API_KEY=xoxb-test-bot-token SLACK_SIGNING_SECRET=soak-signing-secret \
  SLACK_API_BASE_URL="http://127.0.0.1:$SLACK_PORT/api" \
  LOOKER_URL="http://127.0.0.1:$LOOKER_PORT" LOOKER_API_BASE_URL="http://127.0.0.1:$LOOKER_PORT/api/4.0" \
  LOOKER_API_CLIENT_ID=looker-client-id LOOKER_API_CLIENT_SECRET=looker-client-secret \
  PUBLIC_URL=https://lookerbot.drill.example LOOKER_WEBHOOK_TOKEN=soak-webhook-token LOOKERBOT_WORKERS=8 LOOKERBOT_JOB_LEASE_SECS=20 LOOKERBOT_PER_USER_PER_MINUTE=0 \
  DATABASE_URL="sqlite://$work/soak.db" PORT="$BOT_PORT" RUST_LOG=warn SOAK_LOG="$work/bot.log"
python3 scripts/soak.py '["target/release/lookerbot", "serve"]' "$BOT_PORT" "http://127.0.0.1:$SLACK_PORT" "$MINUTES" "$KILLS"
echo "bot log lines: $(wc -l < "$work/bot.log"); lines that start with FORGED: $(grep -c '^FORGED' "$work/bot.log" || true)"
