#!/usr/bin/env bash
# Webhook intake benchmark: scheduled-delivery webhooks per second accepted AND durably queued
# (each answer comes after the job row is committed to SQLite with fsync), with latency
# percentiles and peak memory. Workers are off so only intake is measured. Each webhook is first
# checked against its scheduled plan (GET /scheduled_plans/{id}), answered by the fake Looker of
# examples/fakes.rs on loopback; nothing leaves the machine.
#
#   scripts/bench-webhook-intake.sh            # 15 s, 32 connections, 1 wrk thread
#   DURATION=30s CONNECTIONS=64 scripts/bench-webhook-intake.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
PORT=${PORT:-38333}

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet --bin lookerbot --example fakes

workdir=$(mktemp -d)
LOOKER_PORT=${LOOKER_PORT:-38334}
trap 'kill "$server" "${fakes:-}" 2>/dev/null || true; rm -rf "$workdir"' EXIT
FAKE_BOT_URL=https://lookerbot.bench.example target/release/examples/fakes 0 "$LOOKER_PORT" > "$workdir/fakes.log" 2>&1 &
fakes=$!
looker="http://127.0.0.1:$LOOKER_PORT"
env -i PATH="$PATH" RUST_LOG=warn \
  SLACK_API_KEY=xoxb-bench SLACK_SIGNING_SECRET=bench PUBLIC_URL=https://lookerbot.bench.example \
  LOOKER_URL="$looker" LOOKER_API_BASE_URL="$looker/api/4.0" \
  LOOKER_API_CLIENT_ID=looker-client-id LOOKER_API_CLIENT_SECRET=looker-client-secret LOOKER_WEBHOOK_TOKEN=bench-webhook-token \
  LOOKERBOT_WORKERS=0 DATABASE_URL="sqlite://$workdir/bench.db" PORT="$PORT" \
  target/release/lookerbot serve &
server=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$PORT/health_check" >/dev/null 2>&1 && break
  sleep 0.1
done

wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s scripts/webhook-intake.lua \
  "http://127.0.0.1:$PORT" -- "$RANDOM" "$looker" | tee "$workdir/wrk.txt"

rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
queued=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from jobs').fetchone()[0])" "$workdir/bench.db")
requests=$(awk '/requests in/ {print $1}' "$workdir/wrk.txt")
echo
echo "durably queued jobs: $queued of $requests requests answered"
echo "peak RSS of the server: $((rss_kb / 1024)) MiB"
