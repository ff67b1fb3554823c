-- wrk script for benchmarks/run.py: counts the responses per HTTP status in every
-- wrk thread and prints one machine-readable line when the run is over:
--
--   BENCH_RESULT {"duration_us": ..., "requests": ..., "statuses": {"200": ...}, ...}
--
-- Defining response() makes wrk parse every response, which costs wrk CPU (on its
-- own core), not server CPU.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   statuses = {}
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local counts = {}
   for _, thread in ipairs(threads) do
      local counted = thread:get("statuses")
      for code, n in pairs(counted) do
         counts[code] = (counts[code] or 0) + n
      end
   end
   local parts = {}
   for code, n in pairs(counts) do
      table.insert(parts, string.format('"%d": %d', code, n))
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"duration_us": %d, "requests": %d, "statuses": {%s}, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"latency_p50_us": %d, "latency_p99_us": %d}\n',
      summary.duration, summary.requests, table.concat(parts, ", "),
      errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      latency:percentile(50), latency:percentile(99)))
end
