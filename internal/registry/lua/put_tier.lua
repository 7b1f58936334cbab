-- put_tier: puts a shared server in one tier (or in none), so a name lives in
-- at most one tier. A tier names its servers (name -> record revision); their
-- value is each server's one value ({s:<server>}:val). A change older than the
-- last one applied to this name is refused, which fences a flow whose server
-- lock expired.
--
-- KEYS[1]  tier app hash           ({shared}:app)
-- KEYS[2]  tier user hash          ({shared}:user)
-- KEYS[3]  tier revisions hash     ({shared}:revs)
-- KEYS[4]  shared feed channel     ({shared}:feed)
-- KEYS[5]  shared audit outbox     ({shared}:audit)
-- ARGV[1]  server name
-- ARGV[2]  target tier: app | user, or '' to remove from both
-- ARGV[3]  record revision of the change
-- ARGV[4]  audit cause (JSON object), or '' to record nothing
-- ARGV[5]  audit outbox TTL in ms
--
-- Audit    when the name entered the tiers, left them or moved, one outbox
--          entry for every user ("*"), in this same step: kind promote
--          (private -> app|user), demote (app|user -> private) or retier
--          (app <-> user); entry format as apply_user.lua's audit_entry.
--
-- Returns  {1 applied | 0 a newer change was applied already: nothing written,
--           outbox length}
-- Notice   {"change":"added"|"removed"|"changed","servers":[name],"tier":…,"rev":rev}
--          when the name entered the tiers, left them, or moved between them
local name, rev = ARGV[1], tonumber(ARGV[3])
if rev < (tonumber(redis.call('HGET', KEYS[3], name)) or 0) then
  return {0, redis.call('LLEN', KEYS[5])}
end
redis.call('HSET', KEYS[3], name, rev)
local before = ''
if redis.call('HEXISTS', KEYS[1], name) == 1 then
  before = 'app'
elseif redis.call('HEXISTS', KEYS[2], name) == 1 then
  before = 'user'
end
if before ~= ARGV[2] then
  local change = 'changed'
  if before == '' then
    change = 'added'
  elseif ARGV[2] == '' then
    change = 'removed'
  end
  redis.pcall('SPUBLISH', KEYS[4], '{"change":"' .. change .. '","servers":[' .. cjson.encode(name) ..
    '],"tier":"' .. ARGV[2] .. '","rev":' .. ARGV[3] .. '}')
  if ARGV[4] ~= '' then
    local kind, b, a = 'retier', before, ARGV[2]
    if before == '' then
      kind, b = 'promote', 'private'
    elseif a == '' then
      kind, a = 'demote', 'private'
    end
    local t = redis.call('TIME')
    redis.call('RPUSH', KEYS[5], '{"t":"' .. t[1] .. string.format('%06d', tonumber(t[2])) ..
      '","u":"*","s":' .. cjson.encode(name) .. ',"k":"' .. kind .. '","b":"' .. b .. '","a":"' .. a ..
      '","r":' .. ARGV[3] .. ',"c":' .. ARGV[4] .. '}')
    redis.call('PEXPIRE', KEYS[5], ARGV[5])
  end
end
if ARGV[2] == 'app' then
  redis.call('HSET', KEYS[1], name, rev)
  redis.call('HDEL', KEYS[2], name)
elseif ARGV[2] == 'user' then
  redis.call('HSET', KEYS[2], name, rev)
  redis.call('HDEL', KEYS[1], name)
else
  redis.call('HDEL', KEYS[1], name)
  redis.call('HDEL', KEYS[2], name)
end
return {1, redis.call('LLEN', KEYS[5])}
