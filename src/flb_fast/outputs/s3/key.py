"""S3 object keys from ``s3_key_format`` (Fluent Bit src/aws/flb_aws_util.c ``flb_get_s3_key``).

``$TAG`` is the whole tag, ``$TAG[n]`` its n-th part split on any of
``s3_key_format_tag_delimiters`` (at most 10 parts), ``$UUID`` 8 random alphanumerics,
``$INDEX`` a counter kept across restarts, and the rest goes through strftime (UTC) of the
object's first record time. Without ``$UUID`` and unless ``static_file_path`` is on, Fluent Bit
appends ``-object`` and 8 random characters so that two objects never share a key.
"""

from __future__ import annotations

import re
import secrets
import string
import time

MAX_TAG_PARTS = 10
MAX_KEY_CHARS = 1024
UUID_CHARS = 8
_ALPHANUMERIC = string.ascii_letters + string.digits
_TAG_PART = re.compile(r"\$TAG\[(\d+)\]")


def random_id(length: int = UUID_CHARS) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def tag_parts(tag: str, delimiters: str) -> list[str]:
    """``strtok`` semantics: split on any delimiter character, empty parts dropped."""
    if not delimiters:
        return [tag]
    parts = re.split("[" + re.escape(delimiters) + "]", tag)
    return [part for part in parts if part][:MAX_TAG_PARTS]


def object_key(
    key_format: str,
    tag: str,
    first_time: float,
    delimiters: str = ".",
    index: int = 0,
    static_file_path: bool = False,
) -> str:
    parts = tag_parts(tag, delimiters)
    key = _TAG_PART.sub(lambda m: parts[int(m.group(1))] if int(m.group(1)) < len(parts) else m.group(0), key_format)
    key = key.replace("$TAG", tag).replace("$INDEX", str(index))
    has_uuid = "$UUID" in key
    key = key.replace("$UUID", random_id())
    key = time.strftime(key, time.gmtime(first_time))
    if not has_uuid and not static_file_path:
        key += f"-object{random_id()}"
    # Fluent Bit sends the key as the request path, so its leading "/" is not part of the name.
    return key.removeprefix("/")[:MAX_KEY_CHARS]
