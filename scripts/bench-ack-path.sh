#!/usr/bin/env bash
# Ack-path benchmark: signed slash commands and signed events per second, with p50/p99/p99.9
# latency and peak RSS, for lookerbot (release build) and for Slack's Bolt for JavaScript (HTTP
# receiver, handlers that only ack), in the same run on the same machine, with the same wrk
# settings. lookerbot answers `/looker help` in the acknowledgement and records every event
# durably (SQLite, fsync) before its 200; Bolt records nothing. A second lookerbot, with 20
# custom commands loaded from a stand-in Looker (scripts/fake-looker.py), answers `/looker help`
# from its in-memory catalog, custom commands listed. Custom commands are listed at once only to
# someone the bot has admitted (not a guest, not from another workspace): that bot talks to the
# test suite's fake Slack (examples/fakes.rs) and has one worker, so the asker's first `help` is a
# job that looks them up, as in a real workspace, and every later one is answered in the ack.
#
# Each server is warmed up first (3 s per case, not counted: Node's JIT and our caches), then every
# case runs ROUNDS times, alternating servers, and the round with the median throughput is shown.
# Every event round replays events never sent before, so each one is recorded (not a repeat).
#
#   scripts/bench-ack-path.sh                 # 3 rounds of 10 s per case, 32 connections, 1 wrk thread
#   DURATION=20s CONNECTIONS=64 ROUNDS=5 scripts/bench-ack-path.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test scripts/bench-ack-path.sh   # events on PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
ROUNDS=${ROUNDS:-3}
EVENTS=${EVENTS:-300000}  # per round: more than a round can send
SECRET=bench-signing-secret
LB_PORT=38334
BOLT_PORT=38335
CUSTOM_PORT=38336
FAKE_LOOKER_PORT=38337
FAKE_SLACK_PORT=38338
FAKES_LOOKER_PORT=38339

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
(cd scripts/bolt && npm install --no-audit --no-fund --silent)
cargo build --release --quiet --bin lookerbot --example fakes

work=$(mktemp -d)
# Events go to SQLite, or to a schema of their own in DATABASE_URL's PostgreSQL (dropped at the end).
pg_base=""
store="sqlite://$work/bench.db"
if [[ "${DATABASE_URL:-}" == postgres* ]]; then
  pg_base=$DATABASE_URL
  schema="lookerbot_ack_$$"
  psql "$pg_base" -qc "CREATE SCHEMA $schema"
  separator='?'; [[ "$pg_base" == *\?* ]] && separator='&'
  store="$pg_base${separator}options[search_path]=$schema"
fi
cleanup() {
  kill "${lb:-}" "${bolt:-}" "${custom:-}" "${looker:-}" "${fakes:-}" 2>/dev/null || true
  [[ -n "$pg_base" ]] && psql "$pg_base" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

python3 scripts/sign-slack-requests.py slash 1000 "$SECRET" "$work/slash.lua"
python3 scripts/sign-slack-requests.py event 10000 "$SECRET" "$work/warmup-events.lua" 0
for round in $(seq "$ROUNDS"); do
  python3 scripts/sign-slack-requests.py event "$EVENTS" "$SECRET" "$work/events-$round.lua" "$round"
done

env -i PATH="$PATH" RUST_LOG=warn \
  SLACK_API_KEY=xoxb-bench SLACK_SIGNING_SECRET="$SECRET" \
  LOOKER_URL=https://looker.bench.invalid LOOKER_API_BASE_URL=https://looker.bench.invalid/api/4.0 \
  LOOKER_API_CLIENT_ID=bench LOOKER_API_CLIENT_SECRET=bench \
  LOOKERBOT_WORKERS=0 DATABASE_URL="$store" PORT="$LB_PORT" \
  target/release/lookerbot serve &
lb=$!
env -i PATH="$PATH" SLACK_SIGNING_SECRET="$SECRET" PORT="$BOLT_PORT" node scripts/bolt/app.js >/dev/null &
bolt=$!
python3 scripts/fake-looker.py "$FAKE_LOOKER_PORT" 20 &
looker=$!
target/release/examples/fakes "$FAKE_SLACK_PORT" "$FAKES_LOOKER_PORT" >/dev/null &
fakes=$!
# The catalog is loaded when the bot starts: the stand-in Looker must be listening first.
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$FAKE_LOOKER_PORT/" && break; sleep 0.1; done
# The fake Slack knows its own bot token only.
env -i PATH="$PATH" RUST_LOG=warn \
  SLACK_API_KEY=xoxb-test-bot-token SLACK_SIGNING_SECRET="$SECRET" \
  LOOKER_URL="http://127.0.0.1:$FAKE_LOOKER_PORT" LOOKER_API_BASE_URL="http://127.0.0.1:$FAKE_LOOKER_PORT/api/4.0" \
  LOOKER_API_CLIENT_ID=bench LOOKER_API_CLIENT_SECRET=bench LOOKER_CUSTOM_COMMAND_FOLDER_ID=42 \
  SLACK_API_BASE_URL="http://127.0.0.1:$FAKE_SLACK_PORT/api" \
  LOOKERBOT_WORKERS=1 DATABASE_URL="sqlite://$work/custom.db" PORT="$CUSTOM_PORT" \
  target/release/lookerbot serve &
custom=$!
for port in $LB_PORT $BOLT_PORT $CUSTOM_PORT $FAKE_SLACK_PORT; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
sleep 2

once() { # port path data duration -> "requests=... rps=..."
  local line
  line=$(wrk -t1 -c"$CONNECTIONS" -d"$4" -s scripts/slack-signed.lua "http://127.0.0.1:$1" -- "$3" "$2" | grep '^RESULT')
  echo "${line#RESULT }"
}
median() { # lines "rps=N ..." -> the line with the median rps
  awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^rps=/) { split($i, kv, "="); print kv[2], $0 } }' \
    | sort -n | awk '{ lines[NR] = $0 } END { line = lines[int((NR + 1) / 2)]; sub(/^[^ ]+ /, "", line); print line }'
}
rss() { awk '/VmHWM/ {printf "%d", $2/1024}' "/proc/$1/status"; }

for port in $LB_PORT $BOLT_PORT; do
  once $port /slack/receive "$work/slash.lua" 3s >/dev/null
  once $port /slack/events "$work/warmup-events.lua" 3s >/dev/null
done
once $CUSTOM_PORT /slack/receive "$work/slash.lua" 3s >/dev/null
# The answer lists the custom commands (the stand-in Looker's "Report N" dashboards).
python3 scripts/sign-slack-requests.py slash 1 "$SECRET" "$work/one.lua"
listed=$(python3 - "$work/one.lua" "$CUSTOM_PORT" <<'PY'
import json, re, sys, urllib.request
text = open(sys.argv[1]).read()
ts = json.loads(re.search(r"requests_ts = (.*)", text).group(1))
body, sig = [json.loads(x) for x in re.findall(r'add\((".*?"),(".*?")\)', text)[0]]
request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[2]}/slack/receive", body.encode(), {
    "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})
print(urllib.request.urlopen(request).read().decode().count("Report "))
PY
)
echo "help with custom commands lists $listed of them"
# Bolt serves slash commands and events on one path.
declare -A results
for round in $(seq "$ROUNDS"); do
  results[lb_slash]+="$(once $LB_PORT /slack/receive "$work/slash.lua" "$DURATION")"$'\n'
  results[lb_custom]+="$(once $CUSTOM_PORT /slack/receive "$work/slash.lua" "$DURATION")"$'\n'
  results[bolt_slash]+="$(once $BOLT_PORT /slack/events "$work/slash.lua" "$DURATION")"$'\n'
  results[lb_event]+="$(once $LB_PORT /slack/events "$work/events-$round.lua" "$DURATION")"$'\n'
  results[bolt_event]+="$(once $BOLT_PORT /slack/events "$work/events-$round.lua" "$DURATION")"$'\n'
done

echo "case (median of $ROUNDS rounds of $DURATION, $CONNECTIONS connections) requests errors non2xx rps p50 p99 p99.9"
echo "lookerbot slash /looker help             $(printf '%s' "${results[lb_slash]}" | median)"
echo "lookerbot slash help, 20 custom commands $(printf '%s' "${results[lb_custom]}" | median)"
echo "bolt-js   slash /looker (ack)            $(printf '%s' "${results[bolt_slash]}" | median)"
echo "lookerbot event app_mention (durable)    $(printf '%s' "${results[lb_event]}" | median)"
echo "bolt-js   event app_mention (ack only)   $(printf '%s' "${results[bolt_event]}" | median)"
echo "peak RSS: lookerbot $(rss $lb) MiB, bolt-js $(rss $bolt) MiB, lookerbot with custom commands $(rss $custom) MiB"
custom_jobs=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from jobs').fetchone()[0])" "$work/custom.db")
echo "lookerbot with custom commands recorded $custom_jobs jobs (the asker's first helps, until they were admitted; every later help is answered in the acknowledgement)"
if [[ -n "$pg_base" ]]; then
  queued=$(psql "$pg_base" -Atc "select count(*) from $schema.jobs")
else
  queued=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from jobs').fetchone()[0])" "$work/bench.db")
fi
echo "lookerbot recorded $queued distinct events (warm-up and rounds; every event a new one, each recorded once)"
