-- invalidate: forgets a user's cached registry (membership, loaded mark, and
-- any load in progress, whose commit is then refused as superseded) and, if
-- the user was loaded, announces it on the user's feed.
--
-- KEYS[1]  members hash            ({u:<user>}:m)
-- KEYS[2]  pending hash            ({u:<user>}:pending)
-- KEYS[3]  user feed channel       ({u:<user>}:feed)
-- ARGV[1]  user id (for the notice)
--
-- Returns  1 the user was loaded; 0 it was not (a load in progress is still dropped)
-- Notice   {"userId":…,"change":"reloaded","servers":[],"rev":0}: the user is not
--          loaded any more; readers re-read (and see loaded false)
redis.call('DEL', KEYS[2])
if redis.call('DEL', KEYS[1]) == 0 then
  return 0
end
redis.pcall('SPUBLISH', KEYS[3], '{"userId":' .. cjson.encode(ARGV[1]) .. ',"change":"reloaded","servers":[],"rev":0}')
return 1
