-- POST /api/v1/coupons/{BENCH_COUPON}/issue from the users logged in (BENCH_TOKENS, each with
-- its own token; BENCH_AUTH=admin: the admin token; bench/wrk/auth.lua), in the token file's
-- order (thread t sends users t, t + threads, ...; once all have asked, they ask again).
-- BENCH_COUPON_ACTION=issue-requests: the asynchronous endpoint instead.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "auth.lua")
local coupon = os.getenv("BENCH_COUPON")
local action = os.getenv("BENCH_COUPON_ACTION") or "issue"
local threads = {}
local counter = 0
function setup(thread)
    counter = counter + 1
    thread:set("tid", counter)
    table.insert(threads, thread)
end
function init(args)
    n = tid - 1
    nthreads = #threads > 0 and #threads or 2
    ids, auth = bench_users()
end
function request()
    local i = n % #ids + 1
    n = n + 2 -- wrk -t2: the two threads interleave over the users
    return wrk.format("POST", "/api/v1/coupons/" .. coupon .. "/" .. action,
                      {["Content-Type"] = "application/json", ["Authorization"] = auth[i]},
                      string.format('{"user_id":%d}', ids[i]))
end
