-- Fails on records without a "request" map.
function cb(tag, timestamp, record)
    record["path"] = record["request"]["path"]
    return 2, timestamp, record
end
