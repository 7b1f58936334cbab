-- apply_user: gives one user a server (set) or takes it away (del): a change
-- of membership only, the server's value lives in its record. A loaded user's
-- members hash changes at once (its TTL is the key's own, untouched); a user
-- whose load is in progress gets the change recorded in the pending hash; a
-- user who is neither is left alone (the next login reads MongoDB). A loaded
-- user whose refresh is in progress gets both: the change now, and recorded
-- for the refresh's commit, which swaps in a new snapshot.
-- A change older than the last one applied to this user's entry is refused:
-- that fences a server flow whose lock expired while it was writing. A removal
-- leaves a tombstone ('-' then the revision) for that reason.
--
-- A change of what the user holds is announced on the user's feed (sharded
-- pub/sub, same slot) before the script returns: no notice without a change.
--
-- KEYS[1]  members hash            ({u:<user>}:m)
-- KEYS[2]  pending hash            ({u:<user>}:pending)
-- KEYS[3]  user feed channel       ({u:<user>}:feed)
-- KEYS[4]  user audit outbox       ({u:<user>}:audit)
-- ARGV[1]  server name
-- ARGV[2]  op: set (give) or del (take away)
-- ARGV[3]  record revision of the change
-- ARGV[4]  user id (for the notice)
-- ARGV[5]  pending hash TTL in ms (kept on it while a refresh records there)
-- ARGV[6]  audit cause (a JSON object: event id, subject, version, worker),
--          or '' to record nothing
-- ARGV[7]  audit outbox TTL in ms
--
-- Audit    a change of what the loaded user holds appends one entry to the
--          outbox, in this same step (see audit_entry below): kind grant or
--          revoke, before/after none | member | consumeOnly. Nothing else
--          (a recorded pending change, a stale or repeated one) appends.
--
-- Notice   {"userId":…,"change":"added"|"removed","servers":[name],"rev":rev}
--
-- Returns  {code, outbox length}, code being:
--          1  the registry now reflects the change (set: holds the server;
--             del: held it and no longer does)
--          2  recorded for the load in progress
--          3  del, loaded, but the server was not held (tombstone written), or
--             is held only through an agent (consumeOnly: kept, no tombstone)
--          4  loaded, but a newer change was applied already: nothing written
--          0  not loaded and no load in progress: nothing written
local name, op, rev = ARGV[1], ARGV[2], tonumber(ARGV[3])
local function notify(change)
  redis.pcall('SPUBLISH', KEYS[3], '{"userId":' .. cjson.encode(ARGV[4]) .. ',"change":"' .. change ..
    '","servers":[' .. cjson.encode(name) .. '],"rev":' .. ARGV[3] .. '}')
end
-- One read of the members hash: loaded mark, refresh mark, this server.
local cur = redis.call('HMGET', KEYS[1], '\0loaded', '\0refreshing', name)
local function done(code)
  return {code, redis.call('LLEN', KEYS[4])}
end
-- audit_entry: one outbox entry, JSON: t Redis time (µs, a string), u user,
-- s server, k kind, b before, a after, r revision, c the cause.
local function audit(kind, before, after)
  if ARGV[6] == '' or before == after then
    return
  end
  local t = redis.call('TIME')
  redis.call('RPUSH', KEYS[4], '{"t":"' .. t[1] .. string.format('%06d', tonumber(t[2])) .. '","u":' ..
    cjson.encode(ARGV[4]) .. ',"s":' .. cjson.encode(name) .. ',"k":"' .. kind .. '","b":"' .. before ..
    '","a":"' .. after .. '","r":' .. ARGV[3] .. ',"c":' .. ARGV[6] .. '}')
  redis.call('PEXPIRE', KEYS[4], ARGV[7])
end
-- A refresh of a loaded user (pending hash present) swaps in a new snapshot at
-- its commit: record the change there too, or the swap would lose it.
local function record()
  local old = redis.call('HGET', KEYS[2], name)
  if old and tonumber(string.match(old, '^(%d+)')) >= rev then
    return
  end
  redis.call('HSET', KEYS[2], name, ARGV[3] .. ' ' .. op)
end
if cur[1] then
  local held, state = false, 'none'
  if cur[3] then
    local old = tonumber(string.match(cur[3], '^-?%d+'))
    held = old >= 0
    if held then
      state = 'member'
      if string.sub(cur[3], -1) == 'c' then
        state = 'consumeOnly'
      end
    end
    if rev < math.abs(old) then
      return done(4) -- stale: neither applied nor recorded for a refresh
    end
    if op == 'del' and string.sub(cur[3], -1) == 'c' then
      -- Reached through an agent, not the allowed set: an access change
      -- does not take it (a refresh or reconcile follows the agent's ACL).
      return done(3)
    end
  end
  if cur[2] then
    record()
    redis.call('PEXPIRE', KEYS[2], ARGV[5])
  end
  if op == 'set' then
    redis.call('HSET', KEYS[1], name, rev)
    if not held then
      notify('added')
    end
    audit('grant', state, 'member')
    return done(1)
  end
  redis.call('HSET', KEYS[1], name, -rev)
  if held then
    notify('removed')
    audit('revoke', state, 'none')
    return done(1)
  end
  return done(3)
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  record()
  return done(2)
end
return done(0)
