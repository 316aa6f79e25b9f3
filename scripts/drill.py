#!/usr/bin/env python3
"""Fault drill: two replicas on one PostgreSQL, 1,000 scheduled webhooks and 1,000 mentions
(some sent to both replicas at once, some retried as Slack retries), one replica killed with
SIGKILL a third of the way in, started again, and killed again at two thirds, with 60 s of Slack
answering 503 to everything from half way. Started by scripts/drill.sh.

    drill.py BOT_COMMAND_JSON PORT_A PORT_B SLACK_URL DELIVERIES EVENTS OUTAGE_SECONDS

A request the dead replica cannot take goes to the live one, as a load balancer would send it.
At the end the fake Slack's messages are counted: every accepted delivery and mention must be
answered once: delivered / duplicated / lost. Standard library only; every loop is bounded.
"""
import hashlib, hmac, http.client, json, os, random, signal, subprocess, sys, threading, time, urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

command = json.loads(sys.argv[1])
ports = [int(sys.argv[2]), int(sys.argv[3])]
slack_url, deliveries, events, outage = sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
SECRET, TOKEN = os.environ["SLACK_SIGNING_SECRET"], os.environ["LOOKER_WEBHOOK_TOKEN"]
RUN = str(int(time.time()))
CHANNELS = [f"C0BURST{n:04}" for n in range(50)]
alive = [True, True]
replicas = [None, None]
lock = threading.Lock()
statuses = Counter()
accepted_webhooks, accepted_events = set(), set()


def launch(i):
    env = dict(os.environ, PORT=str(ports[i]))
    log = open(f"{os.environ['DRILL_DIR']}/replica-{i}.log", "a")
    replicas[i] = subprocess.Popen(command, stdout=log, stderr=log, env=env)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{ports[i]}/readyz", timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"replica {i} did not start")


def request(i, path, body, headers):
    conn = http.client.HTTPConnection("127.0.0.1", ports[i], timeout=10)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return "unreachable"
    finally:
        conn.close()


def send(kind, path, body, headers, both):
    """To one replica (or both at once); until accepted, to whichever is alive."""
    first = random.randrange(2)
    targets = [first, 1 - first] if both else [first]
    accepted = False
    for i in targets:
        for _ in range(60):
            target = i if alive[i] else 1 - i
            status = request(target, path, body, headers())
            with lock:
                statuses[(kind, status)] += 1
            if status == 200:
                accepted = True
                break
            time.sleep(0.5)
    return accepted


def signed(body, retry=None):
    def headers():
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        h = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig, "Content-Type": "application/json"}
        if retry:
            h.update({"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
        return h
    return headers


def webhook(n):
    title = f"drill-{RUN}-{n}"
    body = json.dumps({"type": "query", "scheduled_plan": {"scheduled_plan_id": (n % 20 + 1) * 1000 + n % 50, "title": title, "type": "Look",
        "url": f"{os.environ['LOOKER_URL']}/looks/{n % 20 + 1}", "query_id": None}}).encode()
    headers = lambda: {"Content-Type": "application/json", "X-Looker-Webhook-Token": TOKEN, "X-Looker-Webhook-Id": title}
    if send("webhook", f"/slack/post/channel/burst-{n % 50:02}", body, headers, both=n % 5 == 0):
        with lock:
            accepted_webhooks.add(title)


def event(n):
    ts = f"{RUN}.{n:06d}"
    body = json.dumps({"type": "event_callback", "team_id": "T000000ACME", "event_id": f"EvDrill{RUN}{n}",
        "authorizations": [{"user_id": "U0000000BOT"}],
        "event": {"type": "app_mention", "user": "U000000ALICE", "text": "<@U0000000BOT> look 3",
                  "ts": ts, "channel": CHANNELS[n % 50]}}).encode()
    ok = send("event", "/slack/events", body, signed(body), both=n % 5 == 0)
    if n % 7 == 0:  # Slack's retry of it, as if the first answer was late
        ok = send("event retry", "/slack/events", body, signed(body, retry=True), both=False) or ok
    if ok:
        with lock:
            accepted_events.add(ts)


def posted():
    with urllib.request.urlopen(f"{slack_url}/__fake/messages", timeout=30) as r:
        return json.load(r)["messages"]


def counts():
    messages = posted()
    titles = Counter(m["text"].split(":")[0] for m in messages if m["text"].startswith(f"drill-{RUN}-"))
    answers = Counter(m["thread_ts"] for m in messages if m["thread_ts"] in accepted_events)
    return titles, answers


launch(0)
launch(1)
started = time.time()
work = [(webhook, n) for n in range(deliveries)] + [(event, n) for n in range(events)]
random.shuffle(work)
kill_at, outage_at = len(work) // 3, len(work) // 2  # killed again at 2/3, after a restart


restart_at, kill_again_at = len(work) * 5 // 12, len(work) * 2 // 3


def kill(i):
    alive[i] = False
    replicas[i].send_signal(signal.SIGKILL)
    replicas[i].wait()
    print(f"{time.time() - started:6.1f}s replica {i} killed with SIGKILL", flush=True)


def run(item):
    index, (job, n) = item
    if index == kill_at:
        kill(1)
    if index == restart_at:
        launch(1)
        alive[1] = True
        print(f"{time.time() - started:6.1f}s replica 1 started again", flush=True)
    if index == kill_again_at:
        kill(1)
    if index == outage_at:
        urllib.request.urlopen(urllib.request.Request(f"{slack_url}/__fake/outage?secs={outage}", method="POST"))
        print(f"{time.time() - started:6.1f}s Slack answers 503 for {outage:.0f} s", flush=True)
    job(n)
    time.sleep(0.02)


with ThreadPoolExecutor(max_workers=16) as pool:
    list(pool.map(run, enumerate(work)))
print(f"{time.time() - started:6.1f}s all sent: {len(accepted_webhooks)} webhooks and {len(accepted_events)} mentions accepted", flush=True)

deadline = time.time() + 900
while time.time() < deadline:
    titles, answers = counts()
    if all(titles[t] for t in accepted_webhooks) and all(answers[e] for e in accepted_events):
        break
    time.sleep(5)
drained = time.time() - started
time.sleep(10)  # anything posted twice late would show now
titles, answers = counts()
replicas[0].send_signal(signal.SIGTERM)
replicas[0].wait(timeout=60)

accepted = len(accepted_webhooks) + len(accepted_events)
delivered = sum(1 for t in accepted_webhooks if titles[t]) + sum(1 for e in accepted_events if answers[e])
duplicated = sum(1 for t in accepted_webhooks if titles[t] > 1) + sum(1 for e in accepted_events if answers[e] > 1)
five = sum(n for (kind, status), n in statuses.items() if isinstance(status, int) and status >= 500)
print("requests by kind and answer:")
for (kind, status), n in sorted(statuses.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
    print(f"  {kind:12} {status!s:12} {n}")
looks = {"accepted": len(accepted_webhooks), "delivered": sum(1 for t in accepted_webhooks if titles[t]),
         "duplicated": sum(1 for t in accepted_webhooks if titles[t] > 1)}
mentions = {"accepted": len(accepted_events), "answered": sum(1 for e in accepted_events if answers[e]),
            "duplicated": sum(1 for e in accepted_events if answers[e] > 1)}
looks["lost"] = looks["accepted"] - looks["delivered"]
mentions["lost"] = mentions["accepted"] - mentions["answered"]
print(json.dumps({"deliveries": looks, "mentions": mentions, "accepted": accepted, "delivered": delivered,
                  "duplicated": duplicated, "lost": accepted - delivered, "answered_5xx": five,
                  "drained_after_s": round(drained, 1)}))
