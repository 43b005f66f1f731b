"""The ``[SERVICE]`` section's options (Fluent Bit src/flb_config.c service_configs)."""

from __future__ import annotations

from flb_fast.config.options import BINARY_SIZE, BOOL, DOUBLE, INT, SIZE, STR, TIME, Option, OptionTable

SERVICE_OPTIONS = OptionTable(
    Option("flush", DOUBLE, "1", "seconds between flushes of buffered chunks to the outputs"),
    Option("grace", TIME, "5", "seconds to finish flushing on SIGTERM or SIGINT before exiting"),
    Option("daemon", BOOL, "off", "fork into the background", unsupported="run flb-fast under a supervisor instead"),
    Option("log_file", STR, None, "write the agent's own logs to this file instead of stderr"),
    Option("log_level", STR, "info", "off, error, warn, info, debug or trace"),
    Option("parsers_file", STR, None, "parsers file to load, relative to this config file", multi=True),
    Option("plugins_file", STR, None, "external plugins file", unsupported="ignored"),
    Option("streams_file", STR, None, "stream processor file", unsupported="ignored"),
    Option("http_server", BOOL, "off", "serve the monitoring API"),
    Option("http_listen", STR, "0.0.0.0", "address the monitoring API listens on"),
    Option("http_port", INT, "2020", "port the monitoring API listens on"),
    Option("health_check", BOOL, "off", "serve /api/v1/health"),
    Option("hc_errors_count", INT, "5", "output errors within HC_Period that make the agent unhealthy"),
    Option("hc_retry_failure_count", INT, "5", "failed retries within HC_Period that make the agent unhealthy"),
    Option("hc_period", INT, "60", "seconds over which health counts errors"),
    Option("storage.path", STR, None, "directory for filesystem buffering"),
    Option("storage.sync", STR, "normal", "filesystem buffer sync mode: normal or full"),
    Option("storage.checksum", BOOL, "off", "CRC32 of filesystem chunks"),
    Option("storage.metrics", BOOL, "off", "serve /api/v1/storage"),
    Option("storage.backlog.mem_limit", SIZE, "5M", "memory for replaying filesystem chunks at start"),
    Option("storage.max_chunks_up", INT, "128", "filesystem chunks held in memory at once"),
    Option("storage.delete_irrecoverable_chunks", BOOL, "off", "delete corrupted filesystem chunks"),
    Option("multiline_buffer_limit", BINARY_SIZE, "2MB",
           "most text one multiline record may hold; a longer one is cut and counted (multiline_truncated)"),
    Option("memory_limit", SIZE, None, "flb_fast's own: pause every input while the agent's resident memory is "
           "near this size (off when unset)"),
    Option("scheduler.base", DOUBLE, "5", "base seconds of the exponential retry backoff"),
    Option("scheduler.cap", INT, "2000", "largest retry backoff in seconds"),
    Option("coro_stack_size", INT, "24576", "coroutine stack size (not used by flb_fast)"),
    Option("hot_reload", BOOL, "off", "reload the config file on SIGHUP or POST /api/v2/reload"),
    Option("dns.mode", STR, None, "DNS transport"),
    Option("dns.resolver", STR, None, "DNS resolver"),
    Option("dns.prefer_ipv4", BOOL, "off", "prefer IPv4 addresses"),
    Option("json.escape_unicode", BOOL, "on", "write every non-ASCII character as a \\u escape in the JSON "
           "the outputs write", unsupported="non-ASCII characters are escaped, as with On"),
)
