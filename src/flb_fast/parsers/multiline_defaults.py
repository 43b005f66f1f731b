"""What a config names of the multiline parsers without using them: the built-in parsers' rules
and the default buffer limit.

Apart from the rule engine (``flb_fast.parsers.multiline``, which imports ``parsers.onigmo``) so
that building the parser registry and starting tail do not import it when no multiline parser is
used: its code (with ``parsers.onigmo``, which a regex parser imports once it is used) held
0.13 MiB of the idle agent's anonymous memory on a config without multiline (``bench_idle
--variant kubernetes``).
"""

from __future__ import annotations

# FLB_ML_BUFFER_LIMIT_DEFAULT (include/fluent-bit/multiline/flb_ml.h; [SERVICE] multiline_buffer_limit): a regex parser's
# group, or a line no parser claims, stops growing here, is flushed truncated and counted
# (flb_ml_group_cat); endswith and equal groups (docker, cri) are not cut. flb_fast counts characters.
BUFFER_LIMIT_CHARS = 2 * 1024 * 1024

# Fluent Bit's built-in regex multiline parsers (``src/multiline/flb_ml_parser_*.c``): name -> rules.
# ``docker`` and ``cri`` are not here: they are framing, handled by tail's Docker_Mode/CRI path.
BUILTIN_RULES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "go": (
        ("start_state", r"/\bpanic: /", "go_after_panic"),
        ("start_state", r"/http: panic serving/", "go_goroutine"),
        ("go_after_panic", r"/^$/", "go_goroutine"),
        ("go_after_panic, go_after_signal, go_frame_1", r"/^$/", "go_goroutine"),
        ("go_after_panic", r"/^\[signal /", "go_after_signal"),
        ("go_goroutine", r"/^goroutine \d+ \[[^\]]+\]:$/", "go_frame_1"),
        ("go_frame_1", r"/^(?:[^\s.:]+\.)*[^\s.():]+\(|^created by /", "go_frame_2"),
        ("go_frame_2", r"/^\s/", "go_frame_1"),
    ),
    "java": (
        ("start_state, java_start_exception",
         r"/(.)(?:Exception|Error|Throwable|V8 errors stack trace)[:\r\n]/", "java_after_exception"),
        ("java_after_exception", r"/^[\t ]*nested exception is:[\t ]*/", "java_start_exception"),
        ("java_after_exception", r"/^[\r\n]*$/", "java_after_exception"),
        ("java_after_exception, java", r"/^[\t ]+(?:eval )?at /", "java"),
        ("java_after_exception, java", r"/^[\t ]+--- End of inner exception stack trace ---$/", "java"),
        ("java_after_exception, java",
         r"/^--- End of stack trace from previous (?x:)location where exception was thrown ---$/", "java"),
        ("java_after_exception, java", r"/^[\t ]*(?:Caused by|Suppressed):/", "java_after_exception"),
        ("java_after_exception, java", r"/^[\t ]*... \d+ (?:more|common frames omitted)/", "java"),
    ),
    "python": (
        ("start_state", r"/^Traceback \(most recent call last\):$/", "python"),
        ("python", r"/^[\t ]+File /", "python_code"),
        ("python_code", r"/[^\t ]/", "python"),
        ("python", r"/^(?:[^\s.():]+\.)*[^\s.():]+:/", "start_state"),
    ),
    "ruby": (
        ("start_state, ruby_start_exception", r"/^.+:\d+:in\s+.*/", "ruby_after_exception"),
        ("ruby_after_exception, ruby", r"/^\s+from\s+.*:\d+:in\s+.*/", "ruby"),
    ),
}
