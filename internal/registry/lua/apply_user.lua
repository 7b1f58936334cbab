-- apply_user: applies one server change to one user's private registry.
-- A loaded user's registry changes at once (keeping the flag's expiry); a user
-- whose load is in progress gets the change recorded in the pending hash; a
-- user who is neither is left alone (the next login reads MongoDB).
-- A change older than the last one applied to this user's entry is refused:
-- that fences a server flow whose lock expired while it was writing.
--
-- KEYS[1]  registry hash           ({u:<user>}:reg)
-- KEYS[2]  loaded flag             ({u:<user>}:loaded)
-- KEYS[3]  pending hash            ({u:<user>}:pending)
-- KEYS[4]  revisions hash          ({u:<user>}:revs)
-- ARGV[1]  server name
-- ARGV[2]  kind: set (add or replace), upd (replace only if cached), del (remove)
-- ARGV[3]  cached value (set, upd; ignored for del)
-- ARGV[4]  record revision of the change
--
-- Returns  1  the registry now reflects the change: holds the server (set,
--             upd) or no longer holds it (del, when it did)
--          2  recorded for the load in progress
--          3  loaded, but the server is not cached: nothing to change (upd, del)
--          4  loaded, but a newer change was applied already: nothing written
--          0  not loaded and no load in progress: nothing written
local name, kind, rev = ARGV[1], ARGV[2], tonumber(ARGV[4])
if redis.call('EXISTS', KEYS[2]) == 1 then
  if rev < (tonumber(redis.call('HGET', KEYS[4], name)) or 0) then
    return 4
  end
  local result = 1
  if kind == 'del' then
    if redis.call('HDEL', KEYS[1], name) == 0 then
      result = 3
    end
  elseif kind == 'upd' and redis.call('HEXISTS', KEYS[1], name) == 0 then
    result = 3
  else
    redis.call('HSET', KEYS[1], name, ARGV[3])
  end
  redis.call('HSET', KEYS[4], name, rev)
  local expires = redis.call('PEXPIRETIME', KEYS[2])
  if expires > 0 then
    redis.call('PEXPIREAT', KEYS[4], expires)
    if redis.call('EXISTS', KEYS[1]) == 1 then
      redis.call('PEXPIREAT', KEYS[1], expires)
    end
  end
  return result
end
if redis.call('HEXISTS', KEYS[3], '\0token') == 1 then
  local old = redis.call('HGET', KEYS[3], name)
  if old then
    local nl = string.find(old, '\n', 1, true)
    if tonumber(string.sub(old, 1, nl - 1)) >= rev then
      return 2
    end
    -- A replace on top of a recorded add is still an add: the server is not
    -- in the snapshot, and the user was granted it during the load.
    if kind == 'upd' and string.sub(old, nl + 1, nl + 4) == 'set\n' then
      kind = 'set'
    end
  end
  redis.call('HSET', KEYS[3], name, ARGV[4] .. '\n' .. kind .. '\n' .. ARGV[3])
  return 2
end
return 0
