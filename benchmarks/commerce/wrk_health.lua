-- wrk script for bench_checkout.py's baseline: GET /api/health/live (no database), the server's floor
-- cost per request, measured against the same server in the same run as the orders.
request = function()
  return wrk.format("GET", "/api/health/live")
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT requests %d errors %d seconds %.3f request_ms %.2f %.2f %.2f\n",
    summary.requests, errors, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
