-- GET one of the paths listed in the file named by the second argument, at random (seeded per
-- thread), as the user whose bearer token is the first argument.
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local requests = {}

init = function(args)
  local headers = { Authorization = "Bearer " .. args[1] }
  for path in io.lines(args[2]) do
    requests[#requests + 1] = wrk.format("GET", path, headers)
  end
  math.randomseed(2000 + (thread_number or 0))
end

request = function()
  if #requests == 1 then
    return requests[1]
  end
  return requests[math.random(#requests)]
end
