-- POST /api/v1/posts: a published post with 3 of the tags, each with a title of its own.
-- Arguments: bearer token, a label unique to this run, the tag names separated by commas.
local threads = 0

setup = function(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

local headers = {}
local label = ""
local tags = {}
local counter = 0
local content = "Benchmarks measure what a change bought. This post was written by wrk to "
  .. "measure the cost of creating a post with three tags: the tags are looked up or created, "
  .. "the slug is derived from the title, and the post, its links and the published counter "
  .. "are written in one transaction before the answer goes out. The text is long enough to "
  .. "make an excerpt of two hundred characters and short enough to stay out of TOAST."

init = function(args)
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. args[1]
  label = args[2] .. "-" .. (thread_number or 0)
  for name in string.gmatch(args[3], "[^,]+") do
    tags[#tags + 1] = name
  end
end

request = function()
  counter = counter + 1
  local first = counter % #tags
  local body = string.format(
    '{"title":"Bench post %s %d","content":"%s","published":true,"tags":["%s","%s","%s"]}',
    label, counter, content,
    tags[first + 1], tags[(first + 7) % #tags + 1], tags[(first + 19) % #tags + 1])
  return wrk.format("POST", "/api/v1/posts", headers, body)
end
