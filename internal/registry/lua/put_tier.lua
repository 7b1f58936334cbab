-- put_tier: puts a shared server in one tier (or in none), so a name lives in
-- at most one tier. A tier names its servers (name -> record revision); their
-- value is each server's one value ({s:<server>}:val). A change older than the
-- last one applied to this name is refused, which fences a flow whose server
-- lock expired.
--
-- KEYS[1]  tier app hash           ({shared}:app)
-- KEYS[2]  tier user hash          ({shared}:user)
-- KEYS[3]  tier revisions hash     ({shared}:revs)
-- ARGV[1]  server name
-- ARGV[2]  target tier: app | user, or '' to remove from both
-- ARGV[3]  record revision of the change
--
-- Returns  1 applied; 0 a newer change was applied already: nothing written
local name, rev = ARGV[1], tonumber(ARGV[3])
if rev < (tonumber(redis.call('HGET', KEYS[3], name)) or 0) then
  return 0
end
redis.call('HSET', KEYS[3], name, rev)
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
