-- finish_fanout: clears a record's unfinished fan-out mask once every
-- registry reflects the record, notes the tier the server is in, and drops
-- the revoke set when the fan-out drained it.
--
-- KEYS[1]  record hash             ({s:<server>}:rec)
-- KEYS[2]  server lock             ({s:<server>}:lock)
-- KEYS[3]  revoke set              ({s:<server>}:revoke)
-- ARGV[1]  lock token of the caller (the fence)
-- ARGV[2]  tier the server is in now ('' when in none)
-- ARGV[3]  '1' when the fan-out walked the revoke set, else '0'
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
  redis.call('DEL', KEYS[3])
end
return 1
