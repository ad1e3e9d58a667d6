-- wrk script: POSTs one AdmissionReview (a Pod with one model reference as
-- an image volume) to /validate over keep-alive connections.
--
--   wrk -t2 -c32 -d15s --latency -s bench/validate.lua https://127.0.0.1:PORT/validate -- REVIEW.json [check]
--
-- REVIEW.json is the request body as sent by the API server. With "check",
-- every answer is also inspected and the number of answers that are not
-- `"allowed":true` is printed at the end (costs the load generator a little
-- CPU, so the throughput runs leave it off).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1] or os.getenv("BENCH_REVIEW")
  assert(path, "validate.lua: pass the AdmissionReview file after --")
  local f = assert(io.open(path, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[2] == "check" then
    not_allowed = 0
    response = function(status, headers, body)
      if status ~= 200 or not string.find(body, '"allowed":true', 1, true) then
        not_allowed = not_allowed + 1
      end
    end
  end
end

function done(summary, latency, requests)
  local bad, checked = 0, false
  for _, t in ipairs(threads) do
    local n = t:get("not_allowed")
    if n then
      checked = true
      bad = bad + n
    end
  end
  if checked then io.write(string.format("not_allowed: %d\n", bad)) end
end
