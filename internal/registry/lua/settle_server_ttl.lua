-- settle_server_ttl: after a scope change, gives a deleted server's keys the
-- tombstone TTL (they outlive every event that could still arrive, then go:
-- a deleted server costs nothing forever) or, for a server that is not
-- deleted (re-created, shared, unshared), removes any such TTL.
--
-- KEYS[1]  record hash             ({s:<server>}:rec)
-- KEYS[2]  server lock             ({s:<server>}:lock)
-- KEYS[3..] the server's other keys: allowed set, revoke set, holder buckets
-- ARGV[1]  lock token of the caller (the fence)
-- ARGV[2]  tombstone TTL in ms
--
-- Returns  1 expiring (deleted); 0 persisted; -1 the lock does not hold ARGV[1]: nothing written
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return -1
end
local deleted = redis.call('HGET', KEYS[1], 'scope') == 'deleted'
for i, key in ipairs(KEYS) do
  if i ~= 2 then
    if deleted then
      redis.call('PEXPIRE', key, ARGV[2])
    else
      redis.call('PERSIST', key)
    end
  end
end
if deleted then
  return 1
end
return 0
