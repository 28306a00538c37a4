-- Shared by the wrk scripts that act for users (dofile'd by them in each thread):
-- bench_users() → ids, auth: the users to act for and, index by index, the value of their
-- Authorization header. BENCH_TOKENS: the file bench/login wrote ("user_id token" lines): those
-- users, each with its own access token (verified by shopd on every request). BENCH_AUTH=admin:
-- the same users with "Bearer $BENCH_ADMIN_TOKEN" instead (a constant-time compare, no token
-- verification: the baseline of the token check's cost); without BENCH_TOKENS, users
-- 1..BENCH_USERS.
function bench_users()
    local path = os.getenv("BENCH_TOKENS") or ""
    local admin
    if os.getenv("BENCH_AUTH") == "admin" then
        local token = os.getenv("BENCH_ADMIN_TOKEN") or ""
        if token == "" then error("BENCH_AUTH=admin needs BENCH_ADMIN_TOKEN") end
        admin = "Bearer " .. token
    end
    local ids, auth = {}, {}
    if path ~= "" then
        local f = assert(io.open(path, "r"))
        for line in f:lines() do
            local id, token = line:match("^(%d+) (%S+)$")
            if not id then error(path .. ": not a \"user_id token\" line: " .. line) end
            ids[#ids + 1] = tonumber(id)
            auth[#auth + 1] = admin or ("Bearer " .. token)
        end
        f:close()
    elseif admin then
        for i = 1, tonumber(os.getenv("BENCH_USERS") or "10000") do
            ids[i], auth[i] = i, admin
        end
    end
    if #ids == 0 then error("no users to act for: set BENCH_TOKENS (bench/login's file)") end
    return ids, auth
end
