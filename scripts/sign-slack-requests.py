#!/usr/bin/env python3
"""Writes a wrk Lua data file of requests signed exactly as Slack signs them (v0 HMAC-SHA256 over
"v0:{timestamp}:{body}"), so wrk can replay them within Slack's five-minute window.

    sign-slack-requests.py slash|event COUNT SECRET OUT.lua [FILE-NUMBER]

Files with different numbers hold different events (event ids and message timestamps).
"""
import hashlib, hmac, json, sys, time, urllib.parse

kind, count, secret, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
number = int(sys.argv[5]) if len(sys.argv) > 5 else 0
ts = str(int(time.time()))
rows = []
for i in range(count):
    if kind == "slash":
        body = urllib.parse.urlencode({
            "team_id": "T000000ACME", "team_domain": "acme", "channel_id": "C0000GENERAL", "channel_name": "general",
            "user_id": "U000000ALICE", "user_name": "alice", "command": "/looker", "text": "help",
            "api_app_id": "A0000000APP", "response_url": f"https://hooks.slack.com/commands/T000000ACME/{i}/x",
            "trigger_id": f"{i}.1.abc"})
        ctype = "application/x-www-form-urlencoded"
    else:
        body = json.dumps({"token": "x", "team_id": "T000000ACME", "api_app_id": "A0000000APP", "type": "event_callback",
            "event_id": f"EvBench{ts}n{number}i{i}", "event_time": int(ts),
            "authorizations": [{"team_id": "T000000ACME", "user_id": "U0000000BOT", "is_bot": True}],
            "event": {"type": "app_mention", "user": "U000000ALICE", "text": "<@U0000000BOT> look 7",
                      "ts": f"{int(ts) + number}.{i:06d}", "channel": "C0000GENERAL",
                      "event_ts": f"{int(ts) + number}.{i:06d}"}})
        ctype = "application/json"
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    rows.append((body, sig))
# Lua allows 65,536 constants per function: the rows are added in chunks of 10,000.
with open(out, "w") as f:
    f.write(f"requests_ts = {json.dumps(ts)}\nrequests_type = {json.dumps(ctype)}\nrequests_data = {{}}\n")
    f.write("local function add(body, sig) requests_data[#requests_data + 1] = {body, sig} end\n")
    for start in range(0, len(rows), 10000):
        f.write("do local function chunk()\n")
        for body, sig in rows[start:start + 10000]:
            f.write("add(" + json.dumps(body) + "," + json.dumps(sig) + ")\n")
        f.write("end chunk() end\n")
