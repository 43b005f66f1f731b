"""A fast Firehose and Kinesis Data Streams endpoint on 127.0.0.1: the JSON protocol, kept-alive HTTPS, nothing stored.

moto answers PutRecordBatch and PutRecords slowly (it stores every record, and Firehose writes
each batch to its S3), so an agent writing to it waits on moto, not on its own work. This server
is ``cloudwatch_logs_server``'s (same HTTP handling, same SigV4 check against botocore's signer,
same error shapes) answering the two calls the agents make, as the real services do
(``X-Amz-Target: Firehose_20150804.PutRecordBatch`` / ``Kinesis_20131202.PutRecords``, answers of
the documented shape: a ``RecordId`` per Firehose record, a ``SequenceNumber`` and ``ShardId`` per
Kinesis record). It checks what the services refuse: a stream it does not hold
(ResourceNotFoundException), more than 500 records, a record over the service's size or a request
over its total (Firehose: 1,000 KiB and 4 MiB of data; Kinesis: 1 MiB and 5 MiB of data plus
partition keys), Data that is not base64, a partition key not 1 to 256 characters
(InvalidArgumentException / ValidationException). Records accepted are counted, and their lines
(newline-ended pieces of the decoded data) counted as ``events``; with ``keep_events`` each
record's data is kept too (``kept_events``: ``(stream, "", 0, data as text)``).

``fail_every``: every n-th record of the server's lifetime is answered as failed with the
service's throttling code (``ServiceUnavailableException`` / ``ProvisionedThroughputExceededException``),
so a client's partial-failure retry can be exercised; 0 fails none.

In a test: ``with StreamServer(tls=certs, streams=["s"]) as server``. For a benchmark, run it as
its own process: ``python -m tests.fakes.stream_server --port N --certs DIR --stream NAME``;
``GET /_stats`` and ``POST /_reset`` as for the CloudWatch Logs endpoint (reset keeps the streams).
"""

from __future__ import annotations

import argparse
import base64
import binascii
from pathlib import Path
from typing import Any

from tests.fakes.certs import CertFiles, cert_files
from tests.fakes.cloudwatch_logs_server import CloudWatchLogsServer, _Refused

FIREHOSE_PREFIX = "Firehose_20150804."
KINESIS_PREFIX = "Kinesis_20131202."
# PutRecordBatch (Firehose API reference): 500 records, 1,000 KiB a record, 4 MiB a request.
# PutRecords (Kinesis API reference): 500 records, 1 MiB a record and 5 MiB a request, partition keys counted.
MAX_RECORDS = 500
FIREHOSE_MAX_RECORD_BYTES = 1000 * 1024
FIREHOSE_MAX_REQUEST_BYTES = 4 * 1024 * 1024
KINESIS_MAX_RECORD_BYTES = 1024 * 1024
KINESIS_MAX_REQUEST_BYTES = 5 * 1024 * 1024
MAX_PARTITION_KEY_CHARS = 256
SHARD_ID = "shardId-000000000000"
# A Firehose RecordId as the service writes one: 216 characters of base64 (about what AWS returns).
RECORD_ID_CHARS = 216


class StreamServer(CloudWatchLogsServer):
    """See the module docstring; ``streams`` are the delivery streams / data streams it holds."""

    SERVICES = {FIREHOSE_PREFIX: "firehose", KINESIS_PREFIX: "kinesis"}
    COUNTED_OPERATIONS = frozenset({"PutRecordBatch", "PutRecords"})

    def __init__(self, tls: CertFiles | None = None, port: int | None = None, streams: list[str] = (),
                 fail_every: int = 0, **kwargs: Any) -> None:
        super().__init__(tls=tls, port=port, **kwargs)
        self.streams = set(streams)
        self.fail_every = fail_every
        self.records = 0
        self.failed = 0
        self._seen = 0

    def stats(self) -> dict[str, Any]:
        answer = super().stats()
        with self._lock:
            return {**answer, "records": self.records, "failed": self.failed}

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.records = self.failed = self._seen = 0

    def _operation(self, operation: str, target: str, params: dict[str, Any]) -> Any:
        if target == FIREHOSE_PREFIX + "PutRecordBatch":
            return self._put(params, firehose=True)
        if target == KINESIS_PREFIX + "PutRecords":
            return self._put(params, firehose=False)
        raise _Refused(400, "UnknownOperationException", f"unknown operation {target!r}")

    def _put(self, params: dict[str, Any], firehose: bool) -> Any:
        name = params.get("DeliveryStreamName" if firehose else "StreamName")
        if name not in self.streams:
            kind = "Delivery stream" if firehose else "Stream"
            raise _Refused(400, "ResourceNotFoundException", f"{kind} {name} not found.")
        invalid = "InvalidArgumentException" if firehose else "ValidationException"
        records = params.get("Records") or []
        if not records or len(records) > MAX_RECORDS:
            raise _Refused(400, invalid, f"{len(records)} records in one request (1 to {MAX_RECORDS})")
        record_limit = FIREHOSE_MAX_RECORD_BYTES if firehose else KINESIS_MAX_RECORD_BYTES
        request_limit = FIREHOSE_MAX_REQUEST_BYTES if firehose else KINESIS_MAX_REQUEST_BYTES
        datas = []
        total = 0
        for record in records:
            try:
                data = base64.b64decode(record["Data"], validate=True)
            except (KeyError, binascii.Error) as exc:
                raise _Refused(400, "SerializationException", f"record Data is not base64: {exc}") from exc
            size = len(data)
            if not firehose:
                key = record.get("PartitionKey")
                if not isinstance(key, str) or not 1 <= len(key) <= MAX_PARTITION_KEY_CHARS:
                    raise _Refused(400, invalid, f"partition key {key!r} is not 1 to {MAX_PARTITION_KEY_CHARS} characters")
                size += len(key.encode())
            if size > record_limit:
                raise _Refused(400, invalid, f"a record of {size} bytes is over {record_limit}")
            total += size
            datas.append(data)
        if total > request_limit:
            raise _Refused(400, invalid, f"a request of {total} bytes is over {request_limit}")
        answers = []
        failed = 0
        for data in datas:
            self._seen += 1
            if self.fail_every and self._seen % self.fail_every == 0:
                failed += 1
                answers.append(self._failure(firehose))
                continue
            self.records += 1
            self.events += data.count(b"\n")
            if self.keep_events:
                self.kept_events.append((name, "", 0, data.decode(errors="replace")))
            answers.append(self._success(firehose))
        self.failed += failed
        if firehose:
            return {"FailedPutCount": failed, "Encrypted": False, "RequestResponses": answers}
        return {"FailedRecordCount": failed, "Records": answers, "EncryptionType": "NONE"}

    def _success(self, firehose: bool) -> dict[str, str]:
        if firehose:
            return {"RecordId": f"{self.records:0{RECORD_ID_CHARS}d}"}
        return {"SequenceNumber": f"{49_600_000_000_000_000_000_000_000_000_000_000_000_000_000 + self.records:056d}",
                "ShardId": SHARD_ID}

    @staticmethod
    def _failure(firehose: bool) -> dict[str, str]:
        if firehose:
            return {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."}
        return {"ErrorCode": "ProvisionedThroughputExceededException",
                "ErrorMessage": "Rate exceeded for shard shardId-000000000000 in stream."}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--certs", type=Path, help="a directory written by tests.fakes.certs.make_certs")
    parser.add_argument("--stream", action="append", default=[], help="a stream it holds (repeatable)")
    args = parser.parse_args()
    tls = cert_files(args.certs) if args.certs else None
    StreamServer(tls=tls, port=args.port, streams=args.stream).serve_forever()


if __name__ == "__main__":
    main()
