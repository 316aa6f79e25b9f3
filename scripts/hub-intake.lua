-- wrk script: Action Hub execute requests as Looker sends them to the slack integration (a CSV
-- of about 4 KB pushed inline, a channel and a comment), each with its own X-Looker-Webhook-Id
-- so every request is a new durable delivery.
local thread_counter = 0

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("thread_id", thread_counter)
end

local sent = 0
local rows = {}
for i = 1, 100 do
  rows[#rows + 1] = string.format("county %03d,%d,%d.50\\n", i, i * 7, i * 13)
end
local body = '{"type":"query","scheduled_plan":{"scheduled_plan_id":17,"title":"Orders by County","type":"Look",'
  .. '"url":"https://looker.bench.invalid/looks/7","query_id":42,"query":null,"download_url":null},'
  .. '"attachment":{"mimetype":"text/csv","extension":"csv","data":"county,orders,revenue\\n' .. table.concat(rows) .. '"},'
  .. '"data":{},"form_params":{"channelType":"manual","channel":"C0000GENERAL","initial_comment":"Daily numbers","filename":""}}'

function request()
  sent = sent + 1
  return wrk.format("POST", "/actions/slack/execute", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = 'Token token="bench-hub-token"',
    ["X-Looker-Webhook-Id"] = string.format("hub-%d-%d-%d", run_id or 0, thread_id or 0, sent),
  }, body)
end

function init(args)
  run_id = tonumber(args[1]) or 0
end
