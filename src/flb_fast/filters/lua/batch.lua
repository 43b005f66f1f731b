-- The lua filter's batch runner: calls the user's function once per record of a chunk and
-- returns the whole chunk's results as one JSON text, so Python crosses into Lua once per chunk
-- and decodes the results with one msgspec call.
--
-- It follows Fluent Bit's filter_lua (plugins/filter_lua/lua.c cb_lua_filter) and its Lua <-> msgpack
-- conversion (src/flb_lua.c flb_lua_tomsgpack):
--   * the function gets (tag, timestamp, record), or (tag, timestamp, group, metadata, record) when it
--     declares five parameters, and returns (code, timestamp, record) (with metadata before the record
--     for five parameters);
--   * a number that holds an integer becomes an integer, any other number a double;
--   * a table that came from a record's array or map keeps that type (Fluent Bit marks them with a
--     metatable whose 'type' is 1 for arrays and 2 for maps); any other table is an array of
--     table.maxn(t) entries when that is above 0, else a map;
--   * type_int_key / type_array_key apply to a map entry whose string key is a prefix of (or equal to)
--     a configured key (flb_lua.c compares with strncmp over the entry key's length);
--   * nil and flb_null become null; functions, userdata and threads cannot be serialised and are left out.
--
-- Results: [entries, messages]. An entry is 0 (keep the record), -1 (drop it), [1, sec, nsec, record...,
-- refs] (replace it, with a new time) or [2, record..., refs] (replace it, keeping its time); refs is 0
-- or the [key, index] of the first record's values to take from the record values Python passed
-- (see run). Messages are what Fluent Bit logs as errors for the chunk, in order.

local call_name, time_as_table, int_keys, array_keys, label, enable_flb_null = ...

local byte, find, format, gsub, sub = string.byte, string.find, string.format, string.gsub, string.sub
local concat = table.concat
local floor, ceil, huge = math.floor, math.ceil, math.huge
local type, next, pairs, pcall, tostring, tonumber, getmetatable, setmetatable =
  type, next, pairs, pcall, tostring, tonumber, getmetatable, setmetatable

-- table.maxn is Lua 5.1's (LuaJIT has it); other Lua versions get the same definition.
local maxn = table.maxn or function(t)
  local max = 0
  for k in pairs(t) do
    if type(k) == "number" and k > max then max = k end
  end
  return max
end

local ARRAY_MT = {type = 1}
local MAP_MT = {type = 2}

-- flb_null is a unique value a script can compare with and store; it leaves Lua as null.
local NULL = newproxy and newproxy(false) or setmetatable({}, {__tostring = function() return "flb_null" end})
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

local buf, n = {}, 0

local function put(s)
  n = n + 1
  buf[n] = s
end

-- JSON escapes for the quote, the backslash and every control character.
local ESCAPES = {['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r',
                 ['\t'] = '\\t'}
for c = 0, 127 do
  local ch = string.char(c)
  if (c < 32 or c == 127) and not ESCAPES[ch] then ESCAPES[ch] = format("\\u%04x", c) end
end

-- Length of the valid UTF-8 sequence at s[i] (1 to 4), or nil: strings a script cuts or builds byte
-- by byte may be invalid, and the results must be valid UTF-8 text for Python.
local function utf8_length(s, i)
  local c = byte(s, i)
  if c < 0x80 then return 1 end
  local len, min, max
  if c >= 0xC2 and c <= 0xDF then len = 2
  elseif c >= 0xE0 and c <= 0xEF then len = 3
  elseif c >= 0xF0 and c <= 0xF4 then len = 4
  else return nil end
  min, max = 0x80, 0xBF
  if c == 0xE0 then min = 0xA0 elseif c == 0xED then max = 0x9F
  elseif c == 0xF0 then min = 0x90 elseif c == 0xF4 then max = 0x8F end
  local c2 = byte(s, i + 1)
  if not c2 or c2 < min or c2 > max then return nil end
  for j = i + 2, i + len - 1 do
    local cj = byte(s, j)
    if not cj or cj < 0x80 or cj > 0xBF then return nil end
  end
  return len
end

-- Invalid bytes become U+FFFD, as Python's errors="replace" decoding does.
local function valid_utf8(s)
  local i, size = 1, #s
  local out, count, start = nil, 0, 1
  while i <= size do
    local len = utf8_length(s, i)
    if len then
      i = i + len
    else
      out = out or {}
      out[count + 1] = sub(s, start, i - 1)
      out[count + 2] = "\239\191\189"
      count = count + 2
      i = i + 1
      start = i
    end
  end
  if not out then return s end
  out[count + 1] = sub(s, start)
  return concat(out)
end

-- How a string goes into JSON: 0 as it is, 1 escaped, 2 made valid UTF-8 and escaped.
local function scan_pattern(s)
  if find(s, "[\128-\255]") then return 2 end
  if find(s, '[%c"\\]') then return 1 end
  return 0
end

local function escape_pattern(s)
  return (gsub(s, '[%c"\\]', ESCAPES))
end

local scan, escape = scan_pattern, escape_pattern

-- LuaJIT's FFI reads and writes the bytes in compiled loops, several times faster than patterns.
local has_ffi, ffi = pcall(require, "ffi")
if has_ffi then
  local cast, bytes = ffi.cast, ffi.typeof("const uint8_t *")
  local new, tostr = ffi.new, ffi.string
  local HEX = {[0] = 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102}
  local out, out_size = nil, 0

  scan = function(s)
    local p = cast(bytes, s)
    local status = 0
    for i = 0, #s - 1 do
      local c = p[i]
      if c > 127 then return 2 end
      if c < 32 or c == 34 or c == 92 or c == 127 then status = 1 end
    end
    return status
  end

  -- A quote or backslash gets a backslash; a control character becomes \u00XX.
  escape = function(s)
    local len = #s
    if out_size < len * 6 then
      out_size = len * 6
      out = new("uint8_t[?]", out_size)
    end
    local p = cast(bytes, s)
    local o = 0
    for i = 0, len - 1 do
      local c = p[i]
      if c == 34 or c == 92 then
        out[o] = 92
        out[o + 1] = c
        o = o + 2
      elseif c < 32 or c == 127 then
        out[o] = 92
        out[o + 1] = 117
        out[o + 2] = 48
        out[o + 3] = 48
        out[o + 4] = HEX[floor(c / 16)]
        out[o + 5] = HEX[c % 16]
        o = o + 6
      else
        out[o] = c
        o = o + 1
      end
    end
    return tostr(out, o)
  end
end

local function put_string(s)
  local status = scan(s)
  if status ~= 0 then
    if status == 2 then s = valid_utf8(s) end
    s = escape(s)
  end
  put('"')
  put(s)
  put('"')
end

local function truncate(x)
  if x >= 0 then return floor(x) end
  return ceil(x)
end

local function put_number(x)
  if x ~= x or x == huge or x == -huge then
    put("null")
  elseif x == floor(x) and x >= -9223372036854775808 and x < 9223372036854775808 then
    put(format("%d", x))
  else
    put(format("%.17g", x))
  end
end

-- 'array', 'map' or nil (not a table), as flb_lua_tomsgpack decides.
local function kind(t)
  if type(t) ~= "table" or t == NULL then return nil end
  local mt = getmetatable(t)
  if mt == ARRAY_MT then return "array" end
  if mt == MAP_MT then return "map" end
  if maxn(t) > 0 then return "array" end
  return "map"
end

local put_value

local function put_array(t, len)
  put("[")
  for i = 1, len do
    if i > 1 then put(",") end
    put_value(t[i])
  end
  put("]")
end

-- Map keys repeat from record to record: each is escaped once into '"key":'. The cache starts
-- over past MAX_CACHED_KEYS, so records with ever-new keys cannot grow it without bound.
local MAX_CACHED_KEYS = 4096
local keys, cached_keys = {}, 0

local function put_key(k)
  local json = keys[k]
  if not json then
    local mark = n
    put_string(type(k) == "string" and k or tostring(k))
    put(":")
    json = concat(buf, "", mark + 1, n)
    for j = mark + 2, n do buf[j] = nil end
    n = mark + 1
    buf[n] = json
    if cached_keys >= MAX_CACHED_KEYS then keys, cached_keys = {}, 0 end
    keys[k] = json
    cached_keys = cached_keys + 1
    return
  end
  put(json)
end

-- copy_origin[t] is the index of the record value a table t was copied from, when that value may
-- come back as the Python object it was (see run); originals[index] is the untouched table.
local copy_origin, originals = {}, {}

-- Whether a and b hold the same values (and array/map marks).
local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" or getmetatable(a) ~= getmetatable(b) then return false end
  for k, v in next, a do
    if not same(v, b[k]) then return false end
  end
  for k in next, b do
    if a[k] == nil then return false end
  end
  return true
end

-- A map; with refs (a record's top level), an entry whose table is an unchanged copy of a record
-- value is written as null and listed in refs as {key, index}, for Python to put the value back.
local function put_map(t, refs)
  put("{")
  local first = true
  for k, v in next, t do
    local tv = type(v)
    if v == NULL or (tv ~= "function" and tv ~= "userdata" and tv ~= "thread") then
      if first then first = false else put(",") end
      local tk = type(k)
      put_key(k)
      local origin = refs and tv == "table" and tk == "string" and copy_origin[v]
      if origin and same(v, originals[origin]) then
        put("null")
        refs[#refs + 1] = {k, origin}
      elseif convert_types and tk == "string" and tv == "number" and int_prefix[k] then
        put(format("%d", truncate(v)))
      elseif convert_types and tk == "string" and tv == "table" and array_prefix[k] then
        put_array(v, #v)
      else
        put_value(v)
      end
    end
  end
  put("}")
end

put_value = function(v)
  local tv = type(v)
  if v == NULL then put("null")
  elseif tv == "string" then put_string(v)
  elseif tv == "number" then put_number(v)
  elseif tv == "boolean" then put(v and "true" or "false")
  elseif tv == "table" then
    if kind(v) == "array" then
      local mt = getmetatable(v)
      put_array(v, mt == ARRAY_MT and #v or maxn(v))
    else
      put_map(v)
    end
  else
    put("null")
  end
end

-- The records a returned value stands for, then the refs of the first (0 for none); false when
-- Fluent Bit's pack_result rejects the value (not a map, or an array with an entry that is not a map).
local function put_records(out)
  local k = kind(out)
  if k == "map" then
    local refs = {}
    put(",")
    put_map(out, refs)
    if #refs == 0 then
      put(",0")
      return true
    end
    put(",[")
    for i = 1, #refs do
      if i > 1 then put(",") end
      put("[")
      put_string(refs[i][1])
      put(format(",%d]", refs[i][2]))
    end
    put("]")
    return true
  end
  if k ~= "array" then return false end
  local len = getmetatable(out) == ARRAY_MT and #out or maxn(out)
  for i = 1, len do
    if kind(out[i]) ~= "map" then return false end
  end
  for i = 1, len do
    put(",")
    put_map(out[i])
  end
  put(",0")
  return true
end

-- Marks a table converted from a record's array, so that an empty one stays an array.
local function mark_array(t)
  return setmetatable(t, ARRAY_MT)
end

-- Runs the script (a file's bytes or the 'code' option) as Fluent Bit's cb_lua_init does and finds
-- the function: "ok", else the stage that failed and Lua's message.
local function load_script(source, chunkname)
  local chunk, err = (loadstring or load)(source, chunkname)
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

-- A deep copy, keeping the array/map marks.
local function copy(t)
  local c = {}
  for k, v in next, t do
    if type(v) == "table" and v ~= NULL then v = copy(v) end
    c[k] = v
  end
  return setmetatable(c, getmetatable(t))
end

-- lupa converts a Python dict that several records share into one Lua table; Fluent Bit gives every
-- record its own tables, so a script changing one record never changes another. Tables met before
-- in this chunk are replaced by copies.
local function unshare(t, seen)
  for k, v in next, t do
    if type(v) == "table" and v ~= NULL then
      if seen[v] then
        t[k] = copy(v)
      else
        seen[v] = true
        unshare(v, seen)
      end
    end
  end
end

-- Calls the function on each record. origins (or nil) maps the tables of record values that may
-- come back as the Python objects they were (a pod's metadata, shared by records) to their index:
-- every record gets a copy of such a table, and a returned record holding an unchanged copy refers
-- to the value instead of writing it out again.
local function run(tag, records, count, times, secs, nsecs, nargs, origins)
  local fn = _G[call_name]
  local messages = {}
  local seen = {}
  copy_origin, originals = {}, {}
  if origins then
    for t, index in next, origins do originals[index] = t end
  end
  for i = 1, count do
    local record = records[i]
    if seen[record] then
      record = copy(record)
      records[i] = record
    else
      seen[record] = true
    end
    for k, v in next, record do
      if type(v) == "table" and v ~= NULL then
        local origin = origins and origins[v]
        if origin then
          local c = copy(v)
          record[k] = c
          copy_origin[c] = origin
        elseif seen[v] then
          record[k] = copy(v)
        else
          seen[v] = true
          unshare(v, seen)
        end
      end
    end
  end
  buf, n = {}, 0
  put("[[")
  for i = 1, count do
    if i > 1 then put(",") end
    local record = records[i]
    local ts
    if time_as_table then ts = {sec = secs[i], nsec = nsecs[i]} else ts = times[i] end
    local ok, code, rts, out
    if nargs == 5 then
      local _meta
      ok, code, rts, _meta, out = pcall(fn, tag, ts, {}, {}, record)
    else
      ok, code, rts, out = pcall(fn, tag, ts, record)
    end
    if not ok then
      messages[#messages + 1] = "error code 2: " .. tostring(code)
      put("0")
    else
      code = truncate(tonumber(code) or 0)
      local sec, nsec, valid_time = nil, nil, true
      if time_as_table then
        if type(rts) == "table" then
          sec, nsec = truncate(tonumber(rts.sec) or 0), truncate(tonumber(rts.nsec) or 0)
        else
          messages[#messages + 1] = "invalid lua timestamp type returned"
          valid_time = false
        end
      else
        local d = tonumber(rts) or 0
        sec = truncate(d)
        nsec = truncate((d - sec) * 1000000000)
      end
      if code == -1 then
        put("-1")
      elseif code == 1 or code == 2 then
        local mark = n
        if code == 1 and valid_time then
          put(format("[1,%d,%d", sec, nsec))
        else
          put("[2")
        end
        -- A returned timestamp that is not a table leaves Fluent Bit reading it as the record.
        local packed, result = false, nil
        if valid_time then packed, result = pcall(put_records, out) end
        if packed and result then
          put("]")
        else
          for j = mark + 1, n do buf[j] = nil end
          n = mark
          messages[#messages + 1] = "invalid table returned at " .. call_name .. "(), " .. label
          put("0")
        end
      else
        if code ~= 0 then
          messages[#messages + 1] = "unexpected Lua script return code " .. code ..
            ", original record will be kept."
        end
        put("0")
      end
    end
  end
  put("],[")
  for i = 1, #messages do
    if i > 1 then put(",") end
    put_string(messages[i])
  end
  put("]]")
  local text = concat(buf, "", 1, n)
  buf, copy_origin, originals = {}, {}, {}
  return text
end

return run, load_script, callback_args, mark_array, NULL
