"""Plugin names -> classes, imported only when a config uses them.

Lazy imports keep the agent's memory to what its config needs: a config without AWS outputs
never imports boto3.
"""

from __future__ import annotations

import importlib
from typing import Any

INPUTS = {
    "tail": "flb_fast.inputs.tail:TailInput",
    "dummy": "flb_fast.inputs.dummy:DummyInput",
    "systemd": "flb_fast.inputs.systemd:SystemdInput",
}

FILTERS = {
    "kubernetes": "flb_fast.filters.kubernetes:KubernetesFilter",
    "parser": "flb_fast.filters.parser:ParserFilter",
    "grep": "flb_fast.filters.grep:GrepFilter",
    "modify": "flb_fast.filters.modify:ModifyFilter",
    "nest": "flb_fast.filters.nest:NestFilter",
    "record_modifier": "flb_fast.filters.record_modifier:RecordModifierFilter",
    "multiline": "flb_fast.filters.multiline:MultilineFilter",
    "rewrite_tag": "flb_fast.filters.rewrite_tag:RewriteTagFilter",
    "aws": "flb_fast.filters.aws:AwsFilter",
    "throttle": "flb_fast.filters.throttle:ThrottleFilter",
    "lua": "flb_fast.filters.lua:LuaFilter",
}

OUTPUTS = {
    "stdout": "flb_fast.outputs.stdout:StdoutOutput",
    "file": "flb_fast.outputs.file:FileOutput",
    "null": "flb_fast.outputs.null:NullOutput",
    "cloudwatch_logs": "flb_fast.outputs.cloudwatch_logs:CloudWatchLogsOutput",
    "cloudwatch": "flb_fast.outputs.cloudwatch_logs:GoCloudWatchOutput",
    "kinesis_firehose": "flb_fast.outputs.kinesis_firehose:KinesisFirehoseOutput",
    "firehose": "flb_fast.outputs.kinesis_firehose:GoFirehoseOutput",
    "kinesis_streams": "flb_fast.outputs.kinesis_streams:KinesisStreamsOutput",
    "kinesis": "flb_fast.outputs.kinesis_streams:GoKinesisOutput",
    "s3": "flb_fast.outputs.s3:S3Output",
    "opensearch": "flb_fast.outputs.opensearch:OpenSearchOutput",
    "es": "flb_fast.outputs.opensearch:ElasticsearchOutput",
}

# Plugins that exist only as processors (a YAML input's or output's ``processors: logs:``);
# a processor list may also name any filter.
PROCESSORS = {
    "content_modifier": "flb_fast.processors.content_modifier:ContentModifierProcessor",
}

KINDS = {"input": INPUTS, "filter": FILTERS, "output": OUTPUTS, "processor": PROCESSORS}

# Fluent Bit plugins a config may name that flb_fast does not implement yet: named in the
# error so the user knows it is a gap of ours, not a typo of theirs.
NOT_YET_SUPPORTED = {
    "input": {"forward", "http", "tcp", "syslog", "fluentbit_metrics", "node_exporter_metrics",
              "cpu", "mem", "disk", "netif", "kmsg", "exec", "random", "head", "docker", "docker_events",
              "prometheus_scrape", "opentelemetry", "stdin", "health", "proc", "thermal", "winlog",
              "windows_exporter_metrics", "mqtt", "serial", "kafka", "statsd", "collectd", "udp", "dummy_thread"},
    "filter": {"expect", "geoip2", "stdout", "tensorflow", "type_converter", "checklist", "ecs", "log_to_metrics",
               "sysinfo", "nightfall", "wasm", "alter_size", "throttle_size"},
    "output": {"forward", "http", "loki", "kafka", "splunk", "datadog",
               "prometheus_exporter", "prometheus_remote_write", "opentelemetry", "tcp", "udp", "syslog",
               "influxdb", "stackdriver", "azure", "azure_blob", "azure_kusto", "bigquery", "counter",
               "flowcounter", "gelf", "logdna", "nats", "newrelic", "pgsql", "slack", "td", "websocket",
               "kafka-rest", "calyptia", "skywalking", "vivo_exporter", "oracle_log_analytics", "chronicle"},
    "processor": {"labels", "attributes", "sql", "metrics_selector", "opentelemetry_envelope", "sampling",
                  "cumulative_to_delta", "tda"},
}


def names(kind: str) -> list[str]:
    return sorted(KINDS[kind])


def load(kind: str, name: str) -> Any:
    """The plugin class for ``name``; raises ``KeyError`` with a helpful message if unknown."""
    target = KINDS[kind].get(name.lower())
    if target is None:
        if name.lower() in NOT_YET_SUPPORTED[kind]:
            raise KeyError(f"{kind} plugin '{name}' is a Fluent Bit plugin that flb_fast does not support yet")
        raise KeyError(f"unknown {kind} plugin '{name}' (known: {', '.join(names(kind))})")
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)
