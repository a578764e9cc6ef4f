-- wrk script for bench/service.py: JSON POST bodies, per-status counts, a JSON summary line.
--
-- wrk ... -s bench/post.lua URL -- MODE KEY ARG THREADS
--   MODE "phones": {"phone": ...}, a new German mobile number per request; ARG is the first
--                  number of the range (each thread takes its own 5,000,000 numbers after it)
--   MODE "file":   the lines of the file ARG, split between the threads, used in turn
--   MODE "once":   as "file", but each line once: a thread that has used all its lines stops
--   MODE "fixed":  the same small body every time
--   MODE "page":   GET the URL, as a browser asks for a page (no body; Accept-Language de-DE)
--   MODE "experience": Experience API send-code, a new number per request (ARG as in "phones")
--                  with a fresh interaction: the cookies, one per request, are the lines of the
--                  file named by the 5th argument (made beforehand by PUT /api/experience); a
--                  thread that has used all its cookies stops, so none is used twice
--   KEY: a Management API key, or "-" for none

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[2] ~= "-" then
    wrk.headers["Authorization"] = "Bearer " .. args[2]
  end
  local nthreads = tonumber(args[4])
  statuses = {}
  sent = 0
  if mode == "page" then
    wrk.method = "GET"
    wrk.headers["Content-Type"] = nil
    wrk.headers["Accept"] = "text/html"
    wrk.headers["Accept-Language"] = "de-DE,de;q=0.9"
  end
  if mode == "phones" or mode == "experience" then
    first = tonumber(args[3]) + tid * 5000000
  end
  if mode == "experience" then
    cookies = {}
    local i = 0
    for line in io.lines(args[5]) do
      if i % nthreads == tid then
        table.insert(cookies, line)
      end
      i = i + 1
    end
    headers = {["Content-Type"] = "application/json"}
  elseif mode == "file" or mode == "once" then
    bodies = {}
    local i = 0
    for line in io.lines(args[3]) do
      if i % nthreads == tid then
        table.insert(bodies, line)
      end
      i = i + 1
    end
  end
end

function request()
  sent = sent + 1
  if mode == "page" then
    return wrk.format()
  end
  local body
  if mode == "phones" then
    body = string.format('{"phone":"+49151%08d"}', first + sent)
  elseif mode == "experience" then
    if sent > #cookies then
      wrk.thread:stop()  -- this last request may not be answered; none reuses an interaction
      sent = #cookies
    end
    headers["Cookie"] = "phoneauth_interaction=" .. cookies[(sent - 1) % #cookies + 1]
    body = string.format(
      '{"identifier":{"type":"phone","value":"+49151%08d"},"interactionEvent":"SignIn"}',
      first + sent
    )
    return wrk.format(nil, nil, headers, body)
  elseif mode == "file" or mode == "once" then
    if mode == "once" and sent > #bodies then
      wrk.thread:stop()  -- this last request may not be answered; no line is sent twice
      sent = #bodies
    end
    body = bodies[(sent - 1) % #bodies + 1]
  else
    body = '{"phone":"+4915112345678"}'
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  local key = tostring(status)
  if status >= 300 then
    key = key .. " " .. (string.match(body, '"code":"([^"]+)"') or "?")
  end
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("statuses")) do
      counts[key] = (counts[key] or 0) + count
    end
  end
  local parts = {}
  for key, count in pairs(counts) do
    table.insert(parts, string.format('"%s":%d', key, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"socket_errors":%d,"non2xx":%d,'
      .. '"p50_us":%d,"p99_us":%d,"max_us":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max, table.concat(parts, ",")
  ))
end
