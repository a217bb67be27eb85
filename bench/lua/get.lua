-- GET one of the paths listed in the file named by the first argument, at random (seeded per
-- thread, so every run sends the same sequence).
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local requests = {}

init = function(args)
  for path in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("GET", path)
  end
  math.randomseed(1000 + (thread_number or 0))
end

request = function()
  if #requests == 1 then
    return requests[1]
  end
  return requests[math.random(#requests)]
end
