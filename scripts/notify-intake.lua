-- wrk script: notifications as an application sends them to POST /api/notify (a title, a line
-- of text, a level, two fields and a link), bearer token in the header.
local body = '{"channel":"#ops","title":"Nightly load finished","text":"12 tables, 1,204,332 rows",'
  .. '"level":"info","fields":{"tables":12,"took":"4m 12s"},"link":"https://ci.example.com/runs/7"}'

function request()
  return wrk.format("POST", "/api/notify", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer bench-notify-token-0123456789",
  }, body)
end
