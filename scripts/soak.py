#!/usr/bin/env python3
"""Soak: mixed valid and hostile traffic at a steady rate against the real bot, with SIGKILLs.

    soak.py BOT_COMMAND_JSON BOT_PORT SLACK_URL MINUTES KILLS

Started by scripts/soak.sh (which builds and starts the fakes). Every valid scheduled delivery
carries a unique title and webhook id and is resent, as Looker would, until the bot accepts it;
every valid mention has a unique event id and some are sent twice, as Slack retries. At the end
the fake Slack's messages are counted: lost = accepted but never posted, duplicated = posted more
than once. Prints requests by kind and status, 5xx, lost, duplicated, and RSS and descriptors of
the bot over time. Standard library only; every loop is bounded in count and time.
"""
import hashlib, hmac, http.client, json, os, random, signal, socket, subprocess, sys, threading, time, urllib.request
from collections import Counter

command, port, slack_url, minutes, kills = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
SECRET, TOKEN = "soak-signing-secret", "soak-webhook-token"
END = time.time() + minutes * 60
lock = threading.Lock()
statuses = Counter()          # (kind, status) -> count
accepted_webhooks, accepted_events = set(), set()
samples = []                  # (elapsed s, rss MiB, descriptors)
bot = {"process": None}
start = time.time()


def launch():
    log = open(os.environ.get("SOAK_LOG", "/tmp/soak-bot.log"), "a")
    bot["process"] = subprocess.Popen(command, stdout=log, stderr=log, env=os.environ.copy())
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)


def count(kind, status):
    with lock:
        statuses[(kind, status)] += 1


def request(method, path, body=b"", headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return "unreachable"
    finally:
        conn.close()


def signed(body):
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig, "Content-Type": "application/json"}


def every(rate, job):
    """Runs job(n) `rate` times a second until the end."""
    n = 0
    while time.time() < END:
        job(n)
        n += 1
        time.sleep(max(0.0, 1.0 / rate - 0.001))


def webhook(n):
    title = f"soak-{n}"
    body = json.dumps({"type": "query", "scheduled_plan": {"scheduled_plan_id": (n % 20 + 1) * 1000 + 100 + n % 4, "title": title, "type": "Look",
        "url": f"{os.environ['LOOKER_URL']}/looks/{n % 20 + 1}", "query_id": None}}).encode()
    channel = ["general", "random", "sales", "metrics"][n % 4]
    for _ in range(30):  # Looker resends until it is accepted
        status = request("POST", f"/slack/post/channel/{channel}", body,
                         {"Content-Type": "application/json", "X-Looker-Webhook-Token": TOKEN, "X-Looker-Webhook-Id": title})
        count("webhook", status)
        if status == 200:
            with lock:
                accepted_webhooks.add(title)
            return
        time.sleep(1)


# Spread over four channels: Slack takes about one message a second per channel, and the bot
# keeps to that pace, so the valid traffic stays under it (a mention is two posts: "working on
# it", then the answer).
CHANNELS = ["C0000GENERAL", "C0000RANDOMX", "C00000SALES1", "C0000METRICS"]


def event(n):
    ts = f"{int(time.time())}.{n:06d}"
    body = json.dumps({"type": "event_callback", "team_id": "T000000ACME", "event_id": f"EvSoak{n}",
        "authorizations": [{"user_id": "U0000000BOT"}],
        "event": {"type": "app_mention", "user": "U000000ALICE", "text": "<@U0000000BOT> look 3",
                  "ts": ts, "channel": CHANNELS[n % 4]}}).encode()
    for attempt in range(2 if n % 5 == 0 else 1):  # some sent twice, as Slack retries
        for _ in range(30):
            status = request("POST", "/slack/events", body, signed(body))
            count("event", status)
            if status == 200:
                with lock:
                    accepted_events.add(ts)
                break
            time.sleep(1)


def slash(n):
    body = f"team_id=T000000ACME&channel_id=C0000GENERAL&user_id=U000000ALICE&command=%2Flooker&text=help&response_url=http%3A%2F%2F127.0.0.1%2Fr".encode()
    headers = signed(body)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    count("slash", request("POST", "/slack/receive", body, headers))


def hostile(kind):
    """One kind of hostile request (0 to 8), as a job for `every`."""
    return lambda n: hostile_request(kind)


def hostile_request(kind):
    body = b'{"type":"event_callback","event_id":"Ev","event":{}}'
    if kind == 0:
        count("unsigned", request("POST", "/slack/events", body, {"Content-Type": "application/json"}))
    elif kind == 1:
        headers = signed(body)
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
        count("forged", request("POST", "/slack/events", body, headers))
    elif kind == 2:
        headers = signed(body)
        headers["X-Slack-Request-Timestamp"] = str(int(time.time()) - 2**63)
        count("overflowing timestamp", request("POST", "/slack/events", body, headers))
    elif kind == 3:  # a huge unauthenticated upload, abandoned
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"POST /slack/post/channel/x HTTP/1.1\r\nHost: bot\r\nContent-Length: 62914560\r\n\r\n" + b" " * 65536)
            count("unauthenticated upload", s.recv(12)[9:12].decode() or "closed")
            s.close()
        except OSError:
            count("unauthenticated upload", "unreachable")
    elif kind == 4:
        count("malformed webhook", request("POST", "/slack/post/channel/general", b"{not json",
                                             {"X-Looker-Webhook-Token": TOKEN, "Content-Type": "application/json"}))
    elif kind == 5:
        count("wrong method", request("GET", "/slack/events"))
    elif kind == 6:
        count("forged log line", request("POST", "/slack/post/channel/gen%0AFORGED%20line", b"{}", {}))
    elif kind == 7:
        count("huge header", request("GET", "/health_check", headers={"X-Big": "x" * 65536}))
    else:  # a Slack body trickled: cut off
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=20)
            s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 100\r\n\r\n{")
            count("trickled body", s.recv(12)[9:12].decode() or "closed")
            s.close()
        except OSError:
            count("trickled body", "unreachable")


def idle_connections():
    """Keeps 200 idle connections open; the bot closes them, they are opened again."""
    held = []
    while time.time() < END:
        held = [s for s in held if s.fileno() != -1]
        while len(held) < 200:
            try:
                held.append(socket.create_connection(("127.0.0.1", port), timeout=1))
            except OSError:
                break
        time.sleep(5)
        for s in held:
            try:
                s.setblocking(False)
                if s.recv(1) == b"":
                    s.close()
            except BlockingIOError:
                pass
            except OSError:
                s.close()
    for s in held:
        s.close()


def sampler():
    while time.time() < END + 120:
        pid = bot["process"].pid
        try:
            rss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS")) // 1024
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            samples.append((int(time.time() - start), rss, fds))
        except (OSError, StopIteration):
            pass
        time.sleep(10)


def killer():
    for k in range(kills):
        time.sleep(minutes * 60 / (kills + 1))
        bot["process"].send_signal(signal.SIGKILL)
        bot["process"].wait()
        with lock:
            statuses[("kill", "SIGKILL")] += 1
        launch()


launch()
traffic = [(1, webhook), (1, event), (5, slash)] + [(1, hostile(kind)) for kind in range(9)]
threads = [threading.Thread(target=every, args=(rate, job), daemon=True) for rate, job in traffic]
threads += [threading.Thread(target=f, daemon=True) for f in (idle_connections, sampler, killer)]
for t in threads:
    t.start()
for t in threads[: len(traffic)]:
    t.join(timeout=minutes * 60 + 600)
# Drain: wait until every accepted delivery and mention has its message (or 5 minutes).
def posted():
    with urllib.request.urlopen(f"{slack_url}/__fake/messages") as r:
        return json.load(r)["messages"]
deadline = time.time() + 300
while time.time() < deadline:
    messages = posted()
    titles = Counter(t for m in messages for t in [m["text"].split(":")[0]] if t.startswith("soak-"))
    answers = Counter(m["thread_ts"] for m in messages if m["thread_ts"] in accepted_events)
    if all(titles[t] for t in accepted_webhooks) and all(answers[e] for e in accepted_events):
        break
    time.sleep(5)
bot["process"].send_signal(signal.SIGTERM)
bot["process"].wait(timeout=60)

lost_webhooks = [t for t in accepted_webhooks if titles[t] == 0]
dup_webhooks = [t for t in accepted_webhooks if titles[t] > 1]
lost_events = [e for e in accepted_events if answers[e] == 0]
dup_events = [e for e in accepted_events if answers[e] > 1]
five = sum(n for (kind, status), n in statuses.items() if isinstance(status, int) and status >= 500)
print(f"duration {minutes} min, kills {kills}")
print("requests by kind and answer:")
for (kind, status), n in sorted(statuses.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
    print(f"  {kind:24} {status!s:12} {n}")
print(f"requests: {sum(n for (k, _), n in statuses.items() if k != 'kill')}, 5xx: {five}")
print(f"scheduled deliveries accepted {len(accepted_webhooks)}, lost {len(lost_webhooks)}, duplicated {len(dup_webhooks)}")
print(f"mentions accepted {len(accepted_events)}, lost {len(lost_events)}, duplicated {len(dup_events)}")
print("rss MiB / descriptors over time (s: rss/fds):")
print("  " + "  ".join(f"{t}:{r}/{f}" for t, r, f in samples[:: max(1, len(samples) // 24)]))
if samples:
    print(f"rss min {min(s[1] for s in samples)} max {max(s[1] for s in samples)} MiB; descriptors min {min(s[2] for s in samples)} max {max(s[2] for s in samples)}")
