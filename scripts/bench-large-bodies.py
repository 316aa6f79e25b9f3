#!/usr/bin/env python3
"""Memory under large webhook bodies: the bot's RSS idle, at its peak while COUNT dashboard
webhooks with a SIZE_MB attachment (base64 in lines, as Looker sends it) arrive PARALLEL at a
time, and ten seconds after. Also the same number of unauthenticated uploads of that size.

    bench-large-bodies.py BOT_BINARY [SIZE_MB] [COUNT] [PARALLEL]

Starts the binary itself (workers off: the deliveries are only accepted and recorded), and the
fake Looker of examples/fakes.rs beside it (`cargo build --release --example fakes`), which keeps
the dashboard plan (900) each webhook is checked against. Standard library only.
"""
import base64, http.client, os, socket, subprocess, sys, tempfile, threading, time

binary = sys.argv[1]
size_mb = int(sys.argv[2]) if len(sys.argv) > 2 else 40
count = int(sys.argv[3]) if len(sys.argv) > 3 else 12
parallel = int(sys.argv[4]) if len(sys.argv) > 4 else 4
port = 38450
work = tempfile.mkdtemp()
looker_port = 38451
fakes = subprocess.Popen([os.path.join(os.path.dirname(binary), "examples", "fakes"), "0", str(looker_port)],
                         env=dict(PATH=os.environ["PATH"], FAKE_BOT_URL="https://lookerbot.bench.example"),
                         stdout=subprocess.DEVNULL)
looker = f"http://127.0.0.1:{looker_port}"
env = dict(PATH=os.environ["PATH"], RUST_LOG="error", **{k: v for k, v in os.environ.items() if k.startswith("MIMALLOC_")}, SLACK_API_KEY="xoxb-bench", SLACK_SIGNING_SECRET="s",
           LOOKER_URL=looker, LOOKER_API_BASE_URL=f"{looker}/api/4.0", PUBLIC_URL="https://lookerbot.bench.example",
           LOOKER_API_CLIENT_ID="looker-client-id", LOOKER_API_CLIENT_SECRET="looker-client-secret", LOOKER_WEBHOOK_TOKEN="t",
           LOOKERBOT_WORKERS="0", LOOKERBOT_WEBHOOK_MAX_MB="256", DATABASE_URL=f"sqlite://{work}/b.db", PORT=str(port))
bot = subprocess.Popen([binary, "serve"], env=env)
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        break
    except OSError:
        time.sleep(0.05)


def rss():
    return next(int(l.split()[1]) for l in open(f"/proc/{bot.pid}/status") if l.startswith("VmRSS")) // 1024


peak = [0]
stop = threading.Event()


def watch():
    while not stop.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.02)


encoded = base64.encodebytes(os.urandom(size_mb * 1024 * 1024)).decode()  # lines of 76, as MIME
body = ('{"type":"dashboard","scheduled_plan":{"scheduled_plan_id":900,"title":"Big","type":"Dashboard","url":null},'
        '"attachment":{"mimetype":"application/pdf;base64","extension":"pdf","data":"'
        + encoded.replace("\n", "\\n") + '"}}').encode()


def send(i, token=True):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json", "X-Looker-Webhook-Id": f"big-{i}-{token}"}
    if token:
        headers["X-Looker-Webhook-Token"] = "t"
    try:
        conn.request("POST", "/slack/post/channel/general", body=body, headers=headers)
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return "closed"
    finally:
        conn.close()


def burst(token):
    results = []
    for start in range(0, count, parallel):
        threads = [threading.Thread(target=lambda i=i: results.append(send(i, token))) for i in range(start, min(count, start + parallel))]
        [t.start() for t in threads]
        [t.join() for t in threads]
    return results


time.sleep(1)
idle = rss()
watcher = threading.Thread(target=watch)
watcher.start()
began = time.time()
accepted = burst(True)
took = time.time() - began
time.sleep(10)
after = rss()
stop.set()
watcher.join()
print(f"{count} webhooks with a {size_mb} MiB attachment ({len(body) // 1024 // 1024} MiB of JSON each), {parallel} at a time:")
print(f"  answers {sorted(set(map(str, accepted)))} in {took:.1f} s; RSS idle {idle} MiB, peak {peak[0]} MiB, 10 s after {after} MiB")
peak[0], stop = 0, threading.Event()
watcher = threading.Thread(target=watch)
watcher.start()
before = rss()
refused = burst(False)
time.sleep(2)
stop.set()
watcher.join()
print(f"  the same without a token: answers {sorted(set(map(str, refused)))}; RSS before {before} MiB, peak {peak[0]} MiB")
bot.terminate()
bot.wait()
fakes.terminate()
