-- wrk: POST a referral, a different person each time (so duplicate links stay realistic).
local token = os.getenv("BENCH_TOKEN")
local path = os.getenv("BENCH_PATH") or "/api/v1/referrals"
local counter = 0
local base = 0

-- Each thread starts from its own random point, so runs and threads never repeat a person.
init = function(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
  base = math.random(0, 90000000)
end

-- Names are matched on letters only (duplicate detection folds case, accents and digits).
local function letters(n)
  local out = ""
  repeat
    out = string.char(97 + n % 26) .. out
    n = math.floor(n / 26)
  until n == 0
  return out
end

request = function()
  counter = counter + 1
  local n = base + counter
  local body = string.format([[{"authority_code":"E07000241",
"referrer":{"name":"Sam Patel","email":"sam.patel@probation.example"},
"consent":{"given":true},
"person":{"first_name":"Bench%s","last_name":"Person","date_of_birth":"1990-04-01",
"phone":"077%08d","email":"bench%d@example.org","preferred_contact_method":"sms",
"safe_contact":{"sms":true}},
"housing_situation":"threatened_with_homelessness",
"reason":"Section 21 notice expires next month.","support_needs":["offending_history"]}]],
    letters(n), n, n)
  return wrk.format("POST", path, {["Content-Type"] = "application/json",
                                   ["Authorization"] = "Bearer " .. token}, body)
end

done = function(summary, latency, requests)
  io.write(string.format("JSON {\"requests\":%d,\"duration_s\":%.3f,\"rps\":%.1f," ..
    "\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,\"errors_status\":%d,\"errors_other\":%d}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
