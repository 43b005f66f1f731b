"""PutRecordBatch limits.

Source: Amazon Data Firehose API reference, PutRecordBatch
(https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html): "Each
PutRecordBatch request supports up to 500 records. Each record in the request can be as large as
1,000 KB (before base64 encoding), up to a limit of 4 MB for the entire request. These limits
cannot be changed." Fluent Bit uses 1,024,000 and 4,194,304 bytes (firehose_api.h).
"""

from __future__ import annotations

from flb_fast.outputs.aws.records import Limits

MAX_RECORDS_PER_REQUEST = 500
MAX_REQUEST_BYTES = 4 * 1024 * 1024
MAX_RECORD_BYTES = 1000 * 1024

LIMITS = Limits(MAX_RECORDS_PER_REQUEST, MAX_REQUEST_BYTES, MAX_RECORD_BYTES, key_counts=False)
