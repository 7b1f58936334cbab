-- apply_record: applies a server event to the server's record, aspect by
-- aspect: config, access (allowed set) and scope each change only when the
-- event's version is newer than the version that aspect last took. So a
-- duplicate changes nothing and any delivery order ends in the same record.
-- Every applied change bumps the record's revision and adds its aspects to the
-- record's unfinished fan-out mask, cleared by finish_fanout.lua once every
-- registry reflects the record; a redelivery finds the mask and finishes the job.
--
-- KEYS[1]  record hash             ({s:<server>}:rec)
-- KEYS[2]  allowed set             ({s:<server>}:allowed)
-- KEYS[3]  server lock             ({s:<server>}:lock)
-- ARGV[1]  lock token of the caller (the fence)
-- ARGV[2]  event version (integer > 0)
-- ARGV[3]  config JSON, or '' when the event carries none
-- ARGV[4]  scope: private | public | deleted, or '' when the event sets none
-- ARGV[5]  '1' when the event sets the allowed set, else '0'
-- ARGV[6..] the allowed user ids (when ARGV[5] is '1')
--
-- Returns  {mask, fields}: mask of aspects still to fan out (1 config, 2 access,
--          4 scope; this event's and any unfinished earlier ones), fields the
--          record after the change as HGETALL returns it (saves a round trip)
--          {-1, {}}: the lock does not hold ARGV[1]: nothing written
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return {-1, {}}
end
local v = tonumber(ARGV[2])
local function version(field)
  return tonumber(redis.call('HGET', KEYS[1], field)) or 0
end
local mask = 0
if ARGV[3] ~= '' and v > version('cfgVersion') then
  redis.call('HSET', KEYS[1], 'config', ARGV[3], 'cfgVersion', v)
  mask = mask + 1
end
if ARGV[5] == '1' and v > version('accessVersion') then
  redis.call('DEL', KEYS[2])
  for i = 6, #ARGV, 1000 do
    redis.call('SADD', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
  redis.call('HSET', KEYS[1], 'accessVersion', v)
  mask = mask + 2
end
if ARGV[4] ~= '' and v > version('scopeVersion') then
  redis.call('HSET', KEYS[1], 'scope', ARGV[4], 'scopeVersion', v)
  mask = mask + 4
end
if mask > 0 then
  redis.call('HINCRBY', KEYS[1], 'rev', 1)
  if mask >= 2 then
    local t = redis.call('TIME')
    redis.call('HSET', KEYS[1], 'accessChangedAt', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  end
end
local unfinished = tonumber(redis.call('HGET', KEYS[1], 'fanout')) or 0
local pending = 0
for _, b in ipairs({1, 2, 4}) do
  if math.floor(unfinished / b) % 2 == 1 or math.floor(mask / b) % 2 == 1 then
    pending = pending + b
  end
end
if pending > 0 then
  redis.call('HSET', KEYS[1], 'fanout', pending)
end
return {pending, redis.call('HGETALL', KEYS[1])}
