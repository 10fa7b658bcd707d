-- wrk script of bench/serve.sh: one registry operation against `skillopt serve`.
--   OP=pull|full_pull|installable|all_flags|add_outcome|add_attribution  TOKEN=so_…
--   SKILLS="a--bench b--bench"  RUN=<unique prefix for the rows this run uploads>
-- `pull` is what an up-to-date machine's sync asks (the registry's revision); `full_pull`
-- cycles the requests of a full pull (installable, all_flags, installable); the uploads send a new row every request (unique id, job id, session hash), so
-- each one is an insert, never an "already there". done() prints one machine-readable line.

local op = os.getenv("OP") or "installable"
-- LABEL names the run in the RESULT line (default OP); DELAY_MS paces each connection: it waits
-- that long before each request, so C connections make about C * 1000 / (DELAY_MS + latency)
-- requests a second (a load below saturation, whose latency is the server's, not a queue's).
local label = os.getenv("LABEL") or op
local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause then
  function delay()
    return pause
  end
end
local token = os.getenv("TOKEN") or ""
local run = os.getenv("RUN") or "r"
local skills = {}
for s in string.gmatch(os.getenv("SKILLS") or "bench-skill--bench", "%S+") do
  local name, author = string.match(s, "^(.-)%-%-(.+)$")
  skills[#skills + 1] = { name = name, author = author }
end

local headers = {
  ["Authorization"] = "Bearer " .. token,
  ["Content-Type"] = "application/json",
}

local threads = {}
local thread_no = 0
function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
  threads[#threads + 1] = thread
end

local n = 0
local pull_cycle = { "installable", "all_flags", "installable" }

local function post(method, body)
  return wrk.format("POST", "/v1/registry/" .. method, headers, body)
end

local function row_id()
  n = n + 1
  return string.format("%s-t%d-%d", run, tid or 0, n)
end

function request()
  if op == "installable" or op == "all_flags" then
    return post(op, "{}")
  elseif op == "pull" then
    return post("revision", "{}")
  elseif op == "full_pull" then
    n = n + 1
    return post(pull_cycle[(n - 1) % 3 + 1], "{}")
  elseif op == "add_outcome" then
    local id = row_id()
    local s = skills[n % #skills + 1]
    local outcome = (n % 4 == 0) and "failure" or "success"
    return post("add_outcome", string.format(
      '{"row":{"id":"o-%s","job_id":"j-%s","name":"%s","author":"%s","version":1,"bucket":%d,'
        .. '"outcome":"%s","skill_at_fault":false,"confidence":0.9,'
        .. '"reason":"the user accepted the result without a correction","agent":"claude",'
        .. '"model":"claude-sonnet","judged_at":"2026-11-27T12:00:00Z"}}',
      id, id, s.name, s.author, n % 100, outcome))
  elseif op == "add_attribution" then
    local id = row_id()
    local s = skills[n % #skills + 1]
    return post("add_attribution", string.format(
      '{"row":{"session_hash":"%s","bucket":%d,"name":"%s","author":"%s","version":1,'
        .. '"agent":"claude","started_at":"2026-11-27T12:00:00Z"}}',
      id, n % 100, s.name, s.author))
  end
  error("unknown OP " .. op)
end

-- Shows the first few answers that are not 200 (they are counted in wrk's `status` errors).
local not_ok = 0
function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
    if not_ok <= 3 then
      io.stderr:write(string.format("serve.lua: %s answered %d: %s\n", op, status, body or ""))
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT op=%s requests=%d seconds=%.2f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
      .. "errors=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    label, summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors, e.connect, e.read, e.write, e.status, e.timeout))
end
