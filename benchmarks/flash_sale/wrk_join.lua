-- wrk script for bench_flash_sale.py: every request is one buyer pressing "buy", POST
-- /api/flash-sales/{id}/join with the buyer's own token, shipping address and Idempotency-Key.
-- Buyers are dealt out to the threads in turn (thread t takes buyers t, t+T, t+2T...), so the first
-- pass sends each of the N buyers once; once a thread has used all of its buyers it starts again
-- with new keys (repeat presses: answered "limit reached" or "sold out", decisions all the same).
-- Environment: TOKENS_FILE (one token a line, buyer order), SALE_ID, RUN_ID (unique per wrk run).
-- Prints RESULT lines: answers by status, and wrk's per-request latency (p50/p99/max in ms).

local function lines(path)
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

local tokens = lines(os.getenv("TOKENS_FILE"))
local sale_id = os.getenv("SALE_ID")
local run_id = os.getenv("RUN_ID") or "run"

-- main state: hand each thread its number and the thread count
local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
  thread:set("thread_no", #threads)
end

-- thread state
admitted, refused, limited, rebuilding, other, sent = 0, 0, 0, 0, 0, 0
local nthreads, path

init = function(args)
  nthreads = tonumber(os.getenv("THREADS"))
  path = "/api/flash-sales/" .. sale_id .. "/join"
end

request = function()
  local index = ((thread_no - 1) + sent * nthreads) % #tokens + 1
  sent = sent + 1
  local headers = {
    ["Authorization"] = "Bearer " .. tokens[index],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = string.format("%s-%d-%d", run_id, thread_no, sent),
  }
  -- One address per buyer: the sale's per-address limit is not what this measures.
  local body = string.format(
    '{"shipping_address":{"name":"买家","phone":"13800000000","province":"上海市","city":"上海市",'
      .. '"district":"浦东新区","line":"世纪大道 %d 号"}}', index)
  return wrk.format("POST", path, headers, body)
end

response = function(status, headers, body)
  if status == 201 then
    admitted = admitted + 1
  elseif status == 409 then
    refused = refused + 1 -- sold out, limit reached: a decision
  elseif status == 429 then
    limited = limited + 1
  elseif status == 503 then
    rebuilding = rebuilding + 1
  else
    other = other + 1
    if other == 1 then -- the first unexpected answer of each thread, to see what went wrong
      io.stderr:write(string.format("unexpected %d: %s\n", status, string.sub(body or "", 1, 300)))
    end
  end
end

done = function(summary, latency, requests)
  local totals = { admitted = 0, refused = 0, limited = 0, rebuilding = 0, other = 0 }
  for _, thread in ipairs(threads) do
    for name in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("RESULT answers %d %d %d %d %d errors %d seconds %.3f\n", totals.admitted,
    totals.refused, totals.limited, totals.rebuilding, totals.other, errors, summary.duration / 1e6))
  io.write(string.format("RESULT request_ms %.2f %.2f %.2f\n", latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
