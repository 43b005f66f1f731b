"""Options every AWS output shares, declared once (Fluent Bit: the AWS block of each plugin's config_map).

Fluent Bit registers the AWS outputs with ``FLB_IO_TLS``, so ``tls`` defaults to on for them;
the table below therefore carries the common TLS options with that one default changed.
"""

from __future__ import annotations

from flb_fast.config.common import NET_OPTIONS, TLS_OPTIONS
from flb_fast.config.options import BOOL, INT, STR, Option, OptionTable

AWS_OPTIONS = OptionTable(
    Option("region", STR, None, "AWS region of the service"),
    Option("role_arn", STR, None, "IAM role to assume through STS before calling the service"),
    Option("external_id", STR, None, "external ID passed to STS AssumeRole with role_arn"),
    Option("sts_endpoint", STR, None, "custom STS endpoint (host or URL) for role_arn"),
    Option("endpoint", STR, None, "custom service endpoint: a host (port and tls apply) or a URL"),
    Option("port", INT, None, "TCP port of a custom endpoint given as a host (default 443, or 80 with tls off)"),
    Option("profile", STR, None, "AWS shared config/credentials profile"),
    Option("auto_retry_requests", BOOL, "true", "retry a request once at once after a network error"),
    Option("extra_user_agent", STR, None, "text appended to the User-Agent header"),
)

_AWS_TLS_OPTIONS = OptionTable(
    *(
        Option("tls", BOOL, "on", "use TLS to reach the service (AWS outputs default to on)")
        if option.name == "tls"
        else option
        for option in TLS_OPTIONS
    )
)

AWS_COMMON_OPTIONS = AWS_OPTIONS + _AWS_TLS_OPTIONS + NET_OPTIONS
"""What each AWS output's table starts with, before its own options."""
