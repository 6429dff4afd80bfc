-- wrk script: POST /v1/messages with a distinct text per request, counting status codes.
-- env: BENCH_KEY (bearer key), BENCH_PRIORITY (otp|normal|bulk), BENCH_TAG (text prefix).
local counter = 0
local threads = {}
local key = os.getenv("BENCH_KEY") or "test"
local prio = os.getenv("BENCH_PRIORITY") or "normal"
local tag = os.getenv("BENCH_TAG") or "bench"

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  codes = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

local batch = tonumber(os.getenv("BENCH_BATCH") or "1")

function request()
  counter = counter + 1
  if batch <= 1 then
    local body = string.format('{"to":"+4477009%05d","text":"%s t%d n%d","priority":"%s"}',
                               counter % 100000, tag, tid, counter, prio)
    return wrk.format(nil, "/v1/messages", nil, body)
  end
  -- {"messages": [...]}: BENCH_BATCH messages in one request, accepted in one transaction
  local items = {}
  for i = 1, batch do
    items[i] = string.format('{"to":"+4477009%05d","text":"%s t%d n%d.%d","priority":"%s"}',
                             (counter * batch + i) % 100000, tag, tid, counter, i, prio)
  end
  return wrk.format(nil, "/v1/messages", nil, '{"messages":[' .. table.concat(items, ",") .. ']}')
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("codes")
    for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format('"%d":%d', k, v)) end
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"codes":{%s}}\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(parts, ",")))
end
