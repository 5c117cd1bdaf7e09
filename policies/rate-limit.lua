-- rate-limit.lua: a token bucket per client address, answering 429 from a
-- registered action. An HAProxy Lua script (lua-load), so it runs the same
-- under HAProxy 2.6 and varde:
--
--   global
--       lua-load /etc/haproxy/rate-limit.lua
--       stats socket /run/haproxy/admin.sock level admin
--   frontend www
--       bind :80
--       http-request lua.rate_limit
--       default_backend app
--
-- Each client address gets BURST requests at once and RATE more per
-- second; a request over the budget is answered 429 with a Retry-After
-- header and never reaches a server. Both can be changed at run time with
-- process-wide variables on the admin socket:
--
--   experimental-mode on; set var proc.rate_limit_rate int(50)
--   experimental-mode on; set var proc.rate_limit_burst int(100)
--
-- The buckets live in this script's globals: with `lua-load` one state
-- serves every request (under a lock, in HAProxy and varde alike), so the
-- limit is exact. With `lua-load-per-thread` each state would count apart.
-- At most MAX_CLIENTS buckets are kept; when full, the buckets that have
-- refilled are dropped first, and a new client beyond that is let through
-- (an unknown client is not punished for others' numbers).

local RATE, BURST, MAX_CLIENTS = 10, 20, 100000

local buckets, count = {}, 0

local function now()
  local t = core.now()
  return t.sec + t.usec / 1e6
end

local function setting(txn, name, default)
  local v = tonumber(txn:get_var(name))
  if v and v > 0 then
    return v
  end
  return default
end

-- sweep drops the buckets that are full again (they equal a new one).
local function sweep(t, rate, burst)
  for k, b in pairs(buckets) do
    if b.tokens + (t - b.last) * rate >= burst then
      buckets[k] = nil
      count = count - 1
    end
  end
end

-- take reports whether src may pass, taking a token when it does.
local function take(src, t, rate, burst)
  local b = buckets[src]
  if not b then
    if count >= MAX_CLIENTS then
      sweep(t, rate, burst)
      if count >= MAX_CLIENTS then
        return true
      end
    end
    b = { tokens = burst, last = t }
    buckets[src] = b
    count = count + 1
  end
  b.tokens = math.min(burst, b.tokens + math.max(0, t - b.last) * rate)
  b.last = t
  if b.tokens < 1 then
    return false, math.ceil((1 - b.tokens) / rate)
  end
  b.tokens = b.tokens - 1
  return true
end

core.register_action("rate_limit", { "http-req" }, function(txn)
  local src = txn.sf:src()
  if src == "" then
    return
  end
  local rate = setting(txn, "proc.rate_limit_rate", RATE)
  local burst = setting(txn, "proc.rate_limit_burst", BURST)
  local ok, wait = take(src, now(), rate, burst)
  if ok then
    return
  end
  local reply = txn:reply({
    status = 429,
    headers = { ["content-type"] = { "text/plain" }, ["retry-after"] = { tostring(wait) } },
    body = "Too many requests: slow down.\n",
  })
  txn:done(reply)
end)
