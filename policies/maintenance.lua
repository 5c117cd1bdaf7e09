-- maintenance.lua: a maintenance page, switched on and off from the admin
-- socket. An HAProxy Lua script (lua-load): a service answering 503 with a
-- page, used while the process-wide variable proc.maintenance is "on".
--
--   global
--       lua-load /etc/haproxy/maintenance.lua
--       stats socket /run/haproxy/admin.sock level admin
--   frontend www
--       bind :80
--       http-request use-service lua.maintenance if { var(proc.maintenance) -m str on }
--       default_backend app
--
-- Switch it with HAProxy's own CLI commands (HAProxy 2.6 keeps `set var` in
-- experimental mode):
--
--   experimental-mode on; set var proc.maintenance str(on)
--   experimental-mode on; set var proc.maintenance str(off)
--
-- The condition is in the configuration, so it can be combined with
-- others (`... on !{ src 10.0.0.0/8 }` lets the office through).

local PAGE = [[
<!DOCTYPE html>
<html><head><title>Down for maintenance</title></head>
<body><h1>Down for maintenance</h1>
<p>We are working on the site and will be back shortly.</p></body></html>
]]

core.register_service("maintenance", "http", function(applet)
  applet:set_status(503)
  applet:add_header("content-type", "text/html; charset=utf-8")
  applet:add_header("retry-after", "300")
  applet:add_header("cache-control", "no-store")
  applet:start_response()
  applet:send(PAGE)
end)
