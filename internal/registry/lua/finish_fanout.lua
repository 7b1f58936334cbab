-- finish_fanout: clears a record's unfinished fan-out mask once every
-- registry reflects the record, notes the tier the server is in, and, when
-- the fan-out drained the revoke set, lets it expire after a while instead of
-- dropping it: a flow whose lock expired mid-grant may still write a stale
-- grant for a while, and the repair (its redelivery) finds such users there.
--
-- KEYS[1]  record hash             ({s:<server>}:rec)
-- KEYS[2]  server lock             ({s:<server>}:lock)
-- KEYS[3]  revoke set              ({s:<server>}:revoke)
-- ARGV[1]  lock token of the caller (the fence)
-- ARGV[2]  tier the server is in now ('' when in none)
-- ARGV[3]  '1' when the fan-out walked the revoke set, else '0'
-- ARGV[4]  how long a drained revoke set is kept, ms (outlives any stale writer)
--
-- Returns  1 done; -1 the lock does not hold ARGV[1]: nothing written
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return -1
end
redis.call('HDEL', KEYS[1], 'fanout')
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], 'tier')
else
  redis.call('HSET', KEYS[1], 'tier', ARGV[2])
end
if ARGV[3] == '1' then
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
end
return 1
