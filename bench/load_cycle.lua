-- wrk script for bench/load.sh: every connection cycles through the paths listed one a line
-- in a file (wrk ... -s load_cycle.lua URL -- PATHS_FILE [offset]), each wrk thread starting at
-- its own point of the cycle, and one line is printed at the end:
--   RESULT <requests> <errors> <non-2xx/3xx> <socket errors> <req/s> <p50 ms> <p99 ms> <max ms>
-- An error is an answer outside 200-399 or a socket error (connect, read, write, timeout).
-- The optional offset continues the cycle where an earlier run stopped.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    paths[1] = "/"
  end
  local offset = tonumber(args[2] or "0") or 0
  -- wrk numbers no thread in init(); `id` was set by setup() (0 for the first).
  sent = offset + math.floor((id or 0) * #paths / 4)
  bad = 0
end

function request()
  sent = sent + 1
  return wrk.format("GET", paths[(sent - 1) % #paths + 1])
end

function response(status, headers, body)
  if status < 200 or status > 399 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + (t:get("bad") or 0)
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format("RESULT\t%d\t%d\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\n",
    summary.requests, bad_total + socket_errors, bad_total, socket_errors,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
