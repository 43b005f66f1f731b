"""The real ``flb-fast`` command (``python -m flb_fast``), run as a user runs it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flb_fast import registry
from flb_fast.config.common import plugin_table
from tests.config.files import write
from tests.fakes.process import die_with_parent

STAMP = r"\[\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}\.\d{3,9}\] "


def flb_fast(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess[str]:
    """The real command; ``env`` is added to this process's environment."""
    return subprocess.run([sys.executable, "-m", "flb_fast", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=120)


def log_lines(stderr: str, level: str, component: str) -> list[str]:
    """Messages of the log lines at ``level`` from ``component``, in Fluent Bit's format."""
    pattern = re.compile(STAMP + re.escape(f"[{level}] [{component}] ") + "(.*)$")
    return [match.group(1) for line in stderr.splitlines() if (match := pattern.match(line))]


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_names_flb_fast_and_the_fluent_bit_version_it_follows(flag: str) -> None:
    result = flb_fast(flag)
    assert (result.returncode, result.stdout) == (0, "flb-fast v0.1.0\nFluent Bit compatible 4.2\n")


def test_help_lists_the_flags_and_every_plugin_by_kind() -> None:
    result = flb_fast("-h")
    assert result.returncode == 0
    for flag in ("-c FILE, --config FILE", "-R FILE, --parser FILE", "-D, --dry-run", "-i INPUT, --input INPUT"):
        assert flag in result.stdout
    for kind in ("input", "filter", "output", "processor"):
        listing = "\n".join(f"  {name:<23} {registry.load(kind, name).description}" for name in registry.names(kind))
        assert f"\n{kind.capitalize()}s\n{listing}\n" in result.stdout


def test_help_lists_plugins_with_fluent_bits_descriptions() -> None:
    result = flb_fast("-h")
    for line in ("  tail                    Tail files", "  kubernetes              Filter to append Kubernetes metadata",
                 "  cloudwatch_logs         Send logs to Amazon CloudWatch", "  s3                      Send to S3"):
        assert f"\n{line}\n" in result.stdout


def test_help_with_a_plugin_prints_its_base_and_own_options() -> None:
    null_output = registry.load("output", "null")
    result = flb_fast("-h", "null")
    assert result.returncode == 0
    assert result.stdout.startswith(f"HELP\nnull output plugin\n\nDESCRIPTION\n{null_output.description}\n\nOPTIONS\n")
    assert "\n".join(plugin_table("output", null_output.OPTIONS).help_lines()) in result.stdout


def test_help_after_a_pipeline_flag_is_that_plugins_help_as_in_fluent_bit() -> None:
    assert flb_fast("-o", "null", "-h").stdout == flb_fast("--help", "null").stdout


def test_help_for_a_fluent_bit_plugin_we_lack_says_so() -> None:
    result = flb_fast("-h", "winlog")
    assert result.returncode == 1
    assert result.stderr == (
        "flb-fast: error: input plugin 'winlog' is a Fluent Bit plugin that flb_fast does not support yet\n"
    )


def test_help_for_an_unknown_plugin_is_an_error() -> None:
    result = flb_fast("-h", "nosuch")
    assert (result.returncode, result.stderr) == (1, "flb-fast: error: unknown plugin 'nosuch'\n")


def test_a_config_syntax_error_is_logged_with_file_and_line_and_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[INPUT]\n    Name dummy\n\tTag t\n")
    result = flb_fast("-c", path)
    assert result.returncode == 1
    assert log_lines(result.stderr, "error", "config") == [
        f"{path}:3: invalid indentation level: inconsistent use of tab and space"
    ]


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.conf")
    result = flb_fast("-c", path, "-D")
    assert result.returncode == 1
    assert log_lines(result.stderr, "error", "config") == [
        f"cannot open config file '{path}': No such file or directory"
    ]


def test_an_error_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    main = write(tmp_path / "main.conf", "[SERVICE]\n    Flush 1\n@INCLUDE outputs.conf\n")
    included = write(tmp_path / "outputs.conf", "[OUTPUT]\n    Name null\n    Match\n")
    result = flb_fast("-c", main, "--dry-run")
    assert result.returncode == 1
    assert log_lines(result.stderr, "error", "config") == [f"{included}:3: 'Match': key has an empty value"]


def test_a_missing_parsers_file_given_with_R_is_an_error(tmp_path: Path) -> None:
    result = flb_fast("-i", "dummy", "-o", "null", "-R", str(tmp_path / "nope.conf"), "-D")
    assert result.returncode == 1
    assert log_lines(result.stderr, "error", "config") == [f"'-R': cannot open parsers file '{tmp_path}/nope.conf'"]


def test_nothing_to_run_is_an_error() -> None:
    result = flb_fast("-D")
    assert result.returncode == 1
    assert result.stderr == (
        "flb-fast: error: nothing to run: give a configuration file (-c FILE) or a pipeline (-i INPUT -o OUTPUT)\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "tag=a", "-i", "dummy"], "-p tag=a: give it after the -i, -F or -o it applies to"),
        (["-i", "dummy", "-p", "tag"], "-p tag: expected KEY=VALUE"),
        (["-i", "dummy", "-m", "*"], "-m *: Match applies to a filter or an output, not an input"),
    ],
)
def test_misplaced_pipeline_flags_are_errors(args: list[str], message: str) -> None:
    result = flb_fast(*args, "-o", "null", "-D")
    assert (result.returncode, result.stderr) == (1, f"flb-fast: error: {message}\n")


def test_an_unknown_flag_is_a_usage_error() -> None:
    result = flb_fast("--nosuch")
    assert result.returncode == 2
    assert "unrecognized arguments: --nosuch" in result.stderr


DATA = Path(__file__).resolve().parent / "data" / "config"


def test_dry_run_of_a_valid_config_succeeds_and_logs_its_warnings(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", """
        [INPUT]
            Name   dummy
            Tag    demo
            storage.type memrb
        [OUTPUT]
            Name   null
            Match  demo
    """)
    result = flb_fast("-c", path, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith("configuration test is successful\n")
    assert log_lines(result.stderr, " warn", "config") == [
        f"{path}:4: dummy.0: storage.type 'memrb' is not supported yet by flb_fast: chunks are buffered in memory"]
    assert result.stdout == ""


def dry_run_config_warnings(path: Path, *service: str) -> list[str]:
    """The config warnings ``--dry-run`` shows for a dummy -> null config whose [SERVICE] holds
    the ``service`` lines (its first on line 2 of the file)."""
    write(path, "\n[SERVICE]\n" + "".join(f"    {line}\n" for line in service)
          + "[INPUT]\n    Name dummy\n[OUTPUT]\n    Name null\n    Match *\n")
    dry_run = flb_fast("-c", str(path), "--dry-run")
    assert dry_run.returncode == 0, dry_run.stderr
    return log_lines(dry_run.stderr, " warn", "config")


def test_dry_run_shows_options_not_supported_yet_whatever_log_level_says(tmp_path: Path) -> None:
    path = tmp_path / "f.conf"
    assert dry_run_config_warnings(path, "Daemon On", "Log_Level error") == [
        f"{path}:2: [SERVICE]: option 'daemon' is not supported yet by flb_fast: run flb-fast under a supervisor instead"]


def test_json_escape_unicode_off_is_not_supported_yet_and_on_needs_no_word(tmp_path: Path) -> None:
    """Fluent Bit's default (On) is what the outputs write: non-ASCII as \\u escapes."""
    off, on = tmp_path / "off.conf", tmp_path / "on.conf"
    assert [dry_run_config_warnings(off, "json.escape_unicode Off"), dry_run_config_warnings(on, "json.escape_unicode On")] == [
        [f"{off}:2: [SERVICE]: option 'json.escape_unicode' is not supported yet by flb_fast: non-ASCII characters "
         "are escaped, as with On"], []]


def test_unknown_option_stops_the_start_as_in_fluent_bit_and_names_the_closest_option(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", """
        [INPUT]
            Name          dummy
            Mem_Buf_Limt  5M
        [OUTPUT]
            Name          null
            Match         *
    """)
    # Fluent Bit 4.2.8's own list, word for word.
    allowed = ("samples, dummy, metadata, rate, interval_sec, interval_nsec, copies, start_time_sec, "
               "start_time_nsec, fixed_timestamp, flush_on_startup, and test_hang_on_exit")
    for args in ([], ["--dry-run"]):
        result = flb_fast("-c", path, *args)
        assert result.returncode == 255, result.stderr
        assert log_lines(result.stderr, "error", "config") == [
            f"{path}:3: dummy: unknown configuration property 'mem_buf_limt'. The following properties are allowed: "
            f"{allowed}. Did you mean 'Mem_Buf_Limit'?"]
        assert result.stderr.splitlines()[-1].endswith("] [ help] try the command: flb-fast -i dummy -h")


def test_dry_run_of_a_yaml_config_succeeds(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", """
        service:
          flush: 1
        pipeline:
          inputs:
            - name: dummy
              tag: demo
          outputs:
            - name: null
              match: '*'
    """)
    result = flb_fast("-c", path, "-D")
    assert (result.returncode, result.stderr.splitlines()[-1]) == (0, "configuration test is successful")


def test_dry_run_prints_every_error_with_its_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", """
        [INPUT]
            Name          dummy
            Tag           ok
        [INPUT]
            Name          winlog
        [INPUT]
            Name          dummy
            Rate          fast
        [FILTER]
            Name          nosuch
            Match         *
        [OUTPUT]
            Name          null
            Match_Regex   ([a-z
    """)
    result = flb_fast("-c", path, "-D")
    assert result.returncode == 1
    assert "configuration test is successful" not in result.stderr
    errors = log_lines(result.stderr, "error", "config")
    assert errors[:3] == [
        f"{path}:5: 'Name': input plugin 'winlog' is a Fluent Bit plugin that flb_fast does not support yet",
        f"{path}:8: 'Rate': [INPUT] dummy: invalid integer 'fast'",
        f"{path}:10: 'Name': unknown filter plugin 'nosuch' (known: {', '.join(registry.names('filter'))})",
    ]
    assert len(errors) == 4 and errors[3].startswith(f"{path}:14: 'Match_Regex': ")


def test_dry_run_of_the_container_insights_config_passes_without_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"HTTP_SERVER": "On", "HTTP_PORT": "2020", "READ_FROM_HEAD": "Off", "READ_FROM_TAIL": "On",
                        "AWS_REGION": "us-west-2", "CLUSTER_NAME": "demo", "HOST_NAME": "node-1"}.items():
        monkeypatch.setenv(name, value)
    result = flb_fast("-c", "fluent-bit.conf", "-D", cwd=DATA / "container-insights")
    assert (result.returncode, result.stderr) == (0, "configuration test is successful\n")


@pytest.mark.parametrize("plugin", ["tail", "systemd"])
def test_a_db_that_cannot_be_opened_stops_start_up_naming_it(tmp_path: Path, plugin: str) -> None:
    db = tmp_path / "missing" / "offsets.db"
    path = write(tmp_path / "f.conf", f"""
        [INPUT]
            Name  {plugin}
            Path  {tmp_path / "*.log" if plugin == "tail" else tmp_path}
            DB    {db}
        [OUTPUT]
            Name  null
            Match *
    """)
    result = flb_fast("-c", path)
    assert result.returncode == 255  # as fluent-bit exits when a plugin cannot start
    assert log_lines(result.stderr, "error", "engine") == [
        f"could not start: {plugin}.0 failed to start: cannot open database {db}: unable to open database file",
    ]
    # What the input made before it failed (a scan thread, the journal) went with it.
    assert log_lines(result.stderr, " warn", "engine") == ["service will shutdown in max 5 seconds"]


@pytest.mark.parametrize(("output", "options"), [
    ("cloudwatch_logs", ["region us-east-1", "log_group_name g", "log_stream_name s", "endpoint https://127.0.0.1:9"]),
    ("kinesis_firehose", ["region us-east-1", "delivery_stream d", "endpoint https://127.0.0.1:9"]),
    ("kinesis_streams", ["region us-east-1", "stream s", "endpoint https://127.0.0.1:9"]),
    ("es", ["Host 127.0.0.1", "Port 9", "tls On"]),
    ("opensearch", ["Host 127.0.0.1", "Port 9", "tls On"]),
])
def test_an_outputs_ca_file_that_cannot_be_loaded_stops_start_up_naming_it(
    tmp_path: Path, output: str, options: list[str],
) -> None:
    ca_file = tmp_path / "missing-ca.pem"
    lines = ["[INPUT]", "Name dummy", "[OUTPUT]", f"Name {output}", "Match *", *options, f"tls.ca_file {ca_file}"]
    path = write(tmp_path / "f.conf", "".join(line + "\n" if line.startswith("[") else f"    {line}\n"
                                              for line in lines))
    result = flb_fast("-c", path, env={"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"})
    assert result.returncode == 255  # as fluent-bit exits when a plugin cannot start
    assert log_lines(result.stderr, "error", "engine") == [
        f"could not start: {output}.0 failed to start: cannot load CA file '{ca_file}': No such file or directory",
    ]
    assert log_lines(result.stderr, " warn", "engine") == ["service will shutdown in max 5 seconds"]


def test_prop_applies_to_the_plugin_flag_before_it() -> None:
    result = flb_fast("-i", "dummy", "-p", "rate=2", "-t", "t", "-o", "null", "-m", "t", "-p", "rate=2", "-D")
    assert result.returncode == 255, result.stderr
    assert [line.split(".")[0] for line in log_lines(result.stderr, "error", "config")] == [
        "null: unknown configuration property 'rate'",
    ]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["-f", "soon"], "'flush': [SERVICE]: invalid number 'soon'"),
        (["-H", "-P", "http"], "'http_port': [SERVICE]: invalid integer 'http'"),
    ],
)
def test_service_flags_set_service_options(flags: list[str], message: str) -> None:
    result = flb_fast("-i", "dummy", "-o", "null", "-m", "*", *flags, "-D")
    assert result.returncode == 1
    assert log_lines(result.stderr, "error", "config") == [message]


def test_flush_flag_overrides_the_config_file(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", "[SERVICE]\n    Flush soon\n[INPUT]\n    Name dummy\n[OUTPUT]\n    Name null\n    Match *\n")
    assert flb_fast("-c", path, "-D").returncode == 1
    result = flb_fast("-c", path, "-f", "2", "-D")
    assert result.returncode == 0, result.stderr


def test_external_go_plugins_are_accepted_with_a_warning() -> None:
    result = flb_fast("-e", "/fluent-bit/cloudwatch.so", "-i", "dummy", "-o", "null", "-m", "*", "-D")
    assert result.returncode == 0, result.stderr
    assert log_lines(result.stderr, " warn", "plugin") == [
        "external plugin '/fluent-bit/cloudwatch.so' ignored: flb_fast does not load shared libraries "
        "(the Go plugins cloudwatch, firehose and kinesis are built in)"
    ]


def test_quiet_logs_errors_only() -> None:
    result = flb_fast("-q", "-i", "dummy", "-o", "null", "-m", "*", "-p", "nosuch=1")
    assert result.returncode == 255
    levels = [re.match(STAMP + r"\[(.{5})\]", line).group(1) for line in result.stderr.splitlines()]  # type: ignore[union-attr]
    assert levels == ["error", " help"]


def test_command_line_pipeline_runs_until_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "flb_fast", "-i", "dummy", "-p", "dummy={\"msg\":\"hi\"}", "-p", "flush_on_startup=on",
         "-t", "demo", "-o", "stdout", "-m", "demo", "-p", "format=json_lines", "-f", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=die_with_parent,
    )
    try:
        first = process.stdout.readline()
        assert json.loads(first)["msg"] == "hi"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


@pytest.mark.parametrize(("kind", "name"), [(kind, name) for kind in registry.KINDS for name in registry.names(kind)])
def test_every_registered_plugin_has_help_from_its_option_table(
    kind: str, name: str, capsys: pytest.CaptureFixture[str], agent_logging: None
) -> None:
    from flb_fast.cli import main

    cls = registry.load(kind, name)
    assert main(["-h", name]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"HELP\n{name} {kind} plugin\n\nDESCRIPTION\n{cls.description}\n")
    assert "\n".join(plugin_table(kind, cls.OPTIONS).help_lines()) in out


def test_log_file_receives_the_agents_log_instead_of_stderr(tmp_path: Path) -> None:
    log_file = tmp_path / "agent.log"
    result = flb_fast("-i", "dummy", "-o", "null", "-m", "*", "-l", str(log_file), "-f", "x")
    assert (result.returncode, result.stderr) == (1, "")
    assert log_lines(log_file.read_text(), "error", "config") == ["'flush': [SERVICE]: invalid number 'x'"]


def test_a_log_file_that_cannot_be_opened_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.conf", f"""
        [SERVICE]
            Log_File {tmp_path}/missing/agent.log
        [INPUT]
            Name dummy
        [OUTPUT]
            Name null
            Match *
    """)
    result = flb_fast("-c", path)
    assert result.returncode == 1
    assert log_lines(result.stderr, "error", "config") == [
        f"{path}:2: 'Log_File': cannot open log file '{tmp_path}/missing/agent.log': No such file or directory"
    ]


YAML_MULTILINE = """
    multiline_parsers:
      - name: java
        type: regex
        flush_timeout: 1000
        rules:
          - state: start_state
            regex: '/^\\d{4}-\\d\\d-\\d\\d .*/'
            next_state: cont
          - state: cont
            regex: '{cont_regex}'
            next_state: cont
    pipeline:
      inputs:
        - name: dummy
      outputs:
        - name: null
          match: '*'
"""


def test_yaml_multiline_rules_reach_the_multiline_parser(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", YAML_MULTILINE.replace("{cont_regex}", "/^\\s+at .*/"))
    result = flb_fast("-c", path, "-D")
    assert (result.returncode, result.stderr.splitlines()[-1]) == (0, "configuration test is successful")


def test_a_bad_yaml_multiline_rule_is_an_error_at_the_rules_line(tmp_path: Path) -> None:
    path = write(tmp_path / "f.yaml", YAML_MULTILINE.replace("{cont_regex}", "/^(at/"))
    result = flb_fast("-c", path, "-D")
    assert result.returncode == 1
    [error] = log_lines(result.stderr, "error", "config")
    assert error.startswith(f"{path}:9: 'rule': multiline parser 'java': ")


_MODULES_AFTER_A_DRY_RUN = """\
import sys
{before}
from flb_fast.cli import main
code = main(["-i", "dummy", "-o", "null", "--dry-run"])
print(code, sorted(name for name in ("argparse", "gettext") if name in sys.modules))
"""


def test_the_command_line_parser_is_let_go_of_before_the_pipeline_runs() -> None:
    result = subprocess.run([sys.executable, "-c", _MODULES_AFTER_A_DRY_RUN.format(before="")],
                            capture_output=True, text=True, timeout=120)
    assert result.stdout == "0 []\n", result.stderr


def test_an_argparse_the_embedding_program_loaded_itself_stays_loaded() -> None:
    result = subprocess.run([sys.executable, "-c", _MODULES_AFTER_A_DRY_RUN.format(before="import argparse")],
                            capture_output=True, text=True, timeout=120)
    assert result.stdout == "0 ['argparse', 'gettext']\n", result.stderr
