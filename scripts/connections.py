#!/usr/bin/env python3
"""Connection hygiene under an open-file limit, measured from outside.

Starts the bot with its open-file limit at 1,024 (soft and hard, through `prlimit`), then:
  1. counts its descriptors at rest;
  2. opens IDLE connections that send nothing (slow clients, or a load balancer's idle pool) and
     keeps re-opening the ones the bot closes, for HOLD seconds;
  3. meanwhile asks /health_check once a second on a fresh connection and records each answer's
     status and time;
  4. lets every idle connection go and counts the descriptors again after SETTLE seconds.

Usage: scripts/connections.py [path/to/lookerbot] [IDLE] [HOLD]
Prints one JSON object: descriptors before/during/after, the health checks answered within 2 s.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/release/lookerbot"
IDLE = int(sys.argv[2]) if len(sys.argv) > 2 else 1100
HOLD = float(sys.argv[3]) if len(sys.argv) > 3 else 20
SETTLE = float(os.environ.get("SETTLE", 12))
PORT = 18_000 + os.getpid() % 1000


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def kinds(pid):
    """What the descriptors are: sockets, the database's files, epoll and the like."""
    counted = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kind = target.split(":")[0] if ":" in target else ("database" if ".db" in target else "file")
        counted[kind] = counted.get(kind, 0) + 1
    return counted


async def health():
    started = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", PORT), 2)
        writer.write(b"GET /health_check HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 2)
        writer.close()
        status = int(line.split()[1])
    except Exception:
        status = 0
    return status, time.monotonic() - started


async def idle_client(stop):
    """One connection that never sends a byte, re-opened whenever the bot closes it."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
            closed = asyncio.ensure_future(reader.read())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait([closed, stopping], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            closed.cancel()
            writer.close()
        except Exception:
            await asyncio.sleep(0.2)


async def main(pid):
    before, kinds_before = descriptors(pid), kinds(pid)
    stop = asyncio.Event()
    clients = [asyncio.ensure_future(idle_client(stop)) for _ in range(IDLE)]
    await asyncio.sleep(2)
    during, checks = [], []
    deadline = time.monotonic() + HOLD
    while time.monotonic() < deadline:
        checks.append(await health())
        during.append(descriptors(pid))
        await asyncio.sleep(1)
    stop.set()
    await asyncio.gather(*clients, return_exceptions=True)
    await asyncio.sleep(SETTLE)
    after, kinds_after = descriptors(pid), kinds(pid)
    answered = sum(1 for status, took in checks if status == 200 and took < 2)
    return {
        "idle_connections": IDLE,
        "descriptor_limit": 1024,
        "descriptors_before": before,
        "descriptors_during_max": max(during),
        "descriptors_after": after,
        "kinds_before": kinds_before,
        "kinds_after": kinds_after,
        "health_checks": len(checks),
        "health_checks_answered_within_2s": answered,
        "slowest_health_check_s": round(max(took for _, took in checks), 3),
    }


def run():
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
    workdir = tempfile.mkdtemp()
    env = {
        "PATH": os.environ["PATH"],
        "SLACK_API_KEY": "xoxb-1",
        "SLACK_SIGNING_SECRET": "connections-script",
        "LOOKER_URL": "https://looker.invalid",
        "LOOKER_API_BASE_URL": "https://looker.invalid/api/4.0",
        "LOOKER_API_CLIENT_ID": "a",
        "LOOKER_API_CLIENT_SECRET": "b",
        "LOOKER_WEBHOOK_TOKEN": "t",
        "PORT": str(PORT),
        "DATABASE_URL": f"sqlite://{workdir}/bot.db",
        "RUST_LOG": "warn",
    }
    bot = subprocess.Popen(
        ["prlimit", "--nofile=1024:1024", os.path.abspath(BINARY)], env=env, cwd=workdir
    )
    try:
        for _ in range(100):
            if asyncio.run(health())[0] == 200:
                break
            time.sleep(0.1)
        print(json.dumps(asyncio.run(main(bot.pid)), indent=2))
    finally:
        bot.terminate()
        bot.wait()


if __name__ == "__main__":
    run()
