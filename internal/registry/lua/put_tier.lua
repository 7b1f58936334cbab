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
-- ARGV[1]  server name
-- ARGV[2]  target tier: app | user, or '' to remove from both
-- ARGV[3]  record revision of the change
--
-- Returns  1 applied; 0 a newer change was applied already: nothing written
-- Notice   {"change":"added"|"removed"|"changed","servers":[name],"tier":…,"rev":rev}
--          when the name entered the tiers, left them, or moved between them
local name, rev = ARGV[1], tonumber(ARGV[3])
if rev < (tonumber(redis.call('HGET', KEYS[3], name)) or 0) then
  return 0
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
return 1
