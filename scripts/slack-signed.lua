-- wrk script: replays pre-signed Slack requests (see sign-slack-requests.py), each once in turn,
-- and prints p50/p99/p99.9 at the end. Requests are built in init(), after wrk sets Host.
local requests = {}
local index = 0

function init(args)
  dofile(args[1])
  local path = args[2]
  for i, row in ipairs(requests_data) do
    requests[i] = wrk.format("POST", path, {
      ["Content-Type"] = requests_type,
      ["X-Slack-Request-Timestamp"] = requests_ts,
      ["X-Slack-Signature"] = row[2],
    }, row[1])
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
