-- canary.lua: a canary release in a backend.
--
--   backend app
--       policy canary.lua
--       server web1 10.0.0.1:80 check
--       server web2 10.0.0.2:80 check
--       server canary1 10.0.0.9:80 check
--
-- Requests with `X-Canary: always` or the cookie `canary=always` go to the
-- servers whose name starts with "canary"; `X-Canary: never` keeps a client
-- off them; of the others, PERCENT % go to the canary servers, chosen by a
-- stable hash of the `uid` cookie (or the client address), so a user stays
-- on one side. The percentage can be changed at run time through the admin
-- socket: `set policy var canary.lua percent 20`.
-- Within a side, the server with the fewest active connections is chosen.
-- When no server of the wanted side is usable, the built-in algorithm
-- decides.

local PERCENT = 5

-- Globals used per request, kept in locals: an upvalue read is an array
-- access, a global one a hash lookup. (`shared` is filled after the top
-- level runs, so its table is kept, not shared.get.)
local tonumber, hash, shared = tonumber, varde.hash, shared

-- server name -> is it a canary server (names are few; computed once)
local canary_name = setmetatable({}, { __index = function(t, name)
  local v = name:sub(1, 6) == "canary"
  t[name] = v
  return v
end })

local function wants_canary(req)
  local h = req:header("x-canary")
  if h == "always" or req:cookie("canary") == "always" then
    return true
  end
  if h == "never" then
    return false
  end
  local pct = tonumber(shared.get("percent")) or PERCENT
  local key = req:cookie("uid") or req.src or ""
  return hash(key) % 100 < pct
end

function choose_server(req, servers)
  local want = wants_canary(req)
  local best, best_active
  for i = 1, #servers do -- a numeric loop: no iterator call per server
    local s = servers[i]
    if canary_name[s.name] == want then
      local a = s.active
      if best == nil or a < best_active then
        best, best_active = s.name, a
      end
    end
  end
  return best
end
