-- geo-cidr.lua: route client networks to backends.
--
--   frontend www
--       bind :80
--       policy geo-cidr.lua
--       default_backend world
--
-- Edit NETWORKS: the first network containing the client address (after
-- the PROXY protocol) names the backend. IPv4 only; other clients go to
-- default_backend.

local NETWORKS = {
  { "10.0.0.0/8", "internal" },
  { "192.168.0.0/16", "internal" },
  { "192.0.2.0/24", "eu" },
  { "198.51.100.0/24", "us" },
}

local function ipv4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then
    return nil
  end
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  if a > 255 or b > 255 or c > 255 or d > 255 then
    return nil
  end
  return ((a * 256 + b) * 256 + c) * 256 + d
end

-- compiled once per state, when the script is loaded
local nets = {}
for i, n in ipairs(NETWORKS) do
  local addr, len = n[1]:match("^([%d%.]+)/(%d+)$")
  local ip = addr and ipv4(addr)
  len = tonumber(len)
  assert(ip and len and len <= 32, "geo-cidr.lua: bad network " .. tostring(n[1]))
  local size = 2 ^ (32 - len)
  nets[i] = { base = math.floor(ip / size), size = size, backend = n[2] }
end

function choose_backend(req)
  local ip = req.src and ipv4(req.src)
  if not ip then
    return nil
  end
  for _, n in ipairs(nets) do
    if math.floor(ip / n.size) == n.base then
      return n.backend
    end
  end
  return nil
end
