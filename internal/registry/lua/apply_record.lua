-- apply_record: applies a server event to the server's record, aspect by
-- aspect: config, access (allowed set) and scope each change only when the
-- event's version is newer than the version that aspect last took. So a
-- duplicate changes nothing and any delivery order ends in the same record.
-- Versions are compared as 20-digit decimal strings, exactly (Lua numbers are
-- doubles: above 2^53 two versions would compare equal). Every applied change
-- bumps the record's revision and adds its aspects to the unfinished fan-out
-- mask, cleared by finish_fanout.lua; a redelivery finds the mask and finishes.
--
-- KEYS[1]  record hash             ({s:<server>}:rec)
-- KEYS[2]  allowed set             ({s:<server>}:allowed)
-- KEYS[3]  server lock             ({s:<server>}:lock)
-- KEYS[4]  scratch set             ({s:<server>}:allowed:next), or the staged
--          set ({s:<server>}:allowed:staged:<token>) when ARGV[5] is '2'
-- KEYS[5]  revoke set              ({s:<server>}:revoke)
-- KEYS[6]  value                   ({s:<server>}:val)
-- KEYS[7]  server feed channel     ({s:<server>}:feed)
-- KEYS[8]  server audit outbox     ({s:<server>}:audit)
-- ARGV[1]  lock token of the caller (the fence)
-- ARGV[2]  event version, 20 digits zero-padded
-- ARGV[3]  config JSON, or '' when the event carries none
-- ARGV[4]  scope: private | public | deleted, or '' when the event sets none
-- ARGV[5]  '1' when the event sets the allowed set (ids in ARGV[11..]), '2' when it
--          sets it to the staged set KEYS[4] (built by the caller), else '0'
-- ARGV[6]  the config's updatedAt (Unix ms) from the event, or '' (then now)
-- ARGV[7]  the server's MongoDB id from the event, or ''
-- ARGV[8]  server name (for the notice)
-- ARGV[9]  audit cause (JSON object), or '' to record nothing
-- ARGV[10] audit outbox TTL in ms
-- ARGV[11..] the allowed user ids (when ARGV[5] is '1')
--
-- Audit    a delete of a server that was not deleted appends one outbox entry
--          for every user ("*"), in this same step: kind delete, before
--          private | app | user, after deleted (entry format as
--          apply_user.lua's audit_entry). Grants and revokes are recorded per
--          user by apply_user.lua, tier changes by put_tier.lua.
--
-- Returns  {mask, fields, before, diffed, added, outbox length}
--          mask    aspects still to fan out (1 config, 2 access, 4 scope):
--                  this event's newer ones and any unfinished earlier ones;
--                  1 also when the event brought a new dbId (the value shows
--                  it), never for the same config again (only its version moves)
--          fields  the record after the change, as HGETALL returns it
--          before  the unfinished mask found before this event
--          diffed  1 when a listed allowed set (ARGV[5] '1') changed from a
--                  known one: added is then exactly the users it gained; 0
--                  otherwise (a staged set is walked by the caller)
--          added   users the allowed set gained (when diffed is 1)
--          The users it lost are added to the revoke set.
-- Notice   {"server":…,"change":"removed","rev":rev} when a delete removed the value
--          {-1, {}, 0, 0, {}, 0}: the lock does not hold ARGV[1]: nothing written
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return {-1, {}, 0, 0, {}, 0}
end
local function version(field)
  local s = redis.call('HGET', KEYS[1], field)
  if not s then
    return string.rep('0', 20)
  end
  if #s < 20 and string.match(s, '^%d+$') then -- written by layout 1
    return string.rep('0', 20 - #s) .. s
  end
  if not string.match(s, '^%d+$') then -- layout 1 stored 1e17 and more as "1.7e+18"
    return string.format('%020.0f', tonumber(s) or 0)
  end
  return s
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local v = ARGV[2]
local mask, diffed, added = 0, 0, {}
local deletedValue = false
local newer = false -- some aspect's version moved, even if nothing else did
if ARGV[3] ~= '' and v > version('cfgVersion') then
  newer = true
  if ARGV[6] == '' and redis.call('HGET', KEYS[1], 'config') == ARGV[3] then
    -- The same config again (access and scope events carry it too): only
    -- its version moves; the value and its updatedAt stay as they are.
    redis.call('HSET', KEYS[1], 'cfgVersion', v)
  else
    local updated = ARGV[6]
    if updated == '' then
      updated = now()
    end
    redis.call('HSET', KEYS[1], 'config', ARGV[3], 'cfgVersion', v, 'cfgChangedAt', now(), 'updatedAt', updated)
    mask = mask + 1
  end
end
if ARGV[5] ~= '0' and v > version('accessVersion') then
  local known = redis.call('HEXISTS', KEYS[1], 'accessVersion') == 1
  if ARGV[5] == '1' then
    redis.call('DEL', KEYS[4])
    for i = 11, #ARGV, 1000 do
      redis.call('SADD', KEYS[4], unpack(ARGV, i, math.min(i + 999, #ARGV)))
    end
  end
  local gone = redis.call('SDIFF', KEYS[2], KEYS[4])
  for i = 1, #gone, 1000 do
    redis.call('SADD', KEYS[5], unpack(gone, i, math.min(i + 999, #gone)))
  end
  redis.call('PERSIST', KEYS[5]) -- kept until a fan-out drained it
  if known and ARGV[5] == '1' then
    -- A listed set is bounded by the event's size: return what it gained. A
    -- staged (derived) set may be any size: the caller walks it instead.
    diffed = 1
    added = redis.call('SDIFF', KEYS[4], KEYS[2])
  end
  if redis.call('EXISTS', KEYS[4]) == 1 then
    redis.call('RENAME', KEYS[4], KEYS[2])
    redis.call('PERSIST', KEYS[2]) -- a staged set carried its scratch TTL
  else
    redis.call('DEL', KEYS[2])
  end
  redis.call('HSET', KEYS[1], 'accessVersion', v)
  mask = mask + 2
end
local deletedFrom = nil -- what a delete took everyone's access from
if ARGV[4] ~= '' and v > version('scopeVersion') then
  local old = redis.call('HMGET', KEYS[1], 'scope', 'tier')
  if ARGV[4] == 'deleted' and old[1] ~= 'deleted' then
    deletedFrom = 'private'
    if old[1] == 'public' and (old[2] == 'app' or old[2] == 'user') then
      deletedFrom = old[2]
    end
  end
  redis.call('HSET', KEYS[1], 'scope', ARGV[4], 'scopeVersion', v)
  if ARGV[4] == 'deleted' then
    -- Gone for every reader at once; a re-created server learns its new id.
    if redis.call('DEL', KEYS[6]) == 1 then
      deletedValue = true
    end
    redis.call('HDEL', KEYS[1], 'dbId', 'valRev')
  end
  mask = mask + 4
end
-- Only an applied (newer) event names the id, and a deleted server keeps
-- none: a re-created one learns its new document's.
if ARGV[7] ~= '' and (mask > 0 or newer) and redis.call('HGET', KEYS[1], 'scope') ~= 'deleted'
    and redis.call('HGET', KEYS[1], 'dbId') ~= ARGV[7] then
  redis.call('HSET', KEYS[1], 'dbId', ARGV[7])
  if mask % 2 == 0 then
    mask = mask + 1 -- the value shows the id: rewrite it
  end
end
if mask > 0 then
  local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
  if deletedValue then
    redis.pcall('SPUBLISH', KEYS[7], '{"server":' .. cjson.encode(ARGV[8]) .. ',"change":"removed","rev":' .. rev .. '}')
  end
  if mask >= 2 then
    redis.call('HSET', KEYS[1], 'accessChangedAt', now())
  end
  if deletedFrom and ARGV[9] ~= '' then
    local t = redis.call('TIME')
    redis.call('RPUSH', KEYS[8], '{"t":"' .. t[1] .. string.format('%06d', tonumber(t[2])) ..
      '","u":"*","s":' .. cjson.encode(ARGV[8]) .. ',"k":"delete","b":"' .. deletedFrom ..
      '","a":"deleted","r":' .. rev .. ',"c":' .. ARGV[9] .. '}')
    redis.call('PEXPIRE', KEYS[8], ARGV[10])
  end
end
local before = tonumber(redis.call('HGET', KEYS[1], 'fanout')) or 0
local pending = 0
for _, b in ipairs({1, 2, 4}) do
  if math.floor(before / b) % 2 == 1 or math.floor(mask / b) % 2 == 1 then
    pending = pending + b
  end
end
if pending > 0 then
  redis.call('HSET', KEYS[1], 'fanout', pending)
end
return {pending, redis.call('HGETALL', KEYS[1]), before, diffed, added, redis.call('LLEN', KEYS[8])}
