-- GET /api/v1/products/{id} for a random id in 1..BENCH_PRODUCTS (default 10000).
local n = tonumber(os.getenv("BENCH_PRODUCTS") or "10000")
local counter = 0
function setup(thread)
    counter = counter + 1
    thread:set("seed", counter)
end
function init(args)
    math.randomseed(os.time() * 1000 + seed)
end
function request()
    return wrk.format("GET", "/api/v1/products/" .. math.random(1, n))
end
