-- mark_fanout: flags aspects of a server's record as not yet reflected by
-- every registry, so that the next event of the server, or the redelivery of
-- this one, redoes the fan-out from the record. A flow calls it when it fails
-- after changing the record, in particular when it lost its lock mid-way: its
-- writes may then have landed after a newer flow finished, and only a fan-out
-- from the current record repairs them. Not fenced: flagging is always safe.
--
-- KEYS[1]  record hash             ({s:<server>}:rec)
-- ARGV[1]  mask of aspects (1 config, 2 access, 4 scope)
--
-- Returns  the record's unfinished fan-out mask after the call
local unfinished = tonumber(redis.call('HGET', KEYS[1], 'fanout')) or 0
local mask = tonumber(ARGV[1])
local result = 0
for _, b in ipairs({1, 2, 4}) do
  if math.floor(unfinished / b) % 2 == 1 or math.floor(mask / b) % 2 == 1 then
    result = result + b
  end
end
if result > 0 then
  redis.call('HSET', KEYS[1], 'fanout', result)
end
return result
