"""The ``kubernetes`` filter: each record of a container log gets its pod's metadata.

Fluent Bit 4.2's ``filter_kubernetes``: same options, defaults and record shape. The pod is
looked up once per chunk (a chunk is one tag, one file, one container), the ``kubernetes``
map is one dict shared by every record of that container, and a lookup never holds a chunk
longer than ``Kube_Meta_Max_Wait``: records then pass without metadata and are counted.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import BOOL, INT, SIZE, STR, TIME, Option, OptionTable
from flb_fast.engine.executors import BoundedExecutor
from flb_fast.filters.base import Filter
from flb_fast.filters.kubernetes.annotations import props_from_annotations
from flb_fast.filters.kubernetes.api import (
    ApiError,
    Endpoint,
    HttpClient,
    ResponseTooLarge,
    TokenSource,
    parse_url,
    path_segment,
    ssl_context,
)
from flb_fast.filters.kubernetes.merge import RecordProcessor
from flb_fast.filters.kubernetes.meta import (
    NO_PROPS,
    Namespace,
    ObjectMeta,
    Pod,
    PodKey,
    PodList,
    PodView,
    Props,
    namespace_map,
    pod_key,
    pod_map,
    tag_map,
)
from flb_fast.filters.kubernetes.meta_cache import MISSING, FetchCache, TtlLru
from flb_fast.filters.kubernetes.tag import TagMeta, TagParser
from flb_fast.hostnames import loop_host
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk
from flb_fast.tasks import cancel_and_wait

if TYPE_CHECKING:  # imported by start() only with watch_pods
    from flb_fast.filters.kubernetes.watch import PodWatcher

# kube_conf.h FLB_HASH_TABLE_SIZE is 1,024 entries; a node runs at most a few hundred pods
# with a few containers each, so 4,096 keeps every live container cached without churn.
MAX_CACHED_ENTRIES = 4096
# At most this many metadata requests in flight at once: a restarting node with 1,000 pods
# must not open 1,000 connections to the API server at the same instant.
MAX_CONCURRENT_REQUESTS = 8
# Pod lists (kubelet /pods in watch mode) are whole-node answers; they get this bound instead
# of Buffer_Size when Buffer_Size is smaller, since a cut list is worth nothing.
MAX_LIST_BYTES = 64 * 1024 * 1024
# kube_meta.h FLB_KUBE_API_POD_FMT, FLB_KUBE_API_NAMESPACE_FMT, FLB_KUBELET_PODS.
POD_PATH = "/api/v1/namespaces/{namespace}/pods/{pod}"
NAMESPACE_PATH = "/api/v1/namespaces/{namespace}"
KUBELET_PODS_PATH = "/pods"
# Kube_Meta_Preload_Cache_Dir files are read on this many threads, not on the loop (a cache miss
# must never block it): the files are whole pod objects on any disk, read once per cache miss.
PRELOAD_READERS = 1

_decode_pod = msgspec.json.Decoder(Pod).decode
_decode_pod_list = msgspec.json.Decoder(PodList).decode
_decode_namespace = msgspec.json.Decoder(Namespace).decode


class KubernetesFilter(Filter):
    name: ClassVar[str] = "kubernetes"
    description: ClassVar[str] = "Filter to append Kubernetes metadata"

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        super().__init__(ctx, options)
        o = options
        self.log = ctx.log
        self.metrics = ctx.metrics
        for counter in COUNTERS:
            self.metrics.setdefault(counter, 0)
        self.endpoint = parse_url(o.kube_url, "kube_url")
        regex_parser = None
        if o.regex_parser:
            regex_parser = ctx.parsers.get(o.regex_parser)
            if regex_parser is None:
                raise PluginConfigError("regex_parser", f"invalid parser '{o.regex_parser}'")
        if o.merge_parser and ctx.parsers.get(o.merge_parser) is None:
            raise PluginConfigError("merge_parser", f"invalid parser '{o.merge_parser}'")
        if o.buffer_size < 0:
            raise PluginConfigError("buffer_size", "must be 0 (unlimited) or a size")
        self.node_name = o.node_name or os.environ.get("NODE_NAME")
        if o.watch_pods and not (o.use_tag_for_meta or o.dummy_meta) and not self.node_name:
            raise PluginConfigError("watch_pods", "needs Node_Name or the NODE_NAME environment variable")
        self.tags = TagParser(o.kube_tag_prefix, regex_parser, self._tag_mismatch)
        self.records = RecordProcessor(o, ctx.parsers)
        self.view = PodView(labels=o.labels, annotations=o.annotations, owner_references=o.owner_references)
        self.want_namespace = bool(o.namespace_labels or o.namespace_annotations)
        self.want_pod = not o.namespace_metadata_only
        self._composed: TtlLru[tuple, tuple[Pod, dict, Props]] = TtlLru(MAX_CACHED_ENTRIES)
        self._tag_only: dict[tuple, dict] = {}
        self._api: HttpClient | None = None
        self._kubelet: HttpClient | None = None
        self._pods: FetchCache[PodKey, Pod] | None = None
        self._namespaces: FetchCache[str, dict] | None = None
        self._watcher: PodWatcher | None = None
        self._clients: list[HttpClient] = []
        self._kubelet_list: asyncio.Task[dict[PodKey, Pod]] | None = None
        self._requests: asyncio.Semaphore | None = None
        self._background: list[asyncio.Task] = []
        self._preload: BoundedExecutor | None = None

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        o = self.options
        if o.dummy_meta:
            self.log.warning("using Dummy Metadata")
            return
        if o.use_tag_for_meta:
            self.log.info("no network access required (OK)")
            return
        self._requests = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)
        if o.kube_meta_preload_cache_dir:
            self._preload = BoundedExecutor(f"{self.ctx.instance}.preload", PRELOAD_READERS)
        token = TokenSource(o.kube_token_file, o.kube_token_command, o.kube_token_ttl, self.log, self.metrics)
        timeout = o.kube_meta_io_timeout
        context = None
        try:
            if self.endpoint.tls or o.use_kubelet:
                context = ssl_context(o.tls_verify, o.tls_verify_hostname, o.kube_ca_file, o.kube_ca_path)
        except (OSError, ValueError) as exc:
            self.log.error(
                "cannot set up TLS with Kube_CA_File %s: %s; records pass without metadata", o.kube_ca_file, exc
            )
            self.metrics.inc("kube_api_errors")
        else:
            tls = context if self.endpoint.tls else None
            self._api = HttpClient(self.endpoint, tls, o.tls_vhost, token, o.buffer_size, timeout)
            self._clients.append(self._api)
            if o.use_kubelet:
                kubelet = Endpoint("https", o.kubelet_host, o.kubelet_port)
                self._kubelet = HttpClient(kubelet, context, o.tls_vhost, token, _list_limit(o.buffer_size), timeout)
                self._clients.append(self._kubelet)
        self.log.info("https=%d host=%s port=%d", self.endpoint.tls, self.endpoint.host, self.endpoint.port)
        self._pods = FetchCache(
            self._fetch_pod_kubelet if o.use_kubelet else self._fetch_pod_api,
            ttl=o.kube_meta_cache_ttl,
            negative_ttl=o.kube_meta_negative_cache_ttl,
            max_entries=MAX_CACHED_ENTRIES,
            max_wait=o.kube_meta_max_wait,
            on_failure=self._failed,
        )
        if self.want_namespace:
            self._namespaces = FetchCache(
                self._fetch_namespace,
                ttl=o.kube_meta_namespace_cache_ttl,
                negative_ttl=o.kube_meta_negative_cache_ttl,
                max_entries=MAX_CACHED_ENTRIES,
                max_wait=o.kube_meta_max_wait,
                on_failure=self._failed,
            )
        if o.watch_pods and self._api is not None and self.node_name:
            from flb_fast.filters.kubernetes.watch import PodWatcher

            lister = HttpClient(
                self.endpoint, self._api.context, o.tls_vhost, token, _list_limit(o.buffer_size), timeout
            )
            self._clients.append(lister)
            self._watcher = PodWatcher(lister, self.node_name, self.log, self.metrics, self._pod_changed)
            self._watcher.start()
        self._background.append(asyncio.get_running_loop().create_task(self._check_connectivity()))

    async def stop(self) -> None:
        await cancel_and_wait(*self._background)
        self._background.clear()
        if self._watcher is not None:
            await self._watcher.stop()
        await cancel_and_wait(self._kubelet_list)
        for cache in (self._pods, self._namespaces):
            if cache is not None:
                await cache.close()
        for client in self._clients:
            await client.close()
        self._clients.clear()
        if self._preload is not None:
            self._preload.shutdown()
            self._preload = None

    # -- the filter -----------------------------------------------------------------------

    async def filter(self, chunk: Chunk) -> Chunk | None:
        kube: dict | None
        if self.options.dummy_meta:
            kube, namespace, props = _dummy_map(), None, NO_PROPS
        else:
            tag = self.tags.parse(chunk.tag)
            if tag is None:
                return chunk
            kube, namespace, props = await self._metadata(tag)
            if kube is None and self.want_pod:
                self.metrics.inc("kube_meta_missing_records", len(chunk.records))
        if not self.records.apply(chunk, kube, namespace, props):
            return None
        return chunk

    async def _metadata(self, tag: TagMeta) -> tuple[dict | None, dict | None, Props]:
        """(kubernetes, kubernetes_namespace, props); the two lookups wait side by side, so a
        chunk waits one Kube_Meta_Max_Wait at most, not one per lookup."""
        if self._namespaces is None or tag.namespace_name is None:
            kube, props = await self._pod_metadata(tag)
            return kube, None, props
        namespace, (kube, props) = await asyncio.gather(
            self._namespaces.get(tag.namespace_name), self._pod_metadata(tag)
        )
        return kube, namespace, props

    async def _pod_metadata(self, tag: TagMeta) -> tuple[dict | None, Props]:
        if not self.want_pod:
            return None, NO_PROPS
        key = tag.cache_key(self.options.cache_use_docker_id)
        if self.options.use_tag_for_meta:
            kube = self._tag_only.get(key)
            if kube is None:
                if len(self._tag_only) >= MAX_CACHED_ENTRIES:
                    self._tag_only.clear()
                kube = self._tag_only[key] = tag_map(tag)
            return kube, NO_PROPS
        pod_key = tag.pod_key
        if pod_key is None or self._pods is None:
            return None, NO_PROPS
        pod = self._watcher.get(pod_key) if self._watcher is not None else None
        if pod is None:
            pod = await self._pods.get(pod_key)
            if pod is None:
                return None, NO_PROPS
        composed = self._composed.get(key, 0.0)
        if composed is MISSING or composed[0] is not pod:
            composed = (pod, pod_map(tag, pod, self.view), self._props(tag, pod))
            self._composed.put(key, composed, float("inf"))
        return composed[1], composed[2]

    def _tag_mismatch(self, tag: str) -> None:
        self.log.warning("invalid pattern for given tag %s", tag)

    def _props(self, tag: TagMeta, pod: Pod) -> Props:
        def warn(message: str) -> None:
            self.log.warning("%s (ns='%s' pod_name='%s')", message, tag.namespace_name, tag.pod_name)

        return props_from_annotations(
            pod.metadata.annotations,
            tag.container_name,
            allow_parser=self.options.k8s_logging_parser,
            allow_exclude=self.options.k8s_logging_exclude,
            parser_exists=lambda name: self.ctx.parsers.get(name) is not None,
            warn=warn,
        )

    # -- fetching -------------------------------------------------------------------------

    async def _request(self, client: HttpClient | None, path: str) -> bytes:
        if client is None or self._requests is None:
            raise ApiError("no connection to the API server (TLS setup failed)")
        async with self._requests:
            self.metrics.inc("kube_api_requests")
            return await client.get(path)

    async def _fetch_pod_api(self, key: PodKey) -> Pod:
        preloaded = await self._preloaded(f"{key[0]}_{key[1]}.meta")
        if preloaded is not None:
            return _decode_pod(preloaded)
        path = POD_PATH.format(namespace=path_segment(key[0]), pod=path_segment(key[1]))
        return _decode_pod(await self._request(self._api, path))

    async def _fetch_pod_kubelet(self, key: PodKey) -> Pod:
        """One /pods answer serves every pod of the node: all of them are cached from it, and
        pods missed at the same time share the one request in flight.

        A pod the kubelet does not list (gone, its log file outliving it) gets a pod with no
        metadata, so its records carry only what the tag says, as Fluent Bit's
        ``merge_pod_meta`` builds them when ``search_item_in_items`` finds nothing; a later
        listing that has the pod replaces it (``_list_kubelet_pods`` primes the cache)."""
        if self._kubelet_list is None:
            self._kubelet_list = asyncio.get_running_loop().create_task(self._list_kubelet_pods())
        listing = self._kubelet_list
        try:
            pods = await asyncio.shield(listing)
        finally:
            if self._kubelet_list is listing and listing.done():
                self._kubelet_list = None
        if key not in pods:
            self.log.debug("kubelet didn't find pod: %s, ns: %s match", key[1], key[0])
            return Pod(metadata=ObjectMeta(name=key[1], namespace=key[0]))
        return pods[key]

    async def _list_kubelet_pods(self) -> dict[PodKey, Pod]:
        listing = _decode_pod_list(await self._request(self._kubelet, KUBELET_PODS_PATH))
        pods = {pod_key(pod): pod for pod in listing.items}
        if self._pods is not None:
            for key, pod in pods.items():
                self._pods.prime(key, pod)
        return pods

    async def _fetch_namespace(self, name: str) -> dict:
        preloaded = await self._preloaded(f"{name}.namespace_meta")
        if preloaded is None:
            preloaded = await self._request(self._api, NAMESPACE_PATH.format(namespace=path_segment(name)))
        o = self.options
        return namespace_map(name, _decode_namespace(preloaded), o.namespace_labels, o.namespace_annotations)

    async def _preloaded(self, filename: str) -> bytes | None:
        """Kube_Meta_Preload_Cache_Dir: a JSON file there is used instead of the API (diagnostics)."""
        directory = self.options.kube_meta_preload_cache_dir
        if not directory or self._preload is None:
            return None
        return await self._preload.run(self._read_preloaded, os.path.join(directory, filename))

    @staticmethod
    def _read_preloaded(path: str) -> bytes | None:
        """On the preload thread: the file's bytes, or None if there is none (the API is asked)."""
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except OSError:
            return None

    def _failed(self, key: Any, exc: Exception) -> None:
        self.metrics.inc("kube_api_errors")
        if isinstance(exc, ResponseTooLarge):
            self.metrics.inc("kube_api_response_too_large")
        self.log.warning("could not get metadata for %s: %s", "/".join(key) if isinstance(key, tuple) else key, exc)

    def _pod_changed(self, key: PodKey) -> None:
        if self._pods is not None:
            self._pods.forget(key)

    async def _check_connectivity(self) -> None:
        """``flb_kube_meta_init``: wait for DNS, then GET our own pod, only to log the outcome.

        Fluent Bit blocks start-up for this (up to DNS_Retries x DNS_Wait_Time, logging "Wait N
        secs until DNS starts up"); we do it in the background so the pipeline runs meanwhile,
        and the log says so instead of announcing a wait that does not hold anything up. After
        the last attempt nothing is waited for.
        """
        o = self.options
        loop = asyncio.get_running_loop()
        host = o.kubelet_host if o.use_kubelet else self.endpoint.host
        attempts = max(o.dns_retries, 1)
        for attempt in range(1, attempts + 1):
            try:
                await loop.getaddrinfo(loop_host(host), None, type=socket.SOCK_STREAM)
                break
            except OSError:
                if attempt == attempts:
                    self.log.warning("could not resolve %s (%d/%d): metadata lookups will keep trying it",
                                     host, attempt, attempts)
                    return
                self.log.info("host: %s not resolved yet (%d/%d): trying again in %g secs; records flow meanwhile",
                              host, attempt, attempts, o.dns_wait_time)
                await asyncio.sleep(o.dns_wait_time)
        try:
            # Once, a few bytes from the service account's tmpfs secret (as the token file): on the loop.
            with open(o.kube_namespace_file, encoding="utf-8") as handle:
                own_namespace = handle.read().strip()
        except OSError:
            self.log.info("Fluent Bit not running in a POD")
            return
        own_pod = os.environ.get("HOSTNAME") or socket.gethostname()
        try:
            if o.use_kubelet:
                await self._request(self._kubelet, KUBELET_PODS_PATH)
            else:
                await self._request(self._api, POD_PATH.format(namespace=own_namespace, pod=own_pod))
        except ApiError as exc:
            self.log.warning("could not get meta for POD %s: %s", own_pod, exc)
            return
        self.log.info("connectivity OK")


COUNTERS = (
    "kube_api_requests",
    "kube_api_errors",
    "kube_api_response_too_large",
    "kube_meta_missing_records",
    "kube_token_reloads",
    "kube_watch_errors",
)


def _list_limit(buffer_size: int) -> int:
    return 0 if buffer_size == 0 else max(buffer_size, MAX_LIST_BYTES)


def _dummy_map() -> dict[str, Any]:
    """``flb_kube_dummy_meta_get``: ``{"dummy": asctime()}`` of the local time."""
    return {"dummy": time.asctime()}


OPTIONS = OptionTable(
    Option("buffer_size", SIZE, "32K", "buffer size to receive response from API server; 0 = unlimited"),
    Option("tls.debug", INT, "0", "TLS debug level (accepted; flb_fast logs TLS errors at error level)"),
    Option("tls.verify", BOOL, "true", "enable or disable verification of TLS peer certificate"),
    Option("tls.vhost", STR, None, "set optional TLS virtual host"),
    Option("tls.verify_hostname", BOOL, "off", "enable or disable to verify hostname"),
    Option("merge_log", BOOL, "false", "merge 'log' key content as individual keys"),
    Option("merge_parser", STR, None, "specify a 'parser' name to parse the 'log' key content"),
    Option("merge_log_key", STR, None, "set the 'key' name where the content of 'log' will be placed"),
    Option("merge_log_trim", BOOL, "true", "remove ending '\\n' or '\\r' characters from the log content"),
    Option("keep_log", BOOL, "true", "keep original log content if it was successfully parsed and merged"),
    Option("kube_url", STR, "https://kubernetes.default.svc", "Kubernetes API server URL"),
    Option("kube_meta_preload_cache_dir", STR, None, "set directory with metadata files"),
    Option("kube_ca_file", STR, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", "Kubernetes TLS CA file"),
    Option("kube_ca_path", STR, None, "Kubernetes TLS ca path"),
    Option("kube_tag_prefix", STR, "kube.var.log.containers.", "prefix used in tag by the input plugin"),
    Option(
        "kube_namespace_file",
        STR,
        "/var/run/secrets/kubernetes.io/serviceaccount/namespace",
        "Kubernetes namespace file",
    ),
    Option(
        "kube_token_file",
        STR,
        "/var/run/secrets/kubernetes.io/serviceaccount/token",
        "Kubernetes authorization token file",
    ),
    Option("kube_token_command", STR, None, "command to get Kubernetes authorization token"),
    Option("labels", BOOL, "true", "include Kubernetes labels on every record"),
    Option("annotations", BOOL, "true", "include Kubernetes annotations on every record"),
    Option("owner_references", BOOL, "false", "include Kubernetes owner references on every record"),
    Option("namespace_labels", BOOL, "false", "include Kubernetes namespace labels on every record"),
    Option("namespace_annotations", BOOL, "false", "include Kubernetes namespace annotations on every record"),
    Option("namespace_metadata_only", BOOL, "false", "ignore pod metadata entirely and only fetch namespace metadata"),
    Option("k8s-logging.parser", BOOL, "false", "allow Pods to suggest a parser"),
    Option("k8s-logging.exclude", BOOL, "false", "allow Pods to exclude themselves from the logging pipeline"),
    Option("use_journal", BOOL, "false", "use Journald (Systemd) mode",
           unsupported="metadata is looked up from the tag, as for files read by tail"),
    Option(
        "regex_parser",
        STR,
        None,
        "optional regex parser to extract metadata from container name or container log file name",
    ),
    Option("dummy_meta", BOOL, "false", "use 'dummy' metadata, do not talk to API server"),
    Option("dns_retries", INT, "6", "dns lookup retries N times until the network start working"),
    Option("dns_wait_time", TIME, "30", "dns interval between network status checks"),
    Option("cache_use_docker_id", BOOL, "false", "fetch K8s meta when docker_id is changed"),
    Option("use_tag_for_meta", BOOL, "false", "use tag associated to retrieve metadata instead of kube-server"),
    Option("use_kubelet", BOOL, "false", "use kubelet to get metadata instead of kube-server"),
    Option("kubelet_host", STR, "127.0.0.1", "kubelet host to connect with when using kubelet"),
    Option("kubelet_port", INT, "10250", "kubelet port to connect with when using kubelet"),
    Option("kube_token_ttl", TIME, "10m", "kubernetes token ttl, until it is reread from the token file"),
    Option("kube_meta_io_timeout", TIME, "30s", "network timeout of one API server / kubelet metadata request"),
    Option("kube_meta_negative_cache_ttl", TIME, "60s", "how long a failed pod metadata lookup is remembered; 0 = not"),
    Option("kube_meta_cache_ttl", TIME, "0", "TTL of cached pod metadata; 0 = no TTL"),
    Option("kube_meta_namespace_cache_ttl", TIME, "15m", "TTL of cached namespace metadata; 0 = no TTL"),
    Option(
        "aws_use_pod_association",
        BOOL,
        "false",
        "use custom endpoint to get pod to service name mapping",
        unsupported="no aws_entity_* keys are added",
    ),
    Option("use_pod_association", BOOL, "false", "alias of aws_use_pod_association",
           unsupported="no aws_entity_* keys are added"),
    *(
        Option(name, kind, default, description, unsupported="no aws_entity_* keys are added")
        for name, kind, default, description in (
            ("aws_pod_association_host", STR, "cloudwatch-agent.amazon-cloudwatch", "pod association server host"),
            ("aws_pod_association_endpoint", STR, "/kubernetes/pod-to-service-env-map", "its endpoint"),
            ("aws_pod_association_port", INT, "4311", "its port"),
            ("aws_pod_service_map_ttl", INT, "0", "TTL of the pod to service map; 0 = none"),
            ("aws_pod_service_map_refresh_interval", INT, "60", "seconds between pod to service map refreshes"),
            ("aws_pod_service_preload_cache_dir", STR, None, "directory of pod to service map files"),
            ("aws_pod_association_host_server_ca_file", STR,
             "/etc/amazon-cloudwatch-observability-agent-server-cert/tls-ca.crt", "its server's CA file"),
            ("aws_pod_association_host_client_cert_file", STR,
             "/etc/amazon-cloudwatch-observability-agent-client-cert/client.crt", "mTLS client certificate"),
            ("aws_pod_association_host_client_key_file", STR,
             "/etc/amazon-cloudwatch-observability-agent-client-cert/client.key", "mTLS client key"),
            ("aws_pod_association_host_tls_debug", INT, "0", "TLS debug level of pod association calls"),
            ("aws_pod_association_host_tls_verify", BOOL, "true", "verify the pod association server"),
            ("set_platform", STR, None, "the platform for pod association: k8s or eks"),
        )
    ),
    Option(
        "kube_meta_max_wait",
        TIME,
        "5s",
        "flb_fast: longest a chunk waits for its pod's metadata before passing without it",
    ),
    Option("watch_pods", BOOL, "off", "flb_fast: list+watch this node's pods instead of one GET per pod"),
    Option("node_name", STR, None, "flb_fast: this node's name for Watch_Pods (default: $NODE_NAME)"),
)

KubernetesFilter.OPTIONS = OPTIONS
