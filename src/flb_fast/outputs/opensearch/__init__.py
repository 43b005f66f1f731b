"""The ``opensearch`` and ``es`` outputs: records to an OpenSearch or Elasticsearch cluster (or
Amazon OpenSearch Service / Serverless with ``AWS_Auth On``) through the ``_bulk`` API
(Fluent Bit ``plugins/out_opensearch``, ``plugins/out_es``).

A chunk is one bulk request. What the answer says is read item by item (``response.py``): the
documents the cluster indexed are remembered by chunk, so a retry sends only the rest, never a
document twice; a document refused for good is logged and counted (``rejected_records``)
instead of holding the chunk until ``Retry_Limit``.
"""

from __future__ import annotations

import base64
from typing import Any

from flb_fast.config.common import NET_OPTIONS, TLS_OPTIONS
from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import BOOL, INT, SIZE, STR, Option, OptionTable
from flb_fast.engine.executors import BoundedExecutor
from flb_fast.outputs.base import FlushResult, Output
from flb_fast.outputs.opensearch.bulk import WRITE_OPERATIONS, BulkEncoder, BulkFormat, es_id, opensearch_id
from flb_fast.outputs.opensearch.response import ItemOutcome, MalformedAnswer, read_answer
from flb_fast.outputs.opensearch.transport import BulkTransport, SigV4Settings, TransportError
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk
from flb_fast.record_accessor import KeyAccessor, Template
from flb_fast.tls import CAError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9200
# Elastic Cloud endpoints listen on 443 unless the Cloud_ID names a port (es_conf.c extract_cloud_host).
CLOUD_DEFAULT_PORT = 443
# Trace_Error prints the request and the answer when they are shorter than this (opensearch.c).
TRACE_ERROR_MAX_BYTES = 4000

_COMMON_OPTIONS = (
    Option("host", STR, DEFAULT_HOST, "host name or IP address of the cluster"),
    Option("port", INT, str(DEFAULT_PORT), "TCP port of the cluster"),
    Option("index", STR, "fluent-bit", "index name (strftime formats and record accessors allowed)"),
    Option("type", STR, "_doc", "document type (_type) of each document"),
    Option("suppress_type_name", BOOL, "false", "leave _type out of the bulk actions (OpenSearch, Elasticsearch 7+)"),
    Option("http_user", STR, None, "user name for basic authentication"),
    Option("http_passwd", STR, "", "password of http_user"),
    Option("aws_auth", BOOL, "false", "sign requests with AWS SigV4 (Amazon OpenSearch Service)"),
    Option("aws_region", STR, None, "AWS region of the Amazon OpenSearch Service domain"),
    Option("aws_profile", STR, None, "AWS shared config/credentials profile"),
    Option("aws_sts_endpoint", STR, None, "custom STS endpoint for aws_role_arn"),
    Option("aws_role_arn", STR, None, "IAM role to assume before signing requests"),
    Option("aws_external_id", STR, None, "external ID for aws_role_arn"),
    Option("aws_service_name", STR, "es", "signing service name: es, or aoss for OpenSearch Serverless"),
    Option("logstash_format", BOOL, "false", "write to a daily index <Logstash_Prefix>-<date>"),
    Option("logstash_prefix", STR, "logstash", "index prefix with Logstash_Format"),
    Option("logstash_prefix_separator", STR, "-", "separator between the prefix and the date"),
    Option("logstash_prefix_key", STR, None, "record key whose value replaces Logstash_Prefix when present"),
    Option("logstash_dateformat", STR, "%Y.%m.%d", "strftime format of the index date"),
    Option("time_key", STR, "@timestamp", "key of the record time added to each document"),
    Option("time_key_format", STR, "%Y-%m-%dT%H:%M:%S", "strftime format of the time key (milliseconds follow)"),
    Option("time_key_nanos", BOOL, "false", "nanoseconds instead of milliseconds in the time key"),
    Option("include_tag_key", BOOL, "false", "add the tag to each document"),
    Option("tag_key", STR, "flb-key", "key of the tag with Include_Tag_Key"),
    Option("buffer_size", SIZE, "512k", "largest answer read from the cluster; false = unlimited"),
    Option("path", STR, None, "path prefix of the bulk endpoint (behind a reverse proxy)"),
    Option("pipeline", STR, None, "ingest pipeline for the documents"),
    Option("generate_id", BOOL, "false", "derive each document's _id from its content (no duplicates on retry)"),
    Option("write_operation", STR, "create", "bulk operation: create, index, update or upsert"),
    Option("id_key", STR, None, "record key whose value is the document _id"),
    Option("replace_dots", BOOL, "false", "replace dots in key names with underscores"),
    Option("current_time_index", BOOL, "false", "use the current time, not the record time, in index names"),
    Option("trace_output", BOOL, "false", "print each bulk request to stdout (diagnostics)"),
    Option("trace_error", BOOL, "false", "log the request and the cluster's answer when it reports errors"),
    Option("compress", STR, None, "compress requests: gzip"),
)

_ES_ONLY_OPTIONS = (
    Option("http_api_key", STR, None, "base64 API key (Authorization: ApiKey)"),
    Option("cloud_id", STR, None, "Elastic Cloud ID; sets Host and Port"),
    Option("cloud_auth", STR, None, "Elastic Cloud credentials as user:password"),
)


def cloud_host(cloud_id: str) -> tuple[str, int]:
    """Host and port from an Elastic Cloud ID ``name:base64(domain$es_uuid$kibana_uuid)``
    (``es_conf.c`` ``extract_cloud_host``): the cluster is ``<es_uuid>.<domain>``, on the
    domain's port when it has one, else 443."""
    _, _, encoded = cloud_id.partition(":")
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise PluginConfigError("cloud_id", f"invalid Cloud_ID '{cloud_id}': not base64 after the ':'") from None
    parts = decoded.split("$")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise PluginConfigError("cloud_id", f"invalid Cloud_ID '{cloud_id}': expected <domain>$<es_uuid>$...")
    domain, _, port = parts[0].partition(":")
    if port and not port.isdigit():
        raise PluginConfigError("cloud_id", f"invalid port '{port}' in Cloud_ID")
    return f"{parts[1]}.{domain}", int(port) if port else CLOUD_DEFAULT_PORT


def _template(option: str, pattern: str) -> Template:
    try:
        return Template(pattern)
    except ValueError as exc:
        raise PluginConfigError(option, f"invalid record accessor pattern '{pattern}': {exc}") from None


def _key(option: str, pattern: str) -> KeyAccessor:
    """A single-key option (``Id_Key``): ``$id`` or a plain ``id`` (``flb_ra_get_value_object``)."""
    key = _template(option, pattern).first_key
    if key is None:
        raise PluginConfigError(option, f"'{pattern}' does not name a record key")
    return key


class OpenSearchOutput(Output):
    name = "opensearch"
    description = "OpenSearch"
    id_hash = staticmethod(opensearch_id)
    supports_tls = True
    OPTIONS = OptionTable(*_COMMON_OPTIONS) + TLS_OPTIONS + NET_OPTIONS

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        write_operation = options.write_operation.lower()
        if write_operation not in WRITE_OPERATIONS:
            raise PluginConfigError("write_operation",
                                    "wrong Write_Operation (should be one of index, create, update, upsert)")
        id_key = _key("id_key", options.id_key) if options.id_key else None
        generate_id = options.generate_id
        if id_key is not None and generate_id:
            ctx.log.warning("Generate_ID is ignored when ID_key is set")
            generate_id = False
        if WRITE_OPERATIONS[write_operation] == "update" and id_key is None and not generate_id:
            raise PluginConfigError("write_operation",
                                    "id_key or generate_id must be set when Write_Operation update or upsert")
        compress = (options.compress or "").lower()
        if compress not in ("", "gzip"):
            raise PluginConfigError("compress", f"unknown compression '{options.compress}': the option is 'gzip'")
        if options.aws_auth and not options.aws_region:
            raise PluginConfigError("aws_region", "aws_auth enabled but aws_region not set")
        prefix_key = options.logstash_prefix_key
        self.format = BulkFormat(
            index=options.index,
            type_name=None if options.suppress_type_name else options.type,
            write_operation=write_operation,
            time_key=options.time_key,
            time_key_format=options.time_key_format,
            time_key_nanos=options.time_key_nanos,
            logstash_format=options.logstash_format,
            logstash_prefix=options.logstash_prefix,
            logstash_prefix_separator=options.logstash_prefix_separator,
            logstash_dateformat=options.logstash_dateformat,
            # os_conf.c: a Logstash_Prefix_Key without its '$' gets one.
            logstash_prefix_key=_template("logstash_prefix_key", prefix_key if prefix_key.startswith("$")
                                          else f"${prefix_key}") if prefix_key else None,
            index_template=_template("index", options.index) if "$" in options.index else None,
            include_tag_key=options.include_tag_key,
            tag_key=options.tag_key,
            replace_dots=options.replace_dots,
            generate_id=self.id_hash if generate_id else None,
            id_key=id_key,
            current_time_index=options.current_time_index,
        )
        self.encoder = BulkEncoder(self.format, ctx.log.warning)
        host, port, basic_auth = self._endpoint(options)
        path = options.path or ""
        uri = f"{path}/_bulk/?pipeline={options.pipeline}" if options.pipeline else f"{path}/_bulk"
        self.workers = max(1, options.workers or self.default_workers)
        self.transport = BulkTransport(
            host=host,
            port=port,
            tls=options.tls,
            uri=uri,
            verify=options.tls_verify,
            ca_file=options.tls_ca_file,
            cert_file=options.tls_crt_file,
            key_file=options.tls_key_file,
            key_password=options.tls_key_passwd,
            server_hostname=options.tls_vhost,
            connect_timeout=options.net_connect_timeout,
            read_timeout=options.net_io_timeout,
            max_connections=self.workers,
            gzip_body=compress == "gzip",
            basic_auth=basic_auth,
            api_key=getattr(options, "http_api_key", None),
            sigv4=SigV4Settings(options.aws_region, options.aws_service_name, options.aws_profile,
                                options.aws_role_arn, options.aws_external_id, options.aws_sts_endpoint)
            if options.aws_auth else None,
            response_limit=options.buffer_size,
            trace_output=options.trace_output,
        )
        self._executor: BoundedExecutor | None = None
        # Per chunk: the entries (action + document lines) the cluster has not accepted yet.
        self._pending: dict[int, list[bytes]] = {}

    def _endpoint(self, options: Any) -> tuple[str, int, tuple[str, str] | None]:
        basic = (options.http_user, options.http_passwd or "") if options.http_user else None
        return options.host, options.port, basic

    async def start(self) -> None:
        if self.options.tls and not self.options.tls_verify:
            self.ctx.log.warning("tls.verify is off: the certificate of %s is not checked", self.transport.host)
        self._executor = BoundedExecutor(self.ctx.instance, self.workers)
        try:
            await self._executor.run(self.transport.open)
        except CAError:
            # No retry mends it, and nothing will stop an output that did not start.
            self._executor.shutdown()
            self._executor = None
            raise
        except Exception as exc:  # noqa: BLE001 - the first flush opens it again
            self.ctx.log.error("could not set up the connection to %s:%d, will retry: %s",
                               self.transport.host, self.transport.port, exc)

    async def stop(self) -> None:
        if self._executor is not None:
            await self._executor.run(self.transport.close)
            self._executor.shutdown()
            self._executor = None

    def forget(self, chunk: Chunk) -> None:
        self._pending.pop(chunk.id, None)

    def upstream_connections(self) -> tuple[int, int]:
        return self.transport.connections()

    async def flush(self, chunk: Chunk) -> FlushResult:
        entries = self._pending.get(chunk.id)
        if entries is None:
            entries, skipped = self.encoder.encode(chunk.tag, chunk.timestamps, chunk.records)
            if skipped:
                self.ctx.metrics.inc("rejected_records", skipped)
                self.ctx.log.warning("skipped %d record(s) with a missing or unusable Id_Key value: "
                                     "Write_Operation %s needs an _id", skipped, self.format.write_operation)
            self._pending[chunk.id] = entries
        if not entries:
            return FlushResult.OK
        body = b"".join(entries)
        if self._executor is None:
            self._executor = BoundedExecutor(self.ctx.instance, self.workers)
        try:
            answer = await self._executor.run(self.transport.post, body)
        except TransportError as exc:
            self.ctx.log.warning("http_do=-1 URI=%s: %s", self.transport.uri, exc)
            return FlushResult.RETRY
        if answer.status not in (200, 201):
            self.ctx.log.error("HTTP status=%d URI=%s, response:\n%s", answer.status, self.transport.uri,
                               answer.body.decode(errors="replace"))
            return FlushResult.RETRY
        return self._settle(chunk, entries, body, answer.body, answer.truncated)

    def _settle(self, chunk: Chunk, entries: list[bytes], body: bytes, answer: bytes, truncated: bool) -> FlushResult:
        try:
            results = read_answer(answer, len(entries))
        except MalformedAnswer as exc:
            if truncated and b'"errors":false' in answer:
                results = None  # a long answer cut at Buffer_Size that says every document was indexed
            else:
                self.ctx.log.error("%s; the documents will be sent again (raise Buffer_Size to read it whole)", exc)
                return FlushResult.RETRY
        if results is None:
            self._pending[chunk.id] = []
            return FlushResult.OK
        retry = [entry for entry, result in zip(entries, results, strict=True) if result.outcome is ItemOutcome.RETRY]
        refused = [result for result in results if result.outcome is ItemOutcome.REFUSED]
        if refused:
            self.ctx.metrics.inc("rejected_records", len(refused))
            first = refused[0]
            self.ctx.log.error("the cluster refused %d document(s) for good (first: status %d %s); "
                               "they are not sent again", len(refused), first.status, first.reason)
        if self.options.trace_error and (refused or retry):
            if len(body) < TRACE_ERROR_MAX_BYTES:
                self.ctx.log.debug("error caused by: Input\n%s", body.decode(errors="replace"))
            self.ctx.log.error("error: Output\n%s", answer.decode(errors="replace"))
        self._pending[chunk.id] = retry
        if retry:
            self.ctx.metrics.inc("retried_documents", len(retry))
            self.ctx.log.warning("%d of %d document(s) were not indexed (the cluster is busy); only those are "
                                 "sent again", len(retry), len(entries))
            return FlushResult.RETRY
        return FlushResult.OK


class ElasticsearchOutput(OpenSearchOutput):
    name = "es"
    description = "Elasticsearch"
    id_hash = staticmethod(es_id)
    # out_es runs two workers by default (its flb_output_plugin .workers).
    default_workers = 2
    OPTIONS = OptionTable(*_COMMON_OPTIONS, *_ES_ONLY_OPTIONS) + TLS_OPTIONS + NET_OPTIONS

    def _endpoint(self, options: Any) -> tuple[str, int, tuple[str, str] | None]:
        host, port, basic = super()._endpoint(options)
        if options.cloud_id:
            host, port = cloud_host(options.cloud_id)
        if options.cloud_auth:
            user, separator, password = options.cloud_auth.partition(":")
            if not separator:
                raise PluginConfigError("cloud_auth", "Cloud_Auth must be user:password")
            basic = (user, password)
        return host, port, basic
