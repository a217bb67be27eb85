-- PATCH /api/v1/posts/{id}: a new title and content for one of the caller's posts, at random
-- (seeded per thread). The slug stays; the content is rendered again; the app keeps the
-- version it replaces as a revision.
-- Arguments: bearer token, a label unique to this run, a file of post ids (one a line).
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local headers = {}
local label = ""
local ids = {}
local counter = 0
local content = "Benchmarks measure what a change bought. This edit was written by wrk to "
  .. "measure the cost of changing a post: its row is locked, the Markdown is rendered again, "
  .. "the version it replaces is kept, and the answer is the whole post. Edit number "

init = function(args)
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. args[1]
  label = args[2] .. "-" .. (thread_number or 0)
  for id in io.lines(args[3]) do
    ids[#ids + 1] = id
  end
  math.randomseed(3000 + (thread_number or 0))
end

request = function()
  counter = counter + 1
  local id = ids[math.random(#ids)]
  local body = string.format(
    '{"title":"Bench edit %s %d","content":"%s%d, **%s**."}', label, counter, content, counter, label)
  return wrk.format("PATCH", "/api/v1/posts/" .. id, headers, body)
end
