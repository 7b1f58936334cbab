-- adopt_value: a login load gives a server the value it read from MongoDB
-- (or rebuilt from the record) when the record has none yet, or when MongoDB
-- holds a newer config that no event brought. Not under the server lock: it
-- writes only if the record's revision is still the one the load read, so a
-- server event applied meanwhile (whose flow writes the value itself) wins.
-- It does not change the record's versions or revision.
--
-- KEYS[1]  record hash             ({s:<server>}:rec)
-- KEYS[2]  value                   ({s:<server>}:val)
-- KEYS[3]  server feed channel     ({s:<server>}:feed)
-- ARGV[1]  record revision the load read ('0' when there was no record)
-- ARGV[2]  config JSON to keep as the record's canonical config
-- ARGV[3]  value JSON (built from ARGV[2], ARGV[4], ARGV[5])
-- ARGV[4]  MongoDB id ('' when unknown)
-- ARGV[5]  updatedAt of the value, Unix ms
-- ARGV[6]  server name (for the notice)
--
-- Returns  1 written; 0 the record changed since the load read it, the
--          server is deleted, or a value from a newer updatedAt is there
--          already: nothing written
-- Notice   {"server":…,"change":"changed","rev":rev} when the value's bytes changed
if (redis.call('HGET', KEYS[1], 'rev') or '0') ~= ARGV[1] then
  return 0
end
if redis.call('HGET', KEYS[1], 'scope') == 'deleted' then
  return 0
end
-- Two logins may adopt at one revision: the later MongoDB read wins.
if redis.call('HEXISTS', KEYS[1], 'valRev') == 1
    and tonumber(ARGV[5]) < (tonumber(redis.call('HGET', KEYS[1], 'updatedAt')) or 0) then
  return 0
end
redis.call('HSET', KEYS[1], 'config', ARGV[2], 'updatedAt', ARGV[5], 'valRev', ARGV[1])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'dbId', ARGV[4])
end
if redis.call('GET', KEYS[2]) ~= ARGV[3] then
  redis.call('SET', KEYS[2], ARGV[3])
  redis.pcall('SPUBLISH', KEYS[3], '{"server":' .. cjson.encode(ARGV[6]) .. ',"change":"changed","rev":' .. ARGV[1] .. '}')
end
return 1
