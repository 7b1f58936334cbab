-- put_value: writes a server's one cached value, built from its record, and
-- notes the record revision it reflects (and the server's MongoDB id when
-- given). Called by a server flow under the server lock after the record
-- changed. A deleted server gets no value.
--
-- KEYS[1]  record hash             ({s:<server>}:rec)
-- KEYS[2]  value                   ({s:<server>}:val)
-- KEYS[3]  server lock             ({s:<server>}:lock)
-- KEYS[4]  server feed channel     ({s:<server>}:feed)
-- ARGV[1]  lock token of the caller (the fence)
-- ARGV[2]  value JSON
-- ARGV[3]  MongoDB id to note in the record, or '' to leave it
-- ARGV[4]  server name (for the notice)
-- ARGV[5]  the record's config, dbId and updatedAt the value was built from,
--          joined by "\n" (a login's adopt_value may change them without the
--          server lock: then the value is stale and nothing is written)
--
-- Returns  1 written; 0 the server is deleted: value removed;
--          2 the record's config, dbId or updatedAt changed: rebuild and retry;
--          -1 the lock does not hold ARGV[1]: nothing written
-- Notice   {"server":…,"change":"changed"|"removed","rev":rev}, only when the
--          value's bytes changed
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return -1
end
local function notify(change)
  redis.pcall('SPUBLISH', KEYS[4], '{"server":' .. cjson.encode(ARGV[4]) .. ',"change":"' .. change ..
    '","rev":' .. (redis.call('HGET', KEYS[1], 'rev') or '0') .. '}')
end
if redis.call('HGET', KEYS[1], 'scope') == 'deleted' then
  if redis.call('DEL', KEYS[2]) == 1 then
    notify('removed')
  end
  return 0
end
local cur = redis.call('HMGET', KEYS[1], 'config', 'dbId', 'updatedAt')
if (cur[1] or '') .. '\n' .. (cur[2] or '') .. '\n' .. (cur[3] or '') ~= ARGV[5] then
  return 2
end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'dbId', ARGV[3])
end
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  redis.call('SET', KEYS[2], ARGV[2])
  notify('changed')
end
redis.call('HSET', KEYS[1], 'valRev', redis.call('HGET', KEYS[1], 'rev') or '0')
return 1
