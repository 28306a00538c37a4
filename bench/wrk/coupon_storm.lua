-- POST /api/v1/coupons/{BENCH_COUPON}/issue from BENCH_STORM_USERS distinct users
-- (thread t sends users t, t + threads, ...; once all have asked, they ask again).
-- BENCH_COUPON_ACTION=issue-requests: the asynchronous endpoint instead.
local coupon = os.getenv("BENCH_COUPON")
local action = os.getenv("BENCH_COUPON_ACTION") or "issue"
local users = tonumber(os.getenv("BENCH_STORM_USERS") or "20000")
local first = tonumber(os.getenv("BENCH_FIRST_USER") or "1")
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
end
local headers = {["Content-Type"] = "application/json"}
function request()
    local user = first + (n % users)
    n = n + 2 -- wrk -t2: the two threads interleave over the users
    return wrk.format("POST", "/api/v1/coupons/" .. coupon .. "/" .. action, headers,
                      string.format('{"user_id":%d}', user))
end
