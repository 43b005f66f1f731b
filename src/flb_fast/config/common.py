"""Options every plugin of a kind shares, declared once (Fluent Bit: flb_input.c, flb_filter.c, flb_output.c)."""

from __future__ import annotations

from flb_fast.config.options import BOOL, INT, SIZE, STR, TIME, Option, OptionTable

INPUT_BASE = OptionTable(
    Option("name", STR, None, "plugin name"),
    Option("tag", STR, None, "tag of the records this input emits (default: the instance name)"),
    Option("alias", STR, None, "name of this instance in logs and metrics"),
    Option("log_level", STR, None, "log level of this instance (default: the service's)"),
    Option("mem_buf_limit", SIZE, "0", "pause the input when its records held in memory reach this size; 0 = no limit"),
    Option("storage.type", STR, "memory", "buffer type: memory (filesystem comes with storage.path support)"),
    Option("storage.pause_on_chunks_overlimit", BOOL, "off", "pause when filesystem chunks are over the limit"),
    Option("threaded", BOOL, "off", "run the input in its own thread (accepted; flb_fast inputs share the loop)"),
    Option("routable", BOOL, "true", "whether records of this input are routed to outputs"),
)

FILTER_BASE = OptionTable(
    Option("name", STR, None, "plugin name"),
    Option("match", STR, None, "tag pattern with * wildcards selecting the records to filter"),
    Option("match_regex", STR, None, "regular expression on the tag; takes precedence over Match"),
    Option("alias", STR, None, "name of this instance in logs and metrics"),
    Option("log_level", STR, None, "log level of this instance (default: the service's)"),
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
    Option("retry_limit", STR, "1", "retries of a failed chunk: N, no_limits/false/off (unlimited) or no_retries"),
    Option("workers", INT, None, "concurrent flushes of this output (default: the plugin's)"),
    Option("storage.total_limit_size", SIZE, None, "limit of filesystem chunks queued for this output"),
)

# Filters that re-emit records through an emitter input of their own (rewrite_tag, multiline):
# flb_filter config_map entries emitter_name, emitter_storage.type, emitter_mem_buf_limit.
EMITTER_OPTIONS = OptionTable(
    Option("emitter_name", STR, None, "name of the emitter input this filter re-emits records through "
           "(default: emitter_for_<filter name>)"),
    Option("emitter_storage.type", STR, "memory", "buffer type of the emitter: memory or filesystem"),
    Option("emitter_mem_buf_limit", SIZE, "10M", "Mem_Buf_Limit of the emitter input; 0 = no limit"),
)

TLS_OPTIONS = OptionTable(
    Option("tls", BOOL, "off", "use TLS"),
    Option("tls.verify", BOOL, "on", "verify the peer's certificate"),
    Option("tls.debug", INT, "1", "TLS debug level (0-4)"),
    Option("tls.vhost", STR, None, "TLS SNI host name"),
    Option("tls.ca_path", STR, None, "directory of CA certificates"),
    Option("tls.ca_file", STR, None, "CA certificate file"),
    Option("tls.crt_file", STR, None, "client certificate file"),
    Option("tls.key_file", STR, None, "client private key file"),
    Option("tls.key_passwd", STR, None, "password of the client private key"),
)

NET_OPTIONS = OptionTable(
    Option("net.connect_timeout", TIME, "10", "seconds to wait for a connection"),
    Option("net.io_timeout", TIME, "0", "seconds to wait for a read or write; 0 = none"),
    Option("net.keepalive", BOOL, "on", "reuse connections"),
    Option("net.keepalive_idle_timeout", TIME, "30", "seconds an idle kept-alive connection stays open"),
    Option("net.keepalive_max_recycle", INT, "2000", "requests over one kept-alive connection"),
    Option("net.dns.mode", STR, None, "DNS transport (UDP or TCP)"),
    Option("net.dns.resolver", STR, None, "DNS resolver (LEGACY or ASYNC)"),
    Option("net.dns.prefer_ipv4", BOOL, "off", "prefer IPv4 addresses"),
    Option("net.source_address", STR, None, "local address to connect from"),
)
