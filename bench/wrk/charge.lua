-- POST /api/v1/users/{id}/points/charge {"amount":1} for a random user among those logged in
-- (BENCH_TOKENS, with the user's token; BENCH_AUTH=admin: the admin token; bench/wrk/auth.lua).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "auth.lua")
local body = '{"amount":1}'
local counter = 0
function setup(thread)
    counter = counter + 1
    thread:set("seed", counter)
end
function init(args)
    math.randomseed(os.time() * 1000 + seed)
    ids, auth = bench_users()
end
function request()
    local i = math.random(1, #ids)
    return wrk.format("POST", "/api/v1/users/" .. ids[i] .. "/points/charge",
                      {["Content-Type"] = "application/json", ["Authorization"] = auth[i]}, body)
end
-- count non-2xx answers so the run can be rejected if any charge failed
local failures = 0
function response(status, headers, body)
    if status ~= 200 then failures = failures + 1 end
end
