-- POSTs NewBillable with a unique callSid per request: "CA" + 32 zero-padded decimal digits,
-- counting up from the first script argument (the seeded insert calls are CA000…0 .. CA000…N-1).
-- Arguments: <first call index> <accountId> <customerId>. Auth comes from wrk -H (cookie).
-- Counts 204 responses and prints the summary as one WRKJSON line.
local threads = {}
local first, account, customer

setup = function(thread)
  table.insert(threads, thread)
end

init = function(args)
  first = tonumber(args[1]) or 0
  account = args[2]
  customer = args[3]
  counter = 0
  n204 = 0
  wrk.headers["Content-Type"] = "application/json"
end

request = function()
  local sid = string.format("CA%032d", first + counter)
  counter = counter + 1
  local body = '{"accountId":"' .. account .. '","customerId":"' .. customer ..
    '","callSid":"' .. sid .. '"}'
  return wrk.format("POST", "/json/reply/NewBillable", nil, body)
end

response = function(status, headers, body)
  if status == 204 then
    n204 = n204 + 1
  end
end

done = function(summary, latency, requests)
  local total204 = 0
  local sent = 0
  for _, t in ipairs(threads) do
    total204 = total204 + (t:get("n204") or 0)
    sent = sent + (t:get("counter") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"non2xx":%d,"connect_err":%d,"read_err":%d,"write_err":%d,"timeouts":%d,' ..
    '"n204":%d,"sent":%d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.status, e.connect, e.read, e.write, e.timeout, total204, sent))
end
