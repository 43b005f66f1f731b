-- Fluent Bit's documented record split: a record with an "x" array becomes one record per entry.
function cb_split(tag, timestamp, record)
    if record["x"] ~= nil then
        return 2, timestamp, record["x"]
    end
    return 2, timestamp, record
end
