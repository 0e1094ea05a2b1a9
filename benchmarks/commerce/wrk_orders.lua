-- wrk script for bench_checkout.py: every iteration of a connection is one order, the buyer's two
-- calls, POST /api/checkout then POST /api/checkouts/{id}/pay (each with its own Idempotency-Key).
-- Run with as many threads as connections (-tN -cN): wrk shares one Lua state per thread, so one
-- connection per thread keeps each connection's checkout-then-pay sequence its own.
-- Environment: TOKENS_FILE and SKUS_FILE (one per line), ADDRESS_JSON, RUN_ID (unique per wrk run).
-- Prints RESULT lines: orders, failures, order latency p50/p99/max in ms (first request sent to
-- second answer read, timed with CLOCK_MONOTONIC through LuaJIT's FFI), then wrk's per-request figures.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } zc_timespec;
int clock_gettime(int clk_id, zc_timespec *tp);
]]
local ts = ffi.new("zc_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local function lines(path)
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

local tokens = lines(os.getenv("TOKENS_FILE"))
local skus = lines(os.getenv("SKUS_FILE"))
local address = os.getenv("ADDRESS_JSON")
local run_id = os.getenv("RUN_ID") or "run"

-- main state: hand each thread its number
local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
  thread:set("thread_no", #threads)
end

-- thread state
orders, failures, hist = 0, 0, {}
local token, state, checkout_id, started, keys = nil, "checkout", nil, 0, 0

init = function(args)
  token = tokens[(thread_no - 1) % #tokens + 1]
  math.randomseed(thread_no * 7919)
end

local function key()
  keys = keys + 1
  return string.format("%s-%d-%d", run_id, thread_no, keys)
end

request = function()
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key(),
  }
  if state == "checkout" then
    started = now_ms()
    local body = string.format('{"items":[{"sku_id":%s,"quantity":1}],"shipping_address":%s}',
      skus[math.random(#skus)], address)
    return wrk.format("POST", "/api/checkout", headers, body)
  end
  return wrk.format("POST", "/api/checkouts/" .. checkout_id .. "/pay", headers, '{"payment_method":"pm_card_ok"}')
end

response = function(status, headers, body)
  if state == "checkout" then
    if status == 201 then
      checkout_id = string.match(body, '"id":%s*(%d+)')
      state = "pay"
    else
      failures = failures + 1
    end
    return
  end
  state = "checkout"
  if status == 200 then
    orders = orders + 1
    local bucket = math.floor((now_ms() - started) * 10) -- 0.1 ms buckets
    hist[bucket] = (hist[bucket] or 0) + 1
  else
    failures = failures + 1
  end
end

done = function(summary, latency, requests)
  local total_orders, total_failures, merged = 0, 0, {}
  for _, thread in ipairs(threads) do
    total_orders = total_orders + thread:get("orders")
    total_failures = total_failures + thread:get("failures")
    for bucket, n in pairs(thread:get("hist")) do
      merged[bucket] = (merged[bucket] or 0) + n
    end
  end
  local buckets = {}
  for bucket in pairs(merged) do buckets[#buckets + 1] = bucket end
  table.sort(buckets)
  local function pct(p)
    local want, seen = math.max(1, math.ceil(total_orders * p / 100)), 0
    for _, bucket in ipairs(buckets) do
      seen = seen + merged[bucket]
      if seen >= want then return bucket / 10 end
    end
    return 0
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT orders %d failures %d seconds %.3f\n", total_orders, total_failures,
    summary.duration / 1e6))
  io.write(string.format("RESULT order_ms %.1f %.1f %.1f\n", pct(50), pct(99),
    (buckets[#buckets] or 0) / 10))
  io.write(string.format("RESULT requests %d errors %d request_ms %.2f %.2f %.2f\n", summary.requests, errors,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
