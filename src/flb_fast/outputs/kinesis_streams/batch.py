"""PutRecords limits.

Source: Amazon Kinesis Data Streams API reference, PutRecords
(https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html): "Each PutRecords
request can support up to 500 records. Each record in the request can be as large as 1 MiB, up
to a limit of 5 MiB for the entire request, including partition keys." Fluent Bit raised its own
request cap to 10 MiB in 2026 (kinesis_api.h); 5 MiB is the documented, always-safe value.
"""

from __future__ import annotations

from flb_fast.outputs.aws.records import Limits

MAX_RECORDS_PER_REQUEST = 500
MAX_REQUEST_BYTES = 5 * 1024 * 1024
MAX_RECORD_BYTES = 1024 * 1024
# A partition key is 1 to 256 Unicode characters (PutRecordsRequestEntry.PartitionKey).
MAX_PARTITION_KEY_CHARS = 256

LIMITS = Limits(MAX_RECORDS_PER_REQUEST, MAX_REQUEST_BYTES, MAX_RECORD_BYTES, key_counts=True)
