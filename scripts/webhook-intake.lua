-- wrk script: Looker scheduled-delivery webhooks, each with its own X-Looker-Webhook-Id so every
-- request is a new durable job (none is answered from the de-duplication path).
local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("thread_id", thread_counter)
end

local sent = 0
local body = nil

function request()
  sent = sent + 1
  return wrk.format("POST", "/slack/post/channel/general", {
    ["Content-Type"] = "application/json",
    ["X-Looker-Webhook-Token"] = "bench-webhook-token",
    ["X-Looker-Webhook-Id"] = string.format("bench-%d-%d-%d", run_id or 0, thread_id or 0, sent),
  }, body)
end

-- Plan 7100 of the fake Looker (examples/fakes.rs): Look 7 to #general, as Looker keeps it.
function init(args)
  run_id = tonumber(args[1]) or 0
  local looker = args[2] or "https://looker.bench.invalid"
  body = '{"type":"query","scheduled_plan":{"scheduled_plan_id":7100,"title":"Daily Orders","type":"Look",'
    .. '"url":"' .. looker .. '/looks/7","query_id":"q7","query":null,"download_url":null},'
    .. '"attachment":null,"data":null}'
end
