-- maintenance.lua: a maintenance page switched from the admin socket.
--
--   frontend www
--       bind :80
--       policy maintenance.lua
--       default_backend app
--   backend maintenance
--       errorfile 503 /etc/varde/maintenance.http
--       # no server: every request gets the 503 page
--
-- `set policy var maintenance.lua maintenance on` sends every request to
-- the backend "maintenance", whose errorfile answers 503 with the page;
-- `set policy var maintenance.lua maintenance off` ends it. Requests with
-- the header `X-Maintenance-Bypass` equal to the shared value `bypass`
-- (set it too) still reach the site, for checking it before reopening.

function choose_backend(req)
  local m = shared.get("maintenance")
  if m ~= "on" and m ~= true and m ~= 1 then
    return nil
  end
  local bypass = shared.get("bypass")
  if bypass and req:header("x-maintenance-bypass") == bypass then
    return nil
  end
  return "maintenance"
end
