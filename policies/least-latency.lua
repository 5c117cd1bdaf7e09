-- least-latency.lua: the server with the lowest moving response time.
--
--   backend app
--       policy least-latency.lua fallback leastconn
--       server a 10.0.0.1:80 check
--       server b 10.0.0.2:80 check
--
-- rtime is each server's moving average of the response time in
-- milliseconds (0 before its first response, so a new server is tried at
-- once). Ties go to the server with fewer active connections. Servers at
-- their maxconn are skipped; with none left, the fallback algorithm picks.

function choose_server(req, servers)
  local best, best_rt, best_active
  for _, s in ipairs(servers) do
    local maxconn, active = s.maxconn, s.active
    if maxconn == 0 or active < maxconn then
      local rt = s.rtime
      if best == nil or rt < best_rt or (rt == best_rt and active < best_active) then
        best, best_rt, best_active = s.name, rt, active
      end
    end
  end
  return best
end
