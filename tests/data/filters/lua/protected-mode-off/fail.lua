function cb(tag, ts, record)
    if record["log"] == "boom" then
        error("boom!")
    end
    record["seen"] = true
    return 1, ts, record
end
