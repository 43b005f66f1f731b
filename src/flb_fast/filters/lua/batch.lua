-- The lua filter's batch runner: calls the user's function once per record of a slice of a chunk.
-- The records come in as one string in LuaJIT's serialization format (written by flb_fast._core's
-- lua_encode_records) that buffer.decode turns into tables, and the results go back as one string
-- that buffer.encode writes and lua_decode_results reads, so Python crosses into Lua once per slice
-- and every conversion runs in C.
--
-- It follows Fluent Bit's filter_lua (plugins/filter_lua/lua.c cb_lua_filter) and its Lua <-> msgpack
-- conversion (src/flb_lua.c flb_lua_pushmsgpack, flb_lua_tomsgpack):
--   * the function gets (tag, timestamp, record), or (tag, timestamp, group, metadata, record) when it
--     declares five parameters, and returns (code, timestamp, record) (with metadata before the record
--     for five parameters);
--   * a record's arrays and maps carry a metatable whose 'type' is 1 (array) or 2 (map), as Fluent Bit
--     marks them; such a table goes back as that type, an array of #t entries; any other table is an
--     array of table.maxn(t) entries when that is above 0, else a map;
--   * a number that holds an integer becomes an integer, any other number a double;
--   * type_int_key / type_array_key apply to a map entry whose string key is a prefix of (or equal to)
--     a configured key (flb_lua.c compares with strncmp over the entry key's length);
--   * nil and flb_null become null; functions, userdata and threads cannot be serialised and are left out.
--
-- Results, per record, one serialized value after another: 0 (keep the record), -1 (drop it), 1 then
-- the seconds and nanoseconds then the returned value (replace it, with a new time), 2 then the value
-- (replace it, keeping its time); the value false stands for one Fluent Bit cannot turn into records.
-- The returned tables are written as they are; lua_decode_results applies the rules above, and asks
-- for canonical(i) where the serialized form cannot tell (the length of an array with holes, keys
-- that are not strings): that record's value rebuilt with the rules applied here.

local call_name, time_as_table, int_keys, array_keys, label, enable_flb_null = ...

local buffer = require("string.buffer")
local sub = string.sub
local floor, ceil, huge = math.floor, math.ceil, math.huge
local type, next, pcall, tostring, tonumber, getmetatable, setmetatable =
  type, next, pcall, tostring, tonumber, getmetatable, setmetatable

local maxn = table.maxn

local ARRAY_MT = {type = 1}
local MAP_MT = {type = 2}
-- Their order is the one flb_fast._core's lua.pxi writes (_LUA_ARRAY_MT, _LUA_MAP_MT).
local METATABLES = {ARRAY_MT, MAP_MT}

-- Fluent Bit's flb_null is the NULL light userdata (flb_lua_enable_flb_null); serialized as 0x03.
local NULL = buffer.decode("\3")
if enable_flb_null then flb_null = NULL end

-- Configured keys and every prefix of them: an entry key matches when it is one of these.
local function prefixes(keys)
  local set = {}
  for _, key in ipairs(keys) do
    for i = 0, #key do set[sub(key, 1, i)] = true end
  end
  return set
end
local int_prefix = prefixes(int_keys)
local array_prefix = prefixes(array_keys)
local convert_types = next(int_prefix) ~= nil or next(array_prefix) ~= nil

-- The buffers share the dict of map keys Python keeps (see set_keys) and the two marks.
local input, shared_input, output

local function set_keys(keys)
  local options = {dict = keys, metatable = METATABLES}
  input, shared_input, output = buffer.new(options), buffer.new(options), buffer.new(options)
end
set_keys({})

local function truncate(x)
  if x >= 0 then return floor(x) end
  return ceil(x)
end

-- A returned time as seconds: a value that is no number, or no finite one, counts as 0.
local function seconds(x)
  local d = tonumber(x) or 0
  if d ~= d or d == huge or d == -huge then return 0 end
  return d
end

-- 'array', 'map' or nil (not a table), as flb_lua_tomsgpack decides.
local function kind(t)
  if type(t) ~= "table" then return nil end
  local mt = getmetatable(t)
  if mt == ARRAY_MT then return "array" end
  if mt == MAP_MT then return "map" end
  if maxn(t) > 0 then return "array" end
  return "map"
end

-- canonical(value) is value with the rules applied: marked arrays with every entry (nil as NULL) and
-- marked maps with string keys (tostring of any other), so lua_decode_results reads it without doubt.
local canonical_value

local function canonical_array(t, len)
  local c = {}
  for i = 1, len do c[i] = canonical_value(t[i]) end
  return setmetatable(c, ARRAY_MT)
end

local function canonical_map(t)
  local c = {}
  for k, v in next, t do
    local tv = type(v)
    if v == NULL or (tv ~= "function" and tv ~= "userdata" and tv ~= "thread") then
      local tk = type(k)
      if convert_types and tk == "string" and tv == "number" and int_prefix[k] then
        v = truncate(v)
      elseif convert_types and tk == "string" and tv == "table" and array_prefix[k] then
        v = canonical_array(v, #v)
      else
        v = canonical_value(v)
      end
      c[tk == "string" and k or tostring(k)] = v
    end
  end
  return setmetatable(c, MAP_MT)
end

canonical_value = function(v)
  local tv = type(v)
  if tv == "string" or tv == "number" or tv == "boolean" then return v end
  if tv == "table" then
    if kind(v) == "array" then
      return canonical_array(v, getmetatable(v) == ARRAY_MT and #v or maxn(v))
    end
    return canonical_map(v)
  end
  return NULL
end

-- The records a returned value stands for, canonical; nil when Fluent Bit's pack_result rejects it
-- (not a map, or an array with an entry that is not a map).
local function canonical_result(out)
  local k = kind(out)
  if k == "map" then return canonical_map(out) end
  if k ~= "array" then return nil end
  local len = getmetatable(out) == ARRAY_MT and #out or maxn(out)
  local c = {}
  for i = 1, len do
    if kind(out[i]) ~= "map" then return nil end
    c[i] = canonical_map(out[i])
  end
  return setmetatable(c, ARRAY_MT)
end

-- Appends value to the output; false, with the output as it was, when buffer.encode cannot write it
-- (it may have written part of it: a table nested in itself fails once too deep).
local function try_encode(value)
  local before = #output
  if pcall(output.encode, output, value) then return true end
  if #output ~= before then output:put(sub(output:get(), 1, before)) end
  return false
end

-- Writes a returned value: as it is when buffer.encode can (lua_decode_results applies the rules),
-- else canonical (a function or userdata in it), else false (a table nested in itself or too deep).
local function put_result(out)
  if try_encode(out) then return end
  local ok, c = pcall(canonical_result, out)
  if not (ok and c and try_encode(c)) then output:encode(false) end
end

-- Runs the script (a file's bytes or the 'code' option) as Fluent Bit's cb_lua_init does and finds
-- the function: "ok", else the stage that failed and Lua's message.
local function load_script(source, chunkname)
  local chunk, err = loadstring(source, chunkname)
  if not chunk then return "load", err end
  local ok, run_err = pcall(chunk)
  if not ok then return "run", tostring(run_err) end
  if type(_G[call_name]) ~= "function" then return "call", call_name end
  return "ok", call_name
end

-- 5 when the function declares five or more parameters (filter_lua get_callback_args), else 3.
local function callback_args()
  local info = debug.getinfo(_G[call_name], "u")
  if info.nparams and info.nparams >= 5 then return 5 end
  return 3
end

-- The values the last run's records returned as 1 or 2, and the times returned with 1, kept for
-- canonical().
local returned, returned_sec, returned_nsec = {}, {}, {}

-- Calls the function on each of the count records of payload. keys, when not nil, is the dict of
-- map keys from now on; the nshared values of shared_payload (record values that several records
-- share) are written back as Lua writes them unchanged, for Python to recognise unchanged copies.
-- Returns the results, those values and the messages Fluent Bit logs as errors for the chunk, as
-- record index, message, index, message...
local function run(tag, payload, count, nargs, keys, shared_payload, nshared)
  if keys then set_keys(keys) end
  local allocated = collectgarbage("count")
  local fn = _G[call_name]
  local messages = {}
  local shared = ""
  output:reset()
  if nshared > 0 then
    shared_input:set(shared_payload)
    for _ = 1, nshared do output:encode(shared_input:decode()) end
    shared = output:get()
  end
  input:set(payload)
  returned, returned_sec, returned_nsec = {}, {}, {}
  for i = 1, count do
    local ts
    if time_as_table then
      local sec = input:decode()
      ts = {sec = sec, nsec = input:decode()}
    else
      ts = input:decode()
    end
    local record = input:decode()
    local ok, code, rts, out
    if nargs == 5 then
      local _meta
      ok, code, rts, _meta, out = pcall(fn, tag, ts, {}, {}, record)
    else
      ok, code, rts, out = pcall(fn, tag, ts, record)
    end
    if not ok then
      messages[#messages + 1] = i
      messages[#messages + 1] = "error code 2: " .. tostring(code)
      output:encode(0)
    else
      code = truncate(tonumber(code) or 0)
      local sec, nsec, valid_time = nil, nil, true
      if time_as_table then
        if type(rts) == "table" then
          sec, nsec = truncate(seconds(rts.sec)), truncate(seconds(rts.nsec))
        else
          messages[#messages + 1] = i
          messages[#messages + 1] = "invalid lua timestamp type returned"
          valid_time = false
        end
      else
        local d = seconds(rts)
        sec = truncate(d)
        nsec = truncate((d - sec) * 1000000000)
      end
      if code == -1 then
        output:encode(-1)
      elseif code == 1 or code == 2 then
        -- A returned timestamp that is not a table leaves Fluent Bit reading it as the record.
        if valid_time and type(out) == "table" then
          if code == 1 then
            output:encode(1):encode(sec):encode(nsec)
            returned_sec[i], returned_nsec[i] = sec, nsec
          else
            output:encode(2)
          end
          returned[i] = out
          put_result(out)
        else
          messages[#messages + 1] = i
          messages[#messages + 1] = "invalid table returned at " .. call_name .. "(), " .. label
          output:encode(0)
        end
      else
        if code ~= 0 then
          messages[#messages + 1] = i
          messages[#messages + 1] = "unexpected Lua script return code " .. code ..
            ", original record will be kept."
        end
        output:encode(0)
      end
    end
  end
  -- Lua steps its collector where Lua code allocates; the tables buffer.decode makes do not, so
  -- the chunk's garbage is paid for here, as if the script had allocated it.
  collectgarbage("step", collectgarbage("count") - allocated)
  return output:get(), shared, messages
end

-- The i'th record's result written again with its value canonical.
local function canonical(i)
  if returned_sec[i] then
    output:reset():encode(1):encode(returned_sec[i]):encode(returned_nsec[i])
  else
    output:reset():encode(2)
  end
  local ok, c = pcall(canonical_result, returned[i])
  if not (ok and c and try_encode(c)) then output:encode(false) end
  return output:get()
end

return run, canonical, load_script, callback_args
