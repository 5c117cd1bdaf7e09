-- degraded-health.lua: a health verdict from the body of the check.
--
--   backend app
--       policy degraded-health.lua
--       option httpchk GET /health
--       server a 10.0.0.1:80 check
--
-- A server whose health page answers 2xx/3xx but says "degraded" in its
-- body is taken out of rotation; one answering 429 (busy, but alive) stays
-- in. Anything else keeps the probe's own verdict. The body seen is the
-- first 4 KiB of the response.

local KEYWORD = "degraded"

function health(server, result)
  if result.code == 429 then
    return true
  end
  if result.ok and result.body:find(KEYWORD, 1, true) then
    return false
  end
  return nil
end
