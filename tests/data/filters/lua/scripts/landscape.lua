-- Fluent Bit's documented environment example: the cluster name from KUBERNETES_SERVICE_HOST.
function set_landscape_deployment(tag, timestamp, record)
    local landscape = os.getenv("KUBERNETES_SERVICE_HOST")
    if landscape then
        landscape = landscape:gsub("^[^.]+.", "")
        landscape = landscape:gsub("-.*$", "")
        record["iot_landscape"] = landscape
    end
    return 2, timestamp, record
end
