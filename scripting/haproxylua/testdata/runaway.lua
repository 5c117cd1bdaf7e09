-- Scripts that never end or fail at request time (TestRunawayScripts).
core.register_action("spin", {"http-req"}, function(txn)
  while true do end
end)
core.register_service("spinsvc", "http", function(applet)
  local t = {}
  while true do t[#t % 1000 + 1] = "x" end
end)
core.register_fetches("bad", function(txn)
  error("fetch failed")
end)
core.register_action("sleepy", {"http-req"}, function(txn)
  core.msleep(5000)
end)
