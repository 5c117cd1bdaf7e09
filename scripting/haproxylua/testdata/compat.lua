-- One script run by HAProxy 2.6 and by varde (TestHAProxyLuaSameAnswers):
-- every answer must be the same.
local greet = require("greet")
local inited = "no"
core.register_init(function() inited = "yes" end)
core.register_service("hello", "http", function(applet)
  local body = "hello " .. applet.method .. " " .. applet.path .. " qs=" .. applet.qs .. " ua0=" .. tostring(applet.headers["x-a"] and applet.headers["x-a"][0]) .. " ua1=" .. tostring(applet.headers["x-a"] and applet.headers["x-a"][1])
  applet:set_status(201)
  applet:add_header("x-int", 10 * 20)
  applet:add_header("content-type", "text/plain")
  applet:start_response()
  applet:send(body)
end)

core.register_service("boom", "http", function(applet)
  error("service failed")
end)

core.register_action("tag", {"http-req"}, function(txn, a1)
  local h = txn.http:req_get_headers()
  local host = txn.sf:req_hdr("host")
  local missing = txn.sf:req_hdr("x-missing")
  txn.http:req_set_header("x-lua-host", host)
  txn.http:req_set_header("x-lua-missing", "[" .. missing .. "]")
  txn.http:req_set_header("x-lua-arg", a1)
  txn.http:req_set_header("x-lua-n", 100 + 100)
  txn:set_var("txn.user", "bob")
  txn:set_var("txn.n", 42)
  txn:set_var("txn.path", txn.sf:path())
  txn:set_priv({count = 7})
  txn.http:req_set_header("x-lua-conv", txn.sc:upper("abc") .. txn.c:lower("XY") .. txn.c:field("a:b:c", 2, ":"))
  txn.http:req_set_header("x-lua-seen", txn.http:req_get_headers()["x-lua-host"][0])
  local xa = h["x-a"]
  if xa then txn.http:req_set_header("x-lua-first", xa[0]) end
end, 1)

core.register_action("fail", {"http-req"}, function(txn)
  local x = nil
  return x.y
end)

core.register_action("short", {"http-req"}, function(txn)
  local r = txn:reply()
  r:set_status(418, "teapot")
  r:add_header("x-reply", "yes")
  r:set_body("short-circuit")
  txn:done(r)
end)

core.register_action("resp", {"http-res"}, function(txn)
  txn.http:res_set_header("x-resp", txn:get_var("txn.n"))
  txn.http:res_set_header("x-user", txn:get_var("txn.user") or "none")
  local p = txn:get_priv()
  txn.http:res_set_header("x-priv", p and p.count or "none")
end)

core.register_fetches("is_admin", function(txn)
  if txn.sf:req_hdr("x-role") == "admin" then return "yes" end
  return "no"
end)

core.register_converters("shout", function(s)
  return string.upper(s) .. "!"
end)

core.register_action("ret", {"http-req"}, function(txn, what)
  if what == "done" then return act.DONE end
  if what == "deny" then return act.DENY end
  if what == "error" then return act.ERROR end
  if what == "abort" then return act.ABORT end
  if what == "stop" then return act.STOP end
  return act.CONTINUE
end, 1)

core.register_action("rewrite", {"http-req"}, function(txn)
  txn.http:req_set_path("/newpath")
  if txn.sf:req_hdr("x-query") ~= "" then txn.http:req_set_query(txn.sf:req_hdr("x-query")) end
  if txn.sf:req_hdr("x-uri") ~= "" then txn.http:req_set_uri(txn.sf:req_hdr("x-uri")) end
  txn.http:req_set_header("x-f-missing", tostring(txn.f:req_hdr("x-nothing")))
  txn.http:req_set_header("x-getvar-missing", tostring(txn:get_var("txn.nothing")))
  txn.http:req_set_method("GET")
end)

core.register_action("rstatus", {"http-res"}, function(txn)
  if txn:get_var("txn.path") ~= "/rstatus" then return end
  local h = txn.http:res_get_headers()
  txn.http:res_set_header("x-be-server", h["server"] and h["server"][0] or "none")
  txn.http:res_set_status(299, "Lua")
end)

core.register_service("nostart", "http", function(applet)
  applet:set_status(202)
end)

core.register_service("echo", "http", function(applet)
  local first = applet:getline()
  local rest = applet:receive()
  local parts = core.tokenize("a,b;;c", ",;", true)
  local out = "first=[" .. first .. "] rest=[" .. rest .. "] len=" .. applet.length .. " tokens=" .. #parts .. ":" .. table.concat(parts, "/") .. " n=" .. (3 * 4) .. " int=" .. tostring(math.tointeger(6.0)) .. " unpack=" .. select("#", table.unpack({1, 2, 3}))
  applet:set_status(200)
  applet:add_header("content-type", "text/plain")
  applet:add_header("x-int", applet.length * 2)
  applet:start_response()
  applet:send(out)
end)

core.register_service("info", "http", function(applet)
  local s = core.backends["b"].servers["s1"]
  local st = s:get_stats()
  local out = greet.hello("lua") .. " init=" .. inited .. " be=" .. core.backends["b"].name .. " srv=" .. tostring(s.name) .. " puid=" .. tostring(s.puid) .. " addr=" .. s:get_addr() .. " stot=" .. type(st.stot) .. " src=" .. applet.sf:src() .. " http-fetch-ok=" .. tostring(pcall(function() return applet.f:path() end))
  applet:start_response()
  applet:send(out)
end)

core.register_action("bye", {"http-req"}, function(txn)
  txn:done()
end)

core.register_action("resdone", {"http-res"}, function(txn)
  local p = txn:get_var("txn.path")
  if p == "/resreply" then
    local r = txn:reply()
    r:set_status(203)
    r:add_header("x-reply", "from-response")
    r:set_body("replaced")
    txn:done(r)
  elseif p == "/resclose" then
    txn:done()
  elseif p == "/res-deny" then return act.DENY
  elseif p == "/res-error" then return act.ERROR
  elseif p == "/res-abort" then return act.ABORT
  elseif p == "/res-stop" then return act.STOP
  elseif p == "/res-done" then return act.DONE
  elseif p == "/res-fail" then error("response action failed")
  end
end)

core.register_service("tcpcall", "http", function(applet)
  local sock = core.tcp()
  sock:settimeout(1)
  local ok, err = sock:connect("127.0.0.1", tonumber(applet.headers["x-port"][0]))
  local out = "connect=" .. tostring(ok)
  if ok then
    sock:send("ping\n")
    local line = sock:receive("*l")
    local rest = sock:receive(3)
    out = out .. " line=" .. tostring(line) .. " rest=" .. tostring(rest)
    sock:close()
  end
  applet:start_response()
  applet:send(out)
end)

core.register_service("early", "http", function(applet)
  applet:send("too early")
end)
