-- POST /api/v1/users/{id}/points/charge {"amount":1} for a random user in 1..BENCH_USERS.
local n = tonumber(os.getenv("BENCH_USERS") or "10000")
local headers = {["Content-Type"] = "application/json"}
local body = '{"amount":1}'
local counter = 0
function setup(thread)
    counter = counter + 1
    thread:set("seed", counter)
end
function init(args)
    math.randomseed(os.time() * 1000 + seed)
end
function request()
    return wrk.format("POST", "/api/v1/users/" .. math.random(1, n) .. "/points/charge",
                      headers, body)
end
-- count non-2xx answers so the run can be rejected if any charge failed
local failures = 0
function response(status, headers, body)
    if status ~= 200 then failures = failures + 1 end
end
