-- wrk script: POST /echo with a 2 KB body on keep-alive connections.
wrk.method = "POST"
wrk.path = "/echo"
wrk.body = string.rep("0123456789abcdef", 128)
wrk.headers["Content-Type"] = "application/octet-stream"

-- count answers that are not 200 or whose body is not the 2 KB sent
local bad = 0
function response(status, headers, body)
   if status ~= 200 or #body ~= #wrk.body then
      bad = bad + 1
   end
end

function done(summary, latency, requests)
   io.write(string.format("bench-bad-responses %d\n", bad))
end
