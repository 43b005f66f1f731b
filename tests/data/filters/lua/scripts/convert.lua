-- Hands every record back as modified, so each value goes through the Lua -> record conversion.
function cb(tag, timestamp, record)
    record["from_lua"] = {}
    record["list_from_lua"] = {"a", "b"}
    record["float_from_lua"] = 3.0
    record["half"] = 0.5
    return 2, timestamp, record
end
