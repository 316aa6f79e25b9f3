#!/usr/bin/env python3
"""A small stand-in for Looker's API 4.0, for benchmarks (the tests have their own, fuller fake).

    fake-looker.py PORT [COMMANDS]

Serves `POST /api/4.0/login`, a custom-command folder `42` holding COMMANDS dashboards (default
20) with two filters each, its sub-folder list, and each dashboard, so a bot configured with
`LOOKER_CUSTOM_COMMAND_FOLDER_ID=42` loads a realistic catalog. Standard library only.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 20
DASHBOARDS = {
    str(i): {
        "id": str(i),
        "title": f"Report {i}",
        "description": f"What report {i} shows",
        "folder_id": "42",
        "dashboard_filters": [
            {"name": "region", "title": "Region", "default_value": "all"},
            {"name": "date", "title": "Date", "default_value": "30 days"},
        ],
        "dashboard_elements": [],
    }
    for i in range(1, COUNT + 1)
}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, body, status=200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/api/4.0/login"):
            return self.answer({"access_token": "bench-token", "token_type": "Bearer", "expires_in": 3600})
        self.answer({"message": "Not found"}, 404)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/api/4.0/folders/42":
            listed = [{"id": d["id"], "title": d["title"]} for d in DASHBOARDS.values()]
            return self.answer({"id": "42", "name": "Slack Commands", "dashboards": listed, "looks": []})
        if path == "/api/4.0/folders/42/children":
            return self.answer([])
        if path.startswith("/api/4.0/dashboards/") and path.rsplit("/", 1)[1] in DASHBOARDS:
            return self.answer(DASHBOARDS[path.rsplit("/", 1)[1]])
        self.answer({"message": "Not found"}, 404)


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
