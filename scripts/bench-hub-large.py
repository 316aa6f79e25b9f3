#!/usr/bin/env python3
"""A large file through the Action Hub, end to end: Looker's execute request with SIZE_MB of
data (pushed inline as base64 in lines, sent chunked, as Looker sends it; then the same size
streamed from a one-time download_url), recorded, uploaded to the fake Slack with the external
upload flow, and Looker answered once Slack has the file. Reports the time to Looker's answer and
the bot's RSS idle and at its peak (sampled every 20 ms, and the kernel's high-water mark).

    bench-hub-large.py BOT_BINARY FAKES_BINARY [SIZE_MB]

Standard library only; runs the release binary and the test fakes (examples/fakes.rs).
"""
import base64, http.client, json, os, socket, subprocess, sys, tempfile, threading, time, urllib.request

bot_binary, fakes_binary = sys.argv[1], sys.argv[2]
size_mb = int(sys.argv[3]) if len(sys.argv) > 3 else 100
bot_port, slack_port, looker_port = 38470, 38471, 38472
work = tempfile.mkdtemp()


def wait_for(port):
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing on port {port}")


fakes = subprocess.Popen([fakes_binary, str(slack_port), str(looker_port), "0", str(size_mb)], stdout=subprocess.DEVNULL)
wait_for(slack_port)
wait_for(looker_port)
looker = f"http://127.0.0.1:{looker_port}"
env = dict(PATH=os.environ["PATH"], RUST_LOG="warn", SLACK_API_KEY="xoxb-test-bot-token", SLACK_SIGNING_SECRET="s",
           SLACK_API_BASE_URL=f"http://127.0.0.1:{slack_port}/api", LOOKER_URL=looker,
           LOOKER_API_BASE_URL=f"{looker}/api/4.0", LOOKER_API_CLIENT_ID="looker-client-id",
           LOOKER_API_CLIENT_SECRET="looker-client-secret", LOOKERBOT_AUTH_TOKEN="bench-hub-token",
           LOOKERBOT_WORKERS="2", LOOKERBOT_HUB_WAIT_SECS="600", LOOKERBOT_HUB_MAX_MB="4096",
           LOOKERBOT_BODY_TIMEOUT_SECS="600", LOOKERBOT_JOB_LEASE_SECS="900", SLACK_TIMEOUT_SECS="120",
           DATABASE_URL=f"sqlite://{work}/b.db", PORT=str(bot_port))
bot = subprocess.Popen([bot_binary, "serve"], env=env)
wait_for(bot_port)


def status(field):
    return next(int(l.split()[1]) for l in open(f"/proc/{bot.pid}/status") if l.startswith(field)) // 1024


def body_file(path):
    """Looker's body with SIZE_MB of random bytes as base64 in lines of 76, written to disk."""
    with open(path, "wb") as out:
        out.write(b'{"type":"query","scheduled_plan":{"title":"Big export","type":"Look","url":"' + looker.encode()
                  + b'/looks/1","query_id":1,"download_url":null},'
                  b'"attachment":{"mimetype":"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64","extension":"xlsx","data":"')
        chunk = 57 * 1024 * 16  # whole lines of 76 characters
        left = size_mb * 1024 * 1024
        while left:
            raw = os.urandom(min(chunk, left))
            left -= len(raw)
            out.write(base64.encodebytes(raw).replace(b"\n", b"\\n"))
        out.write(b'"},"data":{},"form_params":{"channel":"C0000GENERAL","filename":"export.xlsx"}}')


def run(name, make_body):
    idle = status("VmRSS")
    peak = [idle]
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], status("VmRSS"))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    body, length = make_body()
    started = time.time()
    watcher.start()
    conn = http.client.HTTPConnection("127.0.0.1", bot_port, timeout=900)
    headers = {"Content-Type": "application/json", "Authorization": 'Token token="bench-hub-token"',
               "X-Looker-Webhook-Id": f"big-{name}"}
    conn.request("POST", "/actions/slack/execute", body=body, headers=headers, encode_chunked=True)
    response = conn.getresponse()
    answer = json.loads(response.read())
    took = time.time() - started
    stop.set()
    watcher.join()
    with urllib.request.urlopen(f"http://127.0.0.1:{slack_port}/__fake/messages") as r:
        files = json.load(r)["files"]
    sizes = [f["size"] for f in files if f["title"] and name in f["title"]]
    print(f"{name:9} request {length / 2**20:7.1f} MiB  file {size_mb} MiB  answered {response.status} "
          f"success={answer['looker']['success']} in {took:5.1f} s  Slack got {sizes[0] / 2**20 if sizes else 0:.1f} MiB  "
          f"RSS idle {idle} MiB, peak {peak[0]} MiB")


def pushed():
    path = os.path.join(work, "body.json")
    body_file(path)

    def pieces():
        with open(path, "rb") as f:
            while block := f.read(1024 * 1024):
                yield block

    return pieces(), os.path.getsize(path)


def streamed():
    body = json.dumps({"type": "query", "scheduled_plan": {"title": "Big streamed", "type": "Look",
        "url": f"{looker}/looks/1", "query_id": 1, "download_url": f"{looker}/downloads/big"},
        "attachment": None, "data": {}, "form_params": {"channel": "C0000GENERAL", "format": "csv",
        "filename": "streamed.csv"}}).encode()
    return iter([body]), len(body)


try:
    run("export", pushed)
    run("streamed", streamed)
    print(f"peak RSS over both (VmHWM): {status('VmHWM')} MiB")
finally:
    bot.terminate()
    fakes.terminate()
