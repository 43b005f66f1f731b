"""Output ``s3``: records buffered on disk per tag, uploaded as objects of about
``total_file_size`` bytes or every ``upload_timeout``, by multipart upload in
``upload_chunk_size`` parts (or one PutObject with ``use_put_object``).

A flush appends the chunk's lines to the tag's buffer in ``store_dir`` and returns OK once they
are on disk (Fluent Bit's s3 keeps its own buffer and retries the same way); uploads happen
when a buffer is big enough, on a timer and at stop. Anything not yet uploaded when the agent
stops, including an open multipart upload, is found in ``store_dir`` at the next start and
completed, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from flb_fast.config.errors import PluginConfigError
from flb_fast.config.options import BOOL, INT, SIZE, STR, TIME, Option, OptionTable
from flb_fast.engine.executors import BoundedExecutor
from flb_fast.locks import KeyedLocks
from flb_fast.outputs.aws.base import AwsOutput
from flb_fast.outputs.aws.errors import Outcome, classify
from flb_fast.outputs.aws.options import AWS_COMMON_OPTIONS
from flb_fast.outputs.base import FlushResult
from flb_fast.outputs.s3.key import object_key
from flb_fast.outputs.s3.store import STATE_FILE, IndexCounter, Piece, TagStore
from flb_fast.outputs.s3.upload import (
    DATE_FORMATS,
    MAX_OBJECT_BYTES,
    MAX_PART_BYTES,
    MAX_PARTS,
    MAX_PUT_OBJECT_BYTES,
    MIN_PART_BYTES,
    LineEncoder,
    content_md5,
    gzip_file,
)
from flb_fast.plugin import PluginContext
from flb_fast.record import Chunk

T = TypeVar("T")

DEFAULT_REGION = "us-east-1"
# How often buffers are checked against upload_timeout and failed uploads retried.
TIMER_SECONDS = 1.0
# store_dir is touched (appends, seals, state saves with fsync, listings) on this many threads,
# never on the loop: one keeps each tag's steps in order and $INDEX's counter unshared.
STORE_WORKERS = 1


# What the blob upload options mean here: flb_fast has no blob input, so there is nothing to upload.
_NO_BLOBS = "ignored (no blob input feeds this output)"


class S3Output(AwsOutput):
    name = "s3"
    description = "Send to S3"
    SERVICE = "s3"
    supports_tls = True

    OPTIONS = AWS_COMMON_OPTIONS + OptionTable(
        Option("bucket", STR, None, "S3 bucket name"),
        Option(
            "s3_key_format",
            STR,
            "/fluent-bit-logs/$TAG/%Y/%m/%d/%H/%M/%S",
            "object key: $TAG, $TAG[n], $UUID, $INDEX, strftime",
        ),
        Option("s3_key_format_tag_delimiters", STR, ".", "characters that split the tag for $TAG[n]"),
        Option("static_file_path", BOOL, "false", "do not append -object<random> to keys without $UUID"),
        Option("total_file_size", SIZE, "100000000", "size of an object; it is completed once this much is uploaded"),
        Option("upload_chunk_size", SIZE, "5242880", "size of each multipart upload part"),
        Option(
            "upload_timeout", TIME, "10m", "complete an object after this long even if smaller than total_file_size"
        ),
        Option("use_put_object", BOOL, "false", "upload whole objects with PutObject instead of multipart uploads"),
        Option("store_dir", STR, "/tmp/fluent-bit/s3", "directory buffering data not yet uploaded"),
        Option("store_dir_limit_size", SIZE, "0", "largest size of store_dir; 0 = unlimited"),
        Option("compression", STR, None, "compress objects: gzip"),
        Option("content_type", STR, None, "Content-Type of the objects"),
        Option("canned_acl", STR, None, "canned ACL of the objects"),
        Option("storage_class", STR, None, "storage class of the objects"),
        Option("send_content_md5", BOOL, "false", "send Content-MD5 with each upload"),
        Option("json_date_key", STR, "date", "key of the record time added to each line; false = none"),
        Option("json_date_format", STR, "iso8601", "time format: double, epoch, iso8601 or java_sql_timestamp"),
        Option("log_key", STR, None, "write only this key's value (raw) per line"),
        Option(
            "preserve_data_ordering", BOOL, "false", "keep upload order on failures (uploads are always in order here)"
        ),
        # Blob uploads (files sent whole by Fluent Bit's blob input, which flb_fast does not have).
        Option("blob_database_file", STR, None, "database of blob file uploads", unsupported=_NO_BLOBS),
        Option("part_size", SIZE, "25M", "part size of blob file uploads", unsupported=_NO_BLOBS),
        Option("file_delivery_attempt_limit", INT, "1", "blob file delivery attempts", unsupported=_NO_BLOBS),
        Option("part_delivery_attempt_limit", INT, "1", "blob file part delivery attempts", unsupported=_NO_BLOBS),
        Option("upload_parts_timeout", TIME, "10M", "timeout of a blob file's part uploads", unsupported=_NO_BLOBS),
        Option("upload_part_freshness_limit", TIME, "6D", "longest life of an uncommitted blob part",
               unsupported=_NO_BLOBS),
        Option("authorization_endpoint_url", STR, None, "blob upload authorization endpoint", unsupported=_NO_BLOBS),
        Option("authorization_endpoint_username", STR, None, "its basic-auth user", unsupported=_NO_BLOBS),
        Option("authorization_endpoint_password", STR, None, "its basic-auth password", unsupported=_NO_BLOBS),
        Option("authorization_endpoint_bearer_token", STR, None, "its bearer token", unsupported=_NO_BLOBS),
    )

    def __init__(self, ctx: PluginContext, options: Any) -> None:
        if not options.region:
            options = msgspec.structs.replace(options, region=DEFAULT_REGION)
        super().__init__(ctx, options)
        if not options.bucket:
            raise PluginConfigError("bucket", "'bucket' is a required field")
        self.total_file_size = options.total_file_size
        self.part_size = options.upload_chunk_size
        self._validate_sizes(options)
        compression = (options.compression or "").lower() or None
        if compression not in (None, "gzip"):
            raise PluginConfigError(
                "compression", f"compression '{options.compression}' is not supported (supported: gzip)"
            )
        self.gzip = compression == "gzip"
        date_format = options.json_date_format.lower()
        if date_format not in DATE_FORMATS:
            raise PluginConfigError(
                "json_date_format",
                f"invalid json_date_format '{options.json_date_format}' (valid: {', '.join(DATE_FORMATS)})",
            )
        date_key = None if options.json_date_key.lower() in ("false", "off", "") else options.json_date_key
        self.lines = LineEncoder(date_key, date_format, options.log_key)
        self.root = Path(options.store_dir) / ctx.instance
        self._stores: dict[str, TagStore] = {}
        # One step at a time per tag (a flush, the timer's upload, stop's last upload).
        self._tag_lock: KeyedLocks[str] = KeyedLocks()
        self._index: IndexCounter | None = None
        self._timer: asyncio.Task[None] | None = None
        self._disk: BoundedExecutor | None = None

    def _validate_sizes(self, options: Any) -> None:
        limit = MAX_PUT_OBJECT_BYTES if options.use_put_object else MAX_OBJECT_BYTES
        if not 0 < self.total_file_size <= limit:
            raise PluginConfigError("total_file_size", f"total_file_size must be between 1 and {limit} bytes")
        if not options.use_put_object:
            if not MIN_PART_BYTES <= self.part_size <= MAX_PART_BYTES:
                raise PluginConfigError(
                    "upload_chunk_size",
                    f"upload_chunk_size must be between {MIN_PART_BYTES} and {MAX_PART_BYTES} bytes",
                )
            if self.total_file_size > self.part_size * MAX_PARTS:
                raise PluginConfigError(
                    "total_file_size", f"total_file_size needs more than {MAX_PARTS} parts of upload_chunk_size"
                )

    async def start(self) -> None:
        await super().start()
        self._disk = BoundedExecutor(f"{self.ctx.instance}.store", STORE_WORKERS)
        for store, idle in await self._disk.run(self._open_stores):
            self._stores[store.tag] = store
            if not idle:
                self.ctx.log.info("resuming buffered data of tag %s from %s", store.tag, store.directory)
        self._timer = asyncio.create_task(self._run_timer())

    def _open_stores(self) -> list[tuple[TagStore, bool]]:
        """On the store thread: the tags a previous run left in store_dir, and whether each is idle."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._index = IndexCounter(self.root)
        stores = []
        for state in sorted(self.root.glob(f"*/{STATE_FILE}")):
            store = TagStore(state.parent, msgspec.json.decode(state.read_bytes())["tag"])
            stores.append((store, store.idle))
        return stores

    async def _on_disk(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` on the store thread, after what was queued there before."""
        assert self._disk is not None, "start() was not called"
        return await self._disk.run(func, *args)

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        for tag, store in list(self._stores.items()):
            async with self._tag_lock(tag):
                # A retirement the cancelled timer left running on the store thread is done by now.
                if await self._on_disk(attrgetter("retired"), store):
                    continue
                await self._on_disk(store.seal, True)
                if not await self._upload(store):
                    self.ctx.log.warning("data of tag %s stays in %s for the next start", tag, store.directory)
            await self._on_disk(store.close)
        if self._disk is not None:
            self._disk.shutdown()
            self._disk = None
        await super().stop()

    async def flush(self, chunk: Chunk) -> FlushResult:
        data, missing = self.lines.encode(chunk.records, chunk.timestamps)
        self.count_skipped(missing, 0)
        if not data:
            return FlushResult.OK
        limit = self.options.store_dir_limit_size
        if limit and await self._on_disk(self._disk_bytes) + len(data) > limit:
            self.ctx.log.warning("store_dir is over store_dir_limit_size (%d bytes): chunk will be retried", limit)
            return FlushResult.RETRY
        async with self._tag_lock(chunk.tag):
            store = await self._store(chunk.tag)
            await self._on_disk(self._append, store, data, chunk.timestamps[0] / 1e9 if chunk.timestamps else 0.0)
            await self._upload(store)
        return FlushResult.OK

    def _disk_bytes(self) -> int:
        return sum(store.disk_bytes() for store in list(self._stores.values()))

    def _append(self, store: TagStore, data: bytes, first_time: float) -> None:
        store.append(data, first_time, self._key_factory(store.tag))
        self._seal_ready(store)

    async def _store(self, tag: str) -> TagStore:
        """The tag's store, opened on the store thread the first time (under the tag's lock)."""
        store = self._stores.get(tag)
        if store is None or store.retired:
            store = self._stores[tag] = await self._on_disk(TagStore, TagStore.directory_for(self.root, tag), tag)
        return store

    async def _retire(self, tag: str, store: TagStore) -> None:
        """Under the tag's lock: once everything of the tag is uploaded, close its buffer, remove
        its folder and forget it, so that the stores (each an open file) are those of the tags with
        data on disk, not of every tag ever seen (a kube.* tag per container). A flush waiting on
        the lock opens the tag's store anew."""
        if await self._on_disk(store.retire) and self._stores.get(tag) is store:
            del self._stores[tag]

    def _key_factory(self, tag: str) -> Any:
        options = self.options

        def new_key(first_time: float) -> str:
            index = self._index.next() if self._index is not None and "$INDEX" in options.s3_key_format else 0
            return object_key(
                options.s3_key_format,
                tag,
                first_time,
                options.s3_key_format_tag_delimiters,
                index,
                options.static_file_path,
            )

        return new_key

    def _seal_ready(self, store: TagStore) -> None:
        """Seal the buffer into a piece when an object is complete or a part is full."""
        if store.due(self.options.upload_timeout) or store.object_bytes >= self.total_file_size:
            store.seal(last=True)
        elif not self.options.use_put_object and store.buffer_bytes >= self.part_size:
            store.seal(last=False)

    async def _run_timer(self) -> None:
        tick = min(TIMER_SECONDS, max(0.05, self.options.upload_timeout / 4))
        while True:
            await asyncio.sleep(tick)
            for tag, store in list(self._stores.items()):
                if self.backoff.remaining_seconds > 0:
                    break
                async with self._tag_lock(tag):
                    if self._stores.get(tag) is not store:
                        continue
                    await self._on_disk(self._seal_ready, store)
                    if await self._upload(store):
                        await self._retire(tag, store)

    async def _upload(self, store: TagStore) -> bool:
        """Upload the store's sealed pieces in order; False when one failed (it stays on disk)."""
        for piece in await self._on_disk(store.pieces):
            await self.backoff.wait()
            try:
                await self._upload_piece(store, piece)
            except Exception as exc:  # noqa: BLE001 - every failure keeps the data for a retry
                if classify(exc) is Outcome.NOT_FOUND and store.state["upload"] is not None:
                    self.ctx.log.error(
                        "multipart upload %s vanished; its uploaded parts are lost", store.state["upload"]["key"]
                    )
                    store.state["upload"] = None
                    await self._on_disk(store.save)
                self.failure(exc, f"upload to s3://{self.options.bucket}/{store.key_of(piece)}")
                self.ctx.metrics.inc("failed_uploads")
                return False
            self.backoff.succeeded()
            await self._on_disk(store.done, piece)
        return True

    async def _upload_piece(self, store: TagStore, piece: Piece) -> None:
        key = store.key_of(piece)
        upload = store.state["upload"]
        if piece.last and upload is None:
            async with self._body(piece) as body:
                await self.call("put_object", **self._object_params(key), **body)
            self.ctx.metrics.inc("uploaded_objects")
            self.ctx.log.info("uploaded s3://%s/%s", self.options.bucket, key)
            return
        if upload is None:
            response = await self.call("create_multipart_upload", **self._object_params(key))
            upload = store.state["upload"] = {"key": key, "id": response["UploadId"], "parts": []}
            await self._on_disk(store.save)
        size = await self._on_disk(lambda: piece.size)
        if size and not any(part["seq"] == piece.seq for part in upload["parts"]):
            number = len(upload["parts"]) + 1
            async with self._body(piece) as body:
                response = await self.call(
                    "upload_part", Bucket=self.options.bucket, Key=key, UploadId=upload["id"], PartNumber=number, **body
                )
            upload["parts"].append({"PartNumber": number, "ETag": response["ETag"], "seq": piece.seq})
            await self._on_disk(store.save)
            self.ctx.metrics.inc("uploaded_parts")
        if piece.last:
            parts = [{"PartNumber": part["PartNumber"], "ETag": part["ETag"]} for part in upload["parts"]]
            await self.call(
                "complete_multipart_upload",
                Bucket=self.options.bucket,
                Key=key,
                UploadId=upload["id"],
                MultipartUpload={"Parts": parts},
            )
            self.ctx.metrics.inc("uploaded_objects")
            self.ctx.log.info("completed multipart upload s3://%s/%s (%d parts)", self.options.bucket, key, len(parts))

    def _object_params(self, key: str) -> dict[str, Any]:
        params: dict[str, Any] = {"Bucket": self.options.bucket, "Key": key}
        if self.options.content_type:
            params["ContentType"] = self.options.content_type
        if self.gzip:
            params["ContentEncoding"] = "gzip"
        if self.options.canned_acl:
            params["ACL"] = self.options.canned_acl
        if self.options.storage_class:
            params["StorageClass"] = self.options.storage_class
        return params

    @contextlib.asynccontextmanager
    async def _body(self, piece: Piece) -> AsyncIterator[dict[str, Any]]:
        """The upload body of a piece: its file (gzip-compressed off the loop into a temporary
        file when asked), streamed by the call rather than read into memory."""
        path = await self.executor.run(gzip_file, piece.path) if self.gzip else piece.path
        try:
            params: dict[str, Any] = {"Body": path}
            if self.options.send_content_md5:
                params["ContentMD5"] = await self.executor.run(content_md5, path)
            yield params
        finally:
            if path != piece.path:
                path.unlink(missing_ok=True)
