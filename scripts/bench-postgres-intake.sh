#!/usr/bin/env bash
# Webhook intake on PostgreSQL, beside pgbench: scheduled-delivery webhooks per second accepted
# AND durably queued in PostgreSQL (the 200 comes after the commit), against pgbench committing
# one row per transaction (the same durable write done one at a time) at the same concurrency on
# the same database, in the same run. Each side gets a fresh schema; workers are off.
#
#   scripts/bench-postgres-intake.sh        # postgres://postgres@127.0.0.1:5432/test, 15 s, 32 connections
#   POSTGRES_URL=postgres://... DURATION=30s scripts/bench-postgres-intake.sh
set -euo pipefail
cd "$(dirname "$0")/.."

POSTGRES_URL=${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-38334}
schema="bench_intake_$$"

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet --bin lookerbot

workdir=$(mktemp -d)
cleanup() {
  kill "${server:-}" 2>/dev/null || true
  psql -q "$POSTGRES_URL" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT
psql -q "$POSTGRES_URL" -c "CREATE SCHEMA $schema" >/dev/null

env -i PATH="$PATH" RUST_LOG=warn \
  SLACK_API_KEY=xoxb-bench SLACK_SIGNING_SECRET=bench \
  LOOKER_URL=https://looker.bench.invalid LOOKER_API_BASE_URL=https://looker.bench.invalid/api/4.0 \
  LOOKER_API_CLIENT_ID=bench LOOKER_API_CLIENT_SECRET=bench LOOKER_WEBHOOK_TOKEN=bench-webhook-token \
  LOOKERBOT_WORKERS=0 DATABASE_URL="$POSTGRES_URL?options[search_path]=$schema" PORT="$PORT" \
  target/release/lookerbot serve &
server=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$PORT/health_check" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "== lookerbot on PostgreSQL: webhooks durably queued, wrk -t1 -c$CONNECTIONS -d$DURATION"
wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s scripts/webhook-intake.lua \
  "http://127.0.0.1:$PORT" -- "$RANDOM" | tee "$workdir/wrk.txt" | grep -E "Requests/sec|50%|99%|requests in"
queued=$(psql -At "$POSTGRES_URL" -c "SELECT count(*) FROM $schema.jobs")
echo "durably queued jobs: $queued of $(awk '/requests in/ {print $1}' "$workdir/wrk.txt") answered"
echo "peak RSS of the server: $(( $(awk '/VmHWM/ {print $2}' "/proc/$server/status") / 1024 )) MiB"
kill "$server"; wait "$server" 2>/dev/null || true

# The same row the bot writes for a webhook (a payload of the same size), one per transaction.
psql -q "$POSTGRES_URL" -c "CREATE TABLE $schema.pgbench_jobs (id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL,
  payload TEXT NOT NULL, dedupe_key TEXT UNIQUE, created_at BIGINT NOT NULL)" >/dev/null
cat > "$workdir/insert.sql" <<SQL
INSERT INTO $schema.pgbench_jobs (kind, payload, dedupe_key, created_at)
VALUES ('delivery', repeat('x', 700), md5(random()::text || clock_timestamp()::text), 0);
SQL
seconds=${DURATION%s}
echo "== pgbench: one row per transaction, -c$CONNECTIONS -j1 -T$seconds"
pgbench -n -c"$CONNECTIONS" -j1 -T"$seconds" -f "$workdir/insert.sql" "$POSTGRES_URL" 2>&1 \
  | grep -E "latency average|tps =|number of transactions actually processed"
