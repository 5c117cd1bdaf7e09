-- blue-green.lua: switch a frontend between two backends at run time.
--
--   frontend www
--       bind :80
--       policy blue-green.lua
--       default_backend blue
--
-- The live backend is the shared value `live`, set through the admin
-- socket without a reload:
--
--   echo "set policy var blue-green.lua live green" | socat stdio /run/varde/admin.sock
--
-- Unset (or naming a backend that does not exist), default_backend
-- decides. `X-Preview: blue|green` reaches the other side before the
-- switch, for smoke tests.

function choose_backend(req)
  local preview = req:header("x-preview")
  if preview == "blue" or preview == "green" then
    return preview
  end
  return shared.get("live")
end
