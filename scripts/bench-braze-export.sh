#!/usr/bin/env bash
# Braze export benchmark: Looker sends the braze integration a query of ROWS users (json_detail
# pushed inline, three tagged attributes); the bot keeps it, streams it into batches of 75 and
# posts them to the fake Braze (examples/fakes.rs), and answers Looker with the counts once the
# export is done. Reports the time from request to answer, the bot's peak RSS, and, as the
# reference in the same run, a bare axum handler (examples/bare_hub.rs) only receiving and
# parsing the same body.
#
#   scripts/bench-braze-export.sh              # 100,000 rows
#   ROWS=20000 scripts/bench-braze-export.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-100000}
BOT_PORT=38480
BARE_PORT=38481
SLACK_PORT=38482
LOOKER_PORT=38483

cargo build --release --quiet --bin lookerbot --example fakes --example bare_hub
work=$(mktemp -d)
trap 'kill "${fakes:-}" "${bot:-}" "${bare:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
target/release/examples/fakes "$SLACK_PORT" "$LOOKER_PORT" > "$work/fakes.log" 2>&1 &
fakes=$!
for _ in $(seq 100); do grep -q braze "$work/fakes.log" 2>/dev/null && break; sleep 0.1; done
braze=$(sed -n 's/.* braze \(http[^ ]*\).*/\1/p' "$work/fakes.log")

env -i PATH="$PATH" RUST_LOG=warn \
  SLACK_API_KEY=xoxb-test-bot-token SLACK_SIGNING_SECRET=bench SLACK_API_BASE_URL="http://127.0.0.1:$SLACK_PORT/api" \
  LOOKER_URL="http://127.0.0.1:$LOOKER_PORT" LOOKER_API_BASE_URL="http://127.0.0.1:$LOOKER_PORT/api/4.0" \
  LOOKER_API_CLIENT_ID=looker-client-id LOOKER_API_CLIENT_SECRET=looker-client-secret \
  LOOKERBOT_AUTH_TOKEN=bench-hub-token PUBLIC_URL=https://lookerbot.example.com \
  LOOKERBOT_BRAZE_ENDPOINTS="$braze" LOOKERBOT_HUB_WAIT_SECS=600 \
  DATABASE_URL="sqlite://$work/bench.db" PORT="$BOT_PORT" target/release/lookerbot serve &
bot=$!
target/release/examples/bare_hub "$BARE_PORT" bench-hub-token &
bare=$!
for port in "$BOT_PORT" "$BARE_PORT"; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done

python3 - "$ROWS" "$braze" "$BOT_PORT" "$BARE_PORT" "$bot" <<'PY'
import json, sys, time, urllib.request
rows, braze, bot_port, bare_port, pid = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
detail = {"fields": {"dimensions": [{"name": "users.id", "tags": ["braze_id"]},
                                    {"name": "users.plan", "tags": ["braze[Plan]"]},
                                    {"name": "users.country", "tags": ["braze[Country]"]}],
                     "measures": [{"name": "orders.count", "tags": ["braze[Orders]"]}], "pivots": []},
          "data": [{"users.id": {"value": f"user-{i:07d}"}, "users.plan": {"value": "pro", "rendered": "Pro"},
                    "users.country": {"value": "DE"}, "orders.count": {"value": i % 40, "rendered": str(i % 40)}}
                   for i in range(rows)]}
body = json.dumps({"type": "query", "scheduled_plan": {"title": "Active users", "type": "Look"},
                   "data": {"braze_api_key": "braze-rest-key-2f9c41", "braze_api_endpoint": braze},
                   "form_params": {"braze_key": "external_id", "braze_segment": "LOOKER_EXPORT"},
                   "attachment": {"mimetype": "application/json", "extension": "json", "data": json.dumps(detail)}}).encode()

def post(port, path):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST",
        headers={"Content-Type": "application/json", "Authorization": 'Token token="bench-hub-token"'})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=900) as answer:
        reply = json.load(answer)
    return time.perf_counter() - started, reply

bare_s, _ = post(bare_port, "/actions/slack/execute")
bot_s, reply = post(bot_port, "/actions/braze/execute")
rss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM")) // 1024
print(json.dumps({"rows": rows, "body_mib": round(len(body) / 2**20, 1), "export_s": round(bot_s, 2),
                  "rows_per_s": round(rows / bot_s), "bot_peak_rss_mib": rss,
                  "bare_axum_receive_and_parse_s": round(bare_s, 2), "answer": reply["looker"]["message"]}, indent=1))
PY
