-- A module loaded with require through lua-prepend-path.
local M = {}
function M.hello(who) return "hello " .. who end
return M
