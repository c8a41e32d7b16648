-- Prints wrk's summary as one JSON line prefixed with WRKJSON (parsed by scripts/bench/lib.sh).
-- Used on its own for GET benchmarks (headers come from wrk -H).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"non2xx":%d,"connect_err":%d,"read_err":%d,"write_err":%d,"timeouts":%d,"n204":-1}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.status, e.connect, e.read, e.write, e.timeout))
end
