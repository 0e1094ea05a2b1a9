-- wrk script for bench_search_speed.py: cycles through the query URLs in $PATHS_FILE; waits
-- $WRK_DELAY_MS before each request on a connection (pacing: connections / (latency + delay) per s);
-- prints one RESULT line (requests, microseconds, p50/p90/p99/max latency in ms, errors).
local paths = {}
for line in io.lines(os.getenv("PATHS_FILE")) do
  paths[#paths + 1] = line
end
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "0")
local i = 0

request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

if pause > 0 then
  delay = function()
    return pause
  end
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %.3f %d\n", summary.requests, summary.duration,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors))
end
