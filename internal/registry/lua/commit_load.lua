-- commit_load: replaces a user's membership with a login snapshot in one step,
-- applies the membership changes recorded while the load ran, marks the user
-- loaded and gives the whole hash the one TTL, and ends the load. Readers see
-- the old snapshot or the new one, never a mix; the loaded mark and the
-- membership are one key, so they expire together.
--
-- KEYS[1]  members hash            ({u:<user>}:m)
-- KEYS[2]  pending hash            ({u:<user>}:pending)
-- KEYS[3]  user lock               ({u:<user>}:lock)
-- KEYS[4]  user feed channel       ({u:<user>}:feed)
-- KEYS[5]  user audit outbox       ({u:<user>}:audit)
-- ARGV[1]  lock token of the caller (the fence)
-- ARGV[2]  TTL in ms
-- ARGV[3]  load time, Unix ms (the loaded mark's value)
-- ARGV[4]  user id (for the notice)
-- ARGV[5]  the user's tenant ('' for the default tenant), kept in '\0tenant'
--          so readers pick the user's tenant's shared tiers
-- ARGV[6]  audit cause (JSON object), or '' to record nothing
-- ARGV[7]  audit outbox TTL in ms
-- ARGV[8..] triples: server name, record revision the snapshot read (0: none),
--          'c' when the user reaches the server only through an agent
--          (consumeOnly) or ''
--
-- Notice   {"userId":…,"change":"reloaded","servers":[held names, sorted],"rev":load time}
--
-- Audit    when the user was loaded (a refresh swapping its snapshot), one
--          outbox entry per server whose state changed (kind refresh,
--          before/after none | member | consumeOnly), in this same step. A
--          login (the user was not loaded) records nothing: it fills a cache.
--
-- Pending entries: field = server name, value = "<rev> <set|del>". An entry
-- applies when its revision is newer than the snapshot's for that server.
--
-- Returns  {n, outbox length}, n being:
--          n >= 0  servers the user holds after the commit
--          -1      the lock does not hold ARGV[1] (expired, taken over): nothing written
--          -2      the load was superseded (invalidated, or a newer load began): nothing written
local token = ARGV[1]
if redis.call('GET', KEYS[3]) ~= token then
  return {-1, 0}
end
if redis.call('HGET', KEYS[2], '\0token') ~= token then
  return {-2, 0}
end

local revs, consume = {}, {}
for i = 8, #ARGV, 3 do
  revs[ARGV[i]] = tonumber(ARGV[i + 1])
  if ARGV[i + 2] == 'c' then
    consume[ARGV[i]] = true
  end
end
local pending = redis.call('HGETALL', KEYS[2])
for i = 1, #pending, 2 do
  local name = pending[i]
  if name ~= '\0token' then
    local rev, op = string.match(pending[i + 1], '^(%d+) (%a+)$')
    rev = tonumber(rev)
    local snap = revs[name]
    if rev > math.abs(snap or 0) then
      consume[name] = nil -- a grant is direct; a revoke removes it
      if op == 'set' then
        revs[name] = rev
      else
        revs[name] = -rev
      end
    end
  end
end

-- The states the user held before, for the audit (a refresh only).
local function state(v)
  if not v or string.sub(v, 1, 1) == '-' then
    return 'none'
  elseif string.sub(v, -1) == 'c' then
    return 'consumeOnly'
  end
  return 'member'
end
local old = nil
if ARGV[6] ~= '' and redis.call('EXISTS', KEYS[1]) == 1 then
  old = {}
  local flat = redis.call('HGETALL', KEYS[1])
  for i = 1, #flat, 2 do
    if string.sub(flat[i], 1, 1) ~= '\0' then
      old[flat[i]] = flat[i + 1]
    end
  end
end

redis.call('DEL', KEYS[1], KEYS[2])
local n, batch = 0, {'\0loaded', ARGV[3]}
if ARGV[5] ~= '' then
  batch[#batch + 1] = '\0tenant'
  batch[#batch + 1] = ARGV[5]
end
for name, rev in pairs(revs) do
  batch[#batch + 1] = name
  if consume[name] then
    batch[#batch + 1] = rev .. 'c'
  else
    batch[#batch + 1] = rev
  end
  if rev >= 0 then
    n = n + 1
  end
  if #batch >= 1000 then
    redis.call('HSET', KEYS[1], unpack(batch))
    batch = {}
  end
end
if #batch > 0 then
  redis.call('HSET', KEYS[1], unpack(batch))
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local held = {}
for name, rev in pairs(revs) do
  if rev >= 0 then
    held[#held + 1] = cjson.encode(name)
  end
end
table.sort(held)
redis.pcall('SPUBLISH', KEYS[4], '{"userId":' .. cjson.encode(ARGV[4]) ..
  ',"change":"reloaded","servers":[' .. table.concat(held, ',') .. '],"rev":' .. ARGV[3] .. '}')
if old then
  -- Same entry format as apply_user.lua's audit_entry; r is the new entry's
  -- revision (the old one's for a server the snapshot dropped).
  local t = redis.call('TIME')
  local now = t[1] .. string.format('%06d', tonumber(t[2]))
  local names = {}
  for name in pairs(old) do
    names[name] = true
  end
  for name in pairs(revs) do
    names[name] = true
  end
  for name in pairs(names) do
    local after = 'none'
    local rev = revs[name]
    if rev and rev >= 0 then
      after = 'member'
      if consume[name] then
        after = 'consumeOnly'
      end
    end
    local before = state(old[name])
    if before ~= after then
      local r = math.abs(rev or tonumber(string.match(old[name], '^-?(%d+)')) or 0)
      redis.call('RPUSH', KEYS[5], '{"t":"' .. now .. '","u":' .. cjson.encode(ARGV[4]) .. ',"s":' ..
        cjson.encode(name) .. ',"k":"refresh","b":"' .. before .. '","a":"' .. after .. '","r":' ..
        string.format('%d', r) .. ',"c":' .. ARGV[6] .. '}')
    end
  end
  redis.call('PEXPIRE', KEYS[5], ARGV[7])
end
return {n, redis.call('LLEN', KEYS[5])}
