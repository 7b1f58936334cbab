-- commit_load: replaces a user's private registry with a login snapshot in one
-- step, applies the server changes recorded while the load ran, sets the loaded
-- flag, gives registry and flag the same TTL, and ends the load. Readers see
-- the old snapshot or the new one, never a mix.
--
-- KEYS[1]  registry hash           ({u:<user>}:reg)
-- KEYS[2]  loaded flag             ({u:<user>}:loaded)
-- KEYS[3]  pending hash            ({u:<user>}:pending)
-- KEYS[4]  user lock               ({u:<user>}:lock)
-- KEYS[5]  revisions hash          ({u:<user>}:revs)
-- ARGV[1]  lock token of the caller (the fence)
-- ARGV[2]  TTL in ms for registry and flag
-- ARGV[3]  loaded flag value (load time, Unix ms)
-- ARGV[4..] triples: server name, cached value, record revision the value reflects
--
-- Pending entries: field = server name, value = "<rev>\n<set|del|upd>\n<value>".
-- An entry applies when its revision is newer than the snapshot's for that server.
--
-- Returns  n >= 0  servers in the committed registry
--          -1      the lock does not hold ARGV[1] (expired, taken over): nothing written
--          -2      the load was superseded (invalidated, or a newer load began): nothing written
local token = ARGV[1]
if redis.call('GET', KEYS[4]) ~= token then
  return -1
end
if redis.call('HGET', KEYS[3], '\0token') ~= token then
  return -2
end

local values, revs = {}, {}
for i = 4, #ARGV, 3 do
  values[ARGV[i]] = ARGV[i + 1]
  revs[ARGV[i]] = tonumber(ARGV[i + 2])
end

local pending = redis.call('HGETALL', KEYS[3])
for i = 1, #pending, 2 do
  local name, op = pending[i], pending[i + 1]
  if name ~= '\0token' then
    local nl1 = string.find(op, '\n', 1, true)
    local nl2 = string.find(op, '\n', nl1 + 1, true)
    local rev = tonumber(string.sub(op, 1, nl1 - 1))
    local kind = string.sub(op, nl1 + 1, nl2 - 1)
    if rev > (revs[name] or 0) then
      if kind == 'set' or (kind == 'upd' and values[name]) then
        values[name] = string.sub(op, nl2 + 1)
      elseif kind == 'del' then
        values[name] = nil
      end
      revs[name] = rev
    end
  end
end

-- One absolute expiry for registry, revisions and flag: Redis 7.0 reads its
-- clock anew for each command of a script, so relative TTLs could differ by 1 ms.
local t = redis.call('TIME')
local expireAt = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])

redis.call('DEL', KEYS[1], KEYS[3], KEYS[5])
local n, batch = 0, {}
for name, value in pairs(values) do
  batch[#batch + 1] = name
  batch[#batch + 1] = value
  n = n + 1
  if #batch >= 1000 then
    redis.call('HSET', KEYS[1], unpack(batch))
    batch = {}
  end
end
if #batch > 0 then
  redis.call('HSET', KEYS[1], unpack(batch))
end
if n > 0 then
  redis.call('PEXPIREAT', KEYS[1], expireAt)
end
batch = {}
for name, rev in pairs(revs) do
  if rev > 0 then
    batch[#batch + 1] = name
    batch[#batch + 1] = rev
  end
  if #batch >= 1000 then
    redis.call('HSET', KEYS[5], unpack(batch))
    batch = {}
  end
end
if #batch > 0 then
  redis.call('HSET', KEYS[5], unpack(batch))
end
if redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('PEXPIREAT', KEYS[5], expireAt)
end
redis.call('SET', KEYS[2], ARGV[3], 'PXAT', expireAt)
return n
