-- Fluent Bit's documented response code filter: drop responses below 400 (but keep code 0).
function cb_response_code_filter(tag, timestamp, record)
    local code = record["response_code"]
    if code == nil or code == '' then
        return 0, 0, 0
    elseif code ~= 0 and code < 400 then
        return -1, 0, 0
    end
    return 0, 0, 0
end
