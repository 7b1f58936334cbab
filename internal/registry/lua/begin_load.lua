-- begin_load: marks a user as loading, unless the user is already loaded.
-- While the pending hash exists, server flows record their membership changes
-- for this user in it (apply_user.lua) and commit_load.lua applies them on top
-- of the snapshot, so a change that lands during the load is not lost.
--
-- KEYS[1]  members hash            ({u:<user>}:m)
-- KEYS[2]  pending hash            ({u:<user>}:pending)
-- KEYS[3]  user lock               ({u:<user>}:lock)
-- ARGV[1]  lock token of the caller
-- ARGV[2]  pending hash TTL in ms (outlives the load; a crashed load's marker expires)
-- ARGV[3]  'login' (load a user who is not loaded) or 'refresh' (re-derive a
--          loaded user; the old snapshot stays readable until the commit swaps it)
--
-- Returns  {1, now}  load begun (any older pending hash replaced); now is
--                   the server's clock in Unix ms, to compare with the
--                   accessChangedAt and cfgChangedAt of server records
--          {0, 0}   login: already loaded; refresh: not loaded; nothing written
--          {-1, 0}  the lock does not hold ARGV[1]: nothing written
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return {-1, 0}
end
if (redis.call('EXISTS', KEYS[1]) == 1) == (ARGV[3] ~= 'refresh') then
  return {0, 0}
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], '\0token', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
if ARGV[3] == 'refresh' then
  -- Marks the loaded user's hash (HSET keeps its TTL): apply_user then also
  -- records changes for the commit, which swaps in a hash without the mark.
  redis.call('HSET', KEYS[1], '\0refreshing', '1')
end
local t = redis.call('TIME')
return {1, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)}
