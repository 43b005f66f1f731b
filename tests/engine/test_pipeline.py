"""build(config): instances, names, options and every config error with its file:line."""

from __future__ import annotations

import pytest

from flb_fast.config.errors import ConfigError, ConfigErrors
from flb_fast.engine.scheduler import RETRY_NONE, RETRY_UNLIMITED


def test_instances_are_numbered_per_kind_in_config_order_as_in_fluent_bit(pipeline):
    built, _ = pipeline(
        "[INPUT]\n    Name dummy\n[INPUT]\n    Name manual\n[INPUT]\n    Name dummy\n"
        "[OUTPUT]\n    Name null\n    Match *\n[OUTPUT]\n    Name stdout\n    Match *\n"
        "[OUTPUT]\n    Name null\n    Match *\n"
    )
    # Fluent Bit 4.2.8 names the outputs of tests/data/http_server/api-v2/fluent-bit.conf null.0, stdout.1.
    assert [i.name for i in built.inputs] == ["dummy.0", "manual.1", "dummy.2"]
    assert [o.name for o in built.outputs] == ["null.0", "stdout.1", "null.2"]


def test_an_input_without_tag_is_tagged_with_its_instance_name(pipeline):
    built, _ = pipeline("[INPUT]\n    Name dummy\n[INPUT]\n    Name dummy\n    Tag app.x\n")
    assert [i.options.tag for i in built.inputs] == ["dummy.0", "app.x"]


def test_alias_names_the_instance_in_metrics(pipeline):
    built, _ = pipeline("[INPUT]\n    Name dummy\n    Alias gen\n[OUTPUT]\n    Name null\n    Match *\n")
    assert built.inputs[0].display_name == "gen"
    assert list(built.metrics.snapshot()["input"]) == ["gen"]
    assert built.metrics.snapshot()["output"]["null.0"]["proc_records"] == 0


def test_unknown_plugin_is_an_error_at_its_name_line(pipeline, tmp_path):
    with pytest.raises(ConfigError) as caught:
        pipeline("[INPUT]\n    Name dummy\n[OUTPUT]\n    Match *\n    Name nosuch\n")
    assert (caught.value.file, caught.value.line) == (str(tmp_path / "fluent-bit.conf"), 5)
    assert "unknown output plugin 'nosuch'" in caught.value.message


def test_fluent_bit_plugin_not_yet_supported_is_named_as_such(pipeline):
    with pytest.raises(ConfigError, match="does not support yet"):
        pipeline("[FILTER]\n    Name expect\n    Match *\n")


def test_unknown_option_is_an_error_listing_the_plugins_own_options_as_fluent_bit_does(pipeline, tmp_path):
    with pytest.raises(ConfigErrors) as caught:
        pipeline("[INPUT]\n    Name dummy\n[OUTPUT]\n    Name null\n    Match *\n    Colour blue\n")
    [error] = caught.value.errors
    assert (error.file, error.line, error.option, error.exit_code) == (str(tmp_path / "fluent-bit.conf"), 6, "colour", 255)
    assert error.message == ("null: unknown configuration property 'colour'. The following properties are allowed: "
                             "format, json_date_format, and json_date_key.")
    assert error.hint == "try the command: flb-fast -o null -h"


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [("mem_buf_limt", "mem_buf_limit"), ("Mem_Buf_Limt", "Mem_Buf_Limit"), ("Samles", "Samples")],
)
def test_unknown_option_suggests_the_closest_known_name_in_the_users_spelling(pipeline, typed, suggestion):
    with pytest.raises(ConfigErrors) as caught:
        pipeline(f"[INPUT]\n    Name dummy\n    {typed} 5M\n")
    assert caught.value.errors[0].message.endswith(f". Did you mean '{suggestion}'?")


def test_unknown_option_far_from_every_name_gets_no_suggestion(pipeline):
    with pytest.raises(ConfigErrors) as caught:
        pipeline("[INPUT]\n    Name dummy\n    Bogus_Option 1\n")
    assert "Did you mean" not in caught.value.errors[0].message


@pytest.mark.parametrize(
    ("section", "instance"),
    [
        ("[INPUT]\n    Name dummy\n    tls on\n", "dummy.0"),
        ("[INPUT]\n    Name dummy\n[OUTPUT]\n    Name null\n    Match *\n    tls on\n", "null.0"),
        ("[INPUT]\n    Name dummy\n[OUTPUT]\n    Name cloudwatch_logs\n    Match *\n    region us-east-1\n"
         "    log_group_name g\n    log_stream_name s\n    tls on\n", "cloudwatch_logs.0"),
    ],
)
def test_tls_on_a_plugin_without_tls_is_an_error_at_its_line_as_in_fluent_bit(pipeline, tmp_path, section, instance):
    with pytest.raises(ConfigError) as caught:
        pipeline(section)
    line = section.count("\n")
    assert (caught.value.file, caught.value.line, caught.value.option) == (str(tmp_path / "fluent-bit.conf"), line, "tls")
    assert caught.value.message == f"{instance} does not support TLS"


def test_tls_off_is_accepted_on_any_plugin_and_tls_on_where_the_plugin_has_tls(pipeline):
    pipeline("[INPUT]\n    Name dummy\n    tls off\n[OUTPUT]\n    Name s3\n    Match *\n    bucket b\n"
             "    region us-east-1\n    tls on\n")


def test_an_option_of_the_plugin_set_twice_is_an_error_as_in_fluent_bit(pipeline):
    with pytest.raises(ConfigErrors) as caught:
        pipeline("[INPUT]\n    Name dummy\n    Rate 2\n    rate 3\n")
    [error] = caught.value.errors
    assert (error.line, error.message, error.hint) == (4, "dummy: configuration property 'rate' is set 2 times", None)


def test_every_unknown_option_of_every_section_is_reported_at_once(pipeline):
    with pytest.raises(ConfigErrors) as caught:
        pipeline("[INPUT]\n    Name dummy\n    Nosuch 1\n    Other 2\n"
                 "[FILTER]\n    Name parser\n    Match *\n    Key_Name log\n    Parser json\n    Third 3\n")
    assert [(error.line, error.option) for error in caught.value.errors] == [(3, "nosuch"), (4, "other"),
                                                                              (10, "third")]


@pytest.mark.parametrize(
    "section",
    [
        "[INPUT]\n    Name dummy\n    Host x\n    Port 1\n    Listen 0.0.0.0\n    ipv6 off\n    tls off\n"
        "    Log_Suppress_Interval 5s\n    Threaded off\n",
        "[FILTER]\n    Name parser\n    Match *\n    Key_Name log\n    Parser json\n    Log_Suppress_Interval 5s\n",
        "[OUTPUT]\n    Name stdout\n    Match *\n    Host x\n    tls.verify off\n    net.connect_timeout 5\n"
        "    net.keepalive on\n    Workers 1\n",
    ],
)
def test_options_fluent_bit_takes_for_every_plugin_of_a_kind_are_known(pipeline, section):
    pipeline(section)


def test_a_plugin_declaring_a_shared_option_again_keeps_its_own_default(pipeline):
    built, _ = pipeline("[OUTPUT]\n    Name cloudwatch_logs\n    Match *\n    region us-east-1\n"
                        "    log_group_name g\n    log_stream_name s\n")
    assert built.outputs[0].options.tls is True


def test_bad_value_is_an_error_naming_the_option_and_line(pipeline):
    with pytest.raises(ConfigError) as caught:
        pipeline("[INPUT]\n    Name dummy\n    Mem_Buf_Limit 5XB\n")
    assert (caught.value.line, caught.value.option) == (3, "Mem_Buf_Limit")


def test_plugin_config_error_points_at_the_option(pipeline):
    with pytest.raises(ConfigError) as caught:
        pipeline("[OUTPUT]\n    Name stdout\n    Match *\n    Format yaml\n")
    assert (caught.value.line, caught.value.option) == (4, "format")
    assert "stdout.0: invalid format 'yaml'" in caught.value.message


def test_invalid_match_regex_is_an_error_at_its_line(pipeline):
    with pytest.raises(ConfigError) as caught:
        pipeline("[OUTPUT]\n    Name null\n    Match_Regex (unclosed\n")
    assert (caught.value.line, caught.value.option) == (3, "Match_Regex")


def test_output_without_match_is_a_warning(pipeline):
    _, warnings = pipeline("[OUTPUT]\n    Name null\n")
    assert [w.message for w in warnings] == ["null.0 has no 'Match' or 'Match_Regex': it receives no records"]


@pytest.mark.parametrize(
    ("value", "limit"), [("3", 3), ("no_limits", RETRY_UNLIMITED), ("False", RETRY_UNLIMITED), ("no_retries", RETRY_NONE)]
)
def test_retry_limit_meanings(pipeline, value, limit):
    built, warnings = pipeline(f"[OUTPUT]\n    Name null\n    Match *\n    Retry_Limit {value}\n")
    assert built.outputs[0].retry_limit == limit
    assert warnings == []


def test_invalid_retry_limit_falls_back_to_one_with_a_warning(pipeline):
    built, warnings = pipeline("[OUTPUT]\n    Name null\n    Match *\n    Retry_Limit 0\n")
    assert built.outputs[0].retry_limit == 1
    assert [(w.line, w.option) for w in warnings] == [(4, "Retry_Limit")]


def test_workers_default_to_the_plugin_and_can_be_set(pipeline):
    built, _ = pipeline("[OUTPUT]\n    Name null\n    Match *\n[OUTPUT]\n    Name null\n    Match *\n    Workers 4\n")
    assert [o.workers for o in built.outputs] == [1, 4]


def test_service_options_are_bound(pipeline):
    built, _ = pipeline("[SERVICE]\n    Flush 0.5\n    Grace 30\n    scheduler.base 0.01\n")
    assert (built.service.flush, built.service.grace, built.service.scheduler_base) == (0.5, 30.0, 0.01)


def test_emitting_before_the_engine_runs_is_refused(pipeline):
    built, _ = pipeline("[INPUT]\n    Name manual\n")
    with pytest.raises(RuntimeError, match="before the engine started"):
        built.inputs[0].plugin.push([{"a": 1}])


def test_shared_options_not_supported_yet_are_warnings_at_their_line(pipeline):
    _, warnings = pipeline(
        "[SERVICE]\n    storage.path /var/flb\n    Streams_File streams.conf\n"
        "[INPUT]\n    Name dummy\n    storage.type memrb\n"
        "[OUTPUT]\n    Name null\n    Match *\n    storage.total_limit_size 5M\n"
    )
    assert [(w.line, w.message) for w in warnings] == [
        (3, "[SERVICE]: option 'streams_file' is not supported yet by flb_fast: ignored"),
        (6, "dummy.0: storage.type 'memrb' is not supported yet by flb_fast: chunks are buffered in memory"),
    ]


def test_filesystem_storage_without_storage_path_is_a_config_error_at_its_line(pipeline):
    with pytest.raises(ConfigError) as error:
        pipeline("[INPUT]\n    Name dummy\n    storage.type filesystem\n")
    assert (error.value.line, error.value.option, error.value.message) == (
        3, "storage.type",
        "instance 'dummy.0' requested filesystem storage but no filesystem path was defined ([SERVICE] storage.path)")


def test_an_unknown_storage_type_is_a_config_error(pipeline):
    with pytest.raises(ConfigError) as error:
        pipeline("[INPUT]\n    Name dummy\n    storage.type disk\n")
    assert (error.value.line, error.value.message) == (
        3, "dummy.0: invalid storage.type 'disk': memory, memrb or filesystem")


def test_an_unknown_storage_sync_mode_is_a_config_error(pipeline):
    with pytest.raises(ConfigError) as error:
        pipeline("[SERVICE]\n    storage.sync sometimes\n")
    assert (error.value.line, error.value.option, error.value.message) == (
        2, "storage.sync", "invalid synchronization mode 'sometimes': normal or full")


def test_default_shared_options_raise_no_warning(pipeline):
    _, warnings = pipeline("[SERVICE]\n    Hot_Reload Off\n[INPUT]\n    Name dummy\n    storage.type memory\n")
    assert warnings == []
