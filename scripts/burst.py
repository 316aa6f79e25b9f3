#!/usr/bin/env python3
"""Burst: N scheduled Looks for K channels arriving at once, against the fakes, while a person
types `/looker help` now and then. Started by scripts/bench-burst.sh (which builds, starts the
fakes and the bot, and sets the environment).

    burst.py BOT_PORT SLACK_URL LOOKER_URL N K QUERY_SECONDS QUERY_BUDGET PACE_PER_SECOND

Reports the drain time (first webhook sent to last post seen) against the floor
max(N x latency / budget, posts per channel / pace), the most queries the fake Looker ever ran at
once, the 429s the fake Slack answered, and the p50/p99 of slash-command acks measured before
the burst (idle) and during it. Standard library only; every loop is bounded.
"""
import hashlib, hmac, http.client, json, os, sys, threading, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

port, slack_url, looker_url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
n, k, latency, budget, pace = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
SECRET, TOKEN = os.environ["SLACK_SIGNING_SECRET"], os.environ["LOOKER_WEBHOOK_TOKEN"]
RUN = str(int(time.time()))


def request(method, path, body=b"", headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return "error"
    finally:
        conn.close()


def stats(base):
    with urllib.request.urlopen(f"{base}/__fake/stats", timeout=10) as answer:
        return json.load(answer)


def webhook(i):
    title = f"burst-{RUN}-{i}"
    body = json.dumps({"type": "query", "scheduled_plan": {"scheduled_plan_id": (i % 20 + 1) * 1000 + i % k, "title": title, "type": "Look",
        "url": f"{os.environ['LOOKER_URL']}/looks/{i % 20 + 1}", "query_id": None}}).encode()
    headers = {"Content-Type": "application/json", "X-Looker-Webhook-Token": TOKEN, "X-Looker-Webhook-Id": title}
    for _ in range(30):
        if request("POST", f"/slack/post/channel/burst-{i % k:02}", body, headers) == 200:
            return
        time.sleep(1)
    raise SystemExit(f"webhook {i} was never accepted")


def slash_ack():
    body = b"team_id=T000000ACME&channel_id=C0000GENERAL&user_id=U000000ALICE&command=%2Flooker&text=help&response_url=http%3A%2F%2F127.0.0.1%2Fr"
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
               "Content-Type": "application/x-www-form-urlencoded"}
    started = time.perf_counter()
    status = request("POST", "/slack/receive", body, headers)
    return status, (time.perf_counter() - started) * 1000


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def acks_while(stop, rate=20):
    """Slash acks at `rate` a second until stop() is true; their latencies in ms."""
    latencies, deadline = [], time.time() + 3600
    while not stop() and time.time() < deadline:
        status, ms = slash_ack()
        if status != 200:
            raise SystemExit(f"a slash command got {status}")
        latencies.append(ms)
        time.sleep(1 / rate)
    return latencies


idle_until = time.time() + 5
idle = acks_while(lambda: time.time() > idle_until)
posts_before = stats(slack_url)["posts"]
rate_limited_before = stats(slack_url)["rate_limited"]

started = time.time()
with ThreadPoolExecutor(max_workers=32) as pool:
    list(pool.map(webhook, range(n)))
accepted = time.time() - started

done = {"at": None}
def watch():
    deadline = time.time() + max(600, 20 * n * latency / budget)
    while time.time() < deadline:
        if stats(slack_url)["posts"] - posts_before >= n:
            done["at"] = time.time()
            return
        time.sleep(0.05)
watcher = threading.Thread(target=watch)
watcher.start()
during = acks_while(lambda: not watcher.is_alive())
watcher.join()
if done["at"] is None:
    raise SystemExit("the burst did not drain in time")

slack, looker = stats(slack_url), stats(looker_url)
drain = done["at"] - started
floor = max(n * latency / budget, -(-n // k) / pace)
print(json.dumps({
    "deliveries": n, "channels": k, "query_seconds": latency, "query_budget": budget,
    "accepted_in_s": round(accepted, 2), "drain_s": round(drain, 2), "floor_s": round(floor, 2),
    "drain_over_floor": round(drain / floor, 3),
    "most_queries_in_flight": looker["most_queries_running"], "queries_run": looker["queries_run"],
    "posts": slack["posts"] - posts_before, "slack_429s": slack["rate_limited"] - rate_limited_before,
    "most_posts_in_a_channel_second": slack["most_posts_in_a_second"],
    "ack_idle_ms": {"count": len(idle), "p50": round(percentile(idle, .5), 2), "p99": round(percentile(idle, .99), 2)},
    "ack_during_burst_ms": {"count": len(during), "p50": round(percentile(during, .5), 2), "p99": round(percentile(during, .99), 2)},
}, indent=1))
