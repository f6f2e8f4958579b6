-- wrk script for the worker-memory check: cycles through the paths given after `--` (or
-- listed one a line in a file given as @FILE) and prints one line:
--   RESULT <responses> <non-2xx> <socket errors>
-- Usage: wrk -t1 -c8 -d5s -s wrk_cycle.lua http://127.0.0.1:PORT -- /a/ /b/?page=2 ...
--        wrk -t1 -c8 -d5s -s wrk_cycle.lua http://127.0.0.1:PORT -- @paths.txt [offset]
-- The optional offset starts the cycle there, so that rounds of short runs continue the
-- cycle where the previous round stopped.
-- Counters are globals so that done() can read them from each thread.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  sent, seen, bad = 0, 0, 0
  if args[1] and args[1]:sub(1, 1) == "@" then
    for line in io.lines(args[1]:sub(2)) do
      if line ~= "" then
        paths[#paths + 1] = line
      end
    end
    sent = tonumber(args[2] or "0") or 0
  else
    for i = 1, #args do
      paths[#paths + 1] = args[i]
    end
  end
  if #paths == 0 then
    paths[1] = "/"
  end
end

function request()
  sent = sent + 1
  return wrk.format("GET", paths[(sent - 1) % #paths + 1])
end

function response(status, headers, body)
  seen = seen + 1
  if status < 200 or status > 299 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local seen_total, bad_total = 0, 0
  for _, t in ipairs(threads) do
    seen_total = seen_total + (t:get("seen") or 0)
    bad_total = bad_total + (t:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format("RESULT\t%d\t%d\t%d\n", seen_total, bad_total,
    e.connect + e.read + e.write + e.timeout))
end
