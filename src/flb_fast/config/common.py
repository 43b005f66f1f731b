"""Options every plugin of a kind shares, declared once (Fluent Bit: flb_input.c, flb_filter.c, flb_output.c).

These are the properties ``flb_input_set_property``, ``flb_filter_set_property`` and
``flb_output_set_property`` take for any plugin before its own ``config_map`` sees the rest:
a config that Fluent Bit accepts on a plugin must not be refused here as an unknown option.
"""

from __future__ import annotations

import functools

from flb_fast.config.options import BOOL, INT, SIZE, STR, TIME, Option, OptionTable

TLS_OPTIONS = OptionTable(
    Option("tls", BOOL, "off", "use TLS"),
    Option("tls.verify", BOOL, "on", "verify the peer's certificate"),
    Option("tls.verify_hostname", BOOL, "off", "verify that the peer's certificate names the host"),
    Option("tls.debug", INT, "1", "TLS debug level (0-4)"),
    Option("tls.vhost", STR, None, "TLS SNI host name"),
    Option("tls.ca_path", STR, None, "directory of CA certificates"),
    Option("tls.ca_file", STR, None, "CA certificate file"),
    Option("tls.crt_file", STR, None, "client certificate file"),
    Option("tls.key_file", STR, None, "client private key file"),
    Option("tls.key_passwd", STR, None, "password of the client private key"),
    Option("tls.min_version", STR, None, "lowest TLS version accepted"),
    Option("tls.max_version", STR, None, "highest TLS version accepted"),
    Option("tls.ciphers", STR, None, "TLS ciphers accepted"),
)

# src/flb_upstream.c upstream_net config map: what an output's net.* properties may be.
NET_OPTIONS = OptionTable(
    Option("net.connect_timeout", TIME, "10", "seconds to wait for a connection"),
    Option("net.connect_timeout_log_error", BOOL, "true", "log connection timeouts as errors"),
    Option("net.io_timeout", TIME, "0", "seconds to wait for a read or write; 0 = none"),
    Option("net.keepalive", BOOL, "on", "reuse connections"),
    Option("net.keepalive_idle_timeout", TIME, "30", "seconds an idle kept-alive connection stays open"),
    Option("net.keepalive_max_recycle", INT, "2000", "requests over one kept-alive connection"),
    Option("net.tcp_keepalive", BOOL, "off", "enable TCP keepalive probes"),
    Option("net.tcp_keepalive_time", INT, "-1", "seconds idle before the first TCP keepalive probe"),
    Option("net.tcp_keepalive_interval", INT, "-1", "seconds between TCP keepalive probes"),
    Option("net.tcp_keepalive_probes", INT, "-1", "unanswered TCP keepalive probes before the connection drops"),
    Option("net.max_worker_connections", INT, "0", "connections per worker; 0 = unlimited"),
    Option("net.proxy_env_ignore", BOOL, "false", "ignore the HTTP_PROXY environment variable"),
    Option("net.dns.mode", STR, None, "DNS transport (UDP or TCP)"),
    Option("net.dns.resolver", STR, None, "DNS resolver (LEGACY or ASYNC)"),
    Option("net.dns.prefer_ipv4", BOOL, "off", "prefer IPv4 addresses"),
    Option("net.dns.prefer_ipv6", BOOL, "off", "prefer IPv6 addresses"),
    Option("net.source_address", STR, None, "local address to connect from"),
)

_ADDRESS_OPTIONS = OptionTable(
    Option("host", STR, None, "host name or address of the plugin's peer"),
    Option("port", INT, None, "TCP port of the plugin's peer"),
    Option("ipv6", BOOL, "off", "use IPv6"),
)

# Fluent Bit's outputs accept Windows certificate store options on every platform; there is none here.
_WINDOWS_ONLY = "ignored (Windows certificate stores only)"

INPUT_BASE = OptionTable(
    Option("name", STR, None, "plugin name"),
    Option("tag", STR, None, "tag of the records this input emits (default: the instance name)"),
    Option("alias", STR, None, "name of this instance in logs and metrics"),
    Option("log_level", STR, None, "log level of this instance (default: the service's)"),
    Option("log_suppress_interval", TIME, "0", "seconds during which a repeated log message is suppressed"),
    Option("mem_buf_limit", SIZE, "0", "pause the input when its records held in memory reach this size; 0 = no limit"),
    Option("storage.type", STR, "memory", "buffer type: memory, or filesystem (chunk files under storage.path)"),
    Option("storage.pause_on_chunks_overlimit", BOOL, "off",
           "pause a filesystem input while storage.max_chunks_up chunks are in memory"),
    Option("threaded", BOOL, "off", "run the input in its own thread (accepted; flb_fast inputs share the loop)"),
    Option("thread.ring_buffer.capacity", INT, None, "records a threaded input may queue"),
    Option("thread.ring_buffer.window", INT, None, "percent of the ring buffer that triggers a flush"),
    Option("routable", BOOL, "true", "whether records of this input are routed to outputs"),
    Option("listen", STR, None, "address a server input listens on"),
) + _ADDRESS_OPTIONS + TLS_OPTIONS

FILTER_BASE = OptionTable(
    Option("name", STR, None, "plugin name"),
    Option("match", STR, None, "tag pattern with * wildcards selecting the records to filter"),
    Option("match_regex", STR, None, "regular expression on the tag; takes precedence over Match"),
    Option("alias", STR, None, "name of this instance in logs and metrics"),
    Option("log_level", STR, None, "log level of this instance (default: the service's)"),
    Option("log_suppress_interval", TIME, "0", "seconds during which a repeated log message is suppressed"),
)

# A processor unit in a YAML input's or output's processors list (flb_processor.c properties).
PROCESSOR_BASE = OptionTable(
    Option("name", STR, None, "plugin name"),
    Option("alias", STR, None, "name of this processor in logs"),
    Option("log_level", STR, None, "log level of this processor (default: the service's)"),
)

OUTPUT_BASE = OptionTable(
    Option("name", STR, None, "plugin name"),
    Option("match", STR, None, "tag pattern with * wildcards selecting the records to deliver"),
    Option("match_regex", STR, None, "regular expression on the tag; takes precedence over Match"),
    Option("alias", STR, None, "name of this instance in logs and metrics"),
    Option("log_level", STR, None, "log level of this instance (default: the service's)"),
    Option("log_suppress_interval", TIME, "0", "seconds during which a repeated log message is suppressed"),
    Option("retry_limit", STR, "1", "retries of a failed chunk: N, no_limits/false/off (unlimited) or no_retries"),
    Option("workers", INT, None, "concurrent flushes of this output (default: the plugin's)"),
    Option("storage.total_limit_size", SIZE, None,
           "limit of the filesystem chunks queued for this output; the oldest are dropped beyond it"),
    Option("tls.windows.certstore_name", STR, None, "Windows certificate store name", unsupported=_WINDOWS_ONLY),
    Option("tls.windows.use_enterprise_store", STR, None, "use the Windows enterprise store", unsupported=_WINDOWS_ONLY),
    Option("tls.windows.client_thumbprints", STR, None, "Windows store certificates to trust",
           unsupported=_WINDOWS_ONLY),
) + _ADDRESS_OPTIONS + TLS_OPTIONS + NET_OPTIONS

# Filters that re-emit records through an emitter input of their own (rewrite_tag, multiline):
# flb_filter config_map entries emitter_name, emitter_storage.type, emitter_mem_buf_limit.
EMITTER_OPTIONS = OptionTable(
    Option("emitter_name", STR, None, "name of the emitter input this filter re-emits records through "
           "(default: emitter_for_<filter name>)"),
    Option("emitter_storage.type", STR, "memory", "buffer type of the emitter: memory or filesystem"),
    Option("emitter_mem_buf_limit", SIZE, "10M", "Mem_Buf_Limit of the emitter input; 0 = no limit"),
)

BASE_TABLES: dict[str, OptionTable] = {"input": INPUT_BASE, "filter": FILTER_BASE, "output": OUTPUT_BASE,
                                       "processor": PROCESSOR_BASE}


@functools.cache
def plugin_table(kind: str, own: OptionTable) -> OptionTable:
    """What a plugin instance is bound with: its kind's shared options, then the plugin's own.

    A plugin may declare a shared option again with its own default or meaning (the AWS
    outputs' ``tls`` is on by default): its declaration replaces the shared one.
    """
    shared = [option for option in BASE_TABLES[kind] if option.name not in own]
    return OptionTable(*shared, *own)

# ``DB.sync`` values -> SQLite ``PRAGMA synchronous`` levels, for every input keeping a DB
# (Fluent Bit's plugins/in_tail/tail_config.c and plugins/in_systemd/systemd_config.c).
DB_SYNC_LEVELS = {"extra": 3, "full": 2, "normal": 1, "off": 0}
