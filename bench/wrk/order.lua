-- POST /api/v1/orders: a random funded user among those logged in (BENCH_TOKENS, with the
-- user's token; BENCH_AUTH=admin: the admin token; bench/wrk/auth.lua) buys 1 unit of each of
-- two distinct random products (one from each half of the catalogue). BENCH_FLASH=1: everyone
-- buys product 1.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "auth.lua")
local products = tonumber(os.getenv("BENCH_ORDER_PRODUCTS") or "1000")
local flash = os.getenv("BENCH_FLASH") == "1"
local counter = 0
function setup(thread)
    counter = counter + 1
    thread:set("tid", counter)
end
function init(args)
    math.randomseed(os.time() * 1000 + tid)
    n = 0
    ids, auth = bench_users()
end
local half = math.floor(products / 2)
function request()
    n = n + 1
    local i = math.random(1, #ids)
    local user = ids[i]
    local body
    if flash then
        body = string.format('{"user_id":%d,"items":[{"product_id":1,"quantity":1}]}', user)
    else
        body = string.format(
            '{"user_id":%d,"items":[{"product_id":%d,"quantity":1},{"product_id":%d,"quantity":1}]}',
            user, math.random(1, half), math.random(half + 1, products))
    end
    local headers = {["Content-Type"] = "application/json",
                     ["Idempotency-Key"] = string.format("w%d-%d-%d", tid, os.time(), n),
                     ["Authorization"] = auth[i]}
    return wrk.format("POST", "/api/v1/orders", headers, body)
end
