-- rate-limit.lua: a token bucket per client address, in the shared table.
--
--   frontend www
--       bind :80
--       policy rate-limit.lua
--       default_backend app
--   backend ratelimited
--       http-request deny deny_status 429
--
-- A policy chooses; it does not answer. A client over its budget is sent
-- to the backend "ratelimited", whose deny rule answers 429 (varde has no
-- HAProxy-style registered Lua action yet). Each client gets BURST
-- requests at once and RATE more per second; both can be changed at run
-- time (`set policy var rate-limit.lua rate 50`). Two requests of one
-- client racing on two event loops may both take the last token: the
-- limit is exact to within the client's concurrency.

local RATE, BURST = 10, 20

function choose_backend(req)
  local src = req.src
  if not src then
    return nil
  end
  local rate = tonumber(shared.get("rate")) or RATE
  local burst = tonumber(shared.get("burst")) or BURST
  local now = varde.now()
  local key = "tb:" .. src
  local tokens, last = burst, now
  local v = shared.get(key)
  if v then
    local t, l = v:match("^([%d%.e+-]+) ([%d%.e+-]+)$")
    tokens, last = tonumber(t) or burst, tonumber(l) or now
  end
  tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
  local limited = tokens < 1
  if not limited then
    tokens = tokens - 1
  end
  -- the entry expires once the bucket would be full again
  shared.set(key, string.format("%.6f %.6f", tokens, now), math.max(1, (burst - tokens) / rate))
  if limited then
    return "ratelimited"
  end
  return nil
end
