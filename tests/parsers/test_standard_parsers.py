"""Fluent Bit's standard parsers.conf, bundled: each parser on real-looking lines and malformed ones.

Expected records follow Fluent Bit's documented behaviour: named captures become string fields
in pattern order, empty captures are skipped (Skip_Empty_Values defaults on), the Time_Key field
sets the record time (kept only with Time_Keep On), and a line the regex does not match is not
parsed (the caller keeps it whole under its Key, with the read time).
"""

from __future__ import annotations

import calendar
import time

import pytest

from tests.parsers.helpers import ns, standard


def parse(name: str, line: str) -> tuple[int, dict] | None:
    return standard(name).parse_batch([line.encode()])[0]


def test_apache_combined_line_without_time_keep_drops_time() -> None:
    assert parse("apache", '192.168.0.1 - frank [25/Nov/2026:13:00:00 +0100] "GET /apache_pb.gif HTTP/1.0" 200 2326 '
                           '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"') == (
        ns(2026, 11, 25, 13, offset_minutes=60),
        {"host": "192.168.0.1", "user": "frank", "method": "GET", "path": "/apache_pb.gif", "code": "200",
         "size": "2326", "referer": "http://www.example.com/start.html", "agent": "Mozilla/4.08 [en] (Win98; I ;Nav)"})


def test_apache_request_without_path_skips_empty_captures() -> None:
    assert parse("apache", '192.168.0.1 - - [25/Nov/2026:13:00:00 +0100] "-" 408 -') == (
        ns(2026, 11, 25, 13, offset_minutes=60),
        {"host": "192.168.0.1", "user": "-", "method": "-", "code": "408", "size": "-"})


def test_apache2() -> None:
    assert parse("apache2", '192.168.0.1 - - [25/Nov/2026:13:00:00 +0000] "POST /login HTTP/1.1" 302 - "-" '
                            '"curl/8.4.0"') == (
        ns(2026, 11, 25, 13),
        {"host": "192.168.0.1", "user": "-", "method": "POST", "path": "/login", "code": "302", "size": "-",
         "referer": "-", "agent": "curl/8.4.0"})


def test_apache_error_has_no_time_format_so_time_stays_text() -> None:
    assert parse("apache_error", "[Wed Nov 25 13:00:00.123456 2026] [core:error] [pid 1234:tid 5678] "
                                 "[client 10.0.0.1:55555] AH00037: Symbolic link not allowed: /var/www/x") == (
        -1, {"time": "Nov 25 13:00:00.123456 2026", "level": "core:error", "pid": "1234:tid 5678",
             "client": "10.0.0.1:55555", "message": "AH00037: Symbolic link not allowed: /var/www/x"})


def test_apache_error_without_optional_groups() -> None:
    assert parse("apache_error", "[Wed Nov 25 13:00:00 2026] [notice] caught SIGTERM, shutting down") == (
        -1, {"time": "Nov 25 13:00:00 2026", "level": "notice", "message": "caught SIGTERM, shutting down"})


def test_nginx_access_line() -> None:
    assert parse("nginx", '10.0.0.1 - - [25/Nov/2026:13:00:00 +0000] "GET /index.html HTTP/1.1" 200 612 "-" '
                          '"curl/8.4.0"') == (
        ns(2026, 11, 25, 13),
        {"remote": "10.0.0.1", "host": "-", "user": "-", "method": "GET", "path": "/index.html", "code": "200",
         "size": "612", "referer": "-", "agent": "curl/8.4.0"})


@pytest.mark.parametrize("line", ["", "not an access log", '10.0.0.1 - - [25/Nov/2026:13:00:00 +0000] "GET /" 200'])
def test_nginx_malformed_lines_do_not_parse(line: str) -> None:
    assert parse("nginx", line) is None


def test_nginx_invalid_time_keeps_record_without_time_and_counts_it() -> None:
    """flb_parser_regex.c: a time that does not parse is warned about and its field skipped."""
    parser = standard("nginx")
    before = parser.counters["time_errors"]
    assert parse("nginx", '10.0.0.1 - - [yesterday] "GET / HTTP/1.1" 200 1 "-" "x"') == (
        -1, {"remote": "10.0.0.1", "host": "-", "user": "-", "method": "GET", "path": "/", "code": "200", "size": "1",
             "referer": "-", "agent": "x"})
    assert parser.counters["time_errors"] == before + 1


def test_k8s_nginx_ingress() -> None:
    assert parse("k8s-nginx-ingress", '10.0.0.1 - - [25/Nov/2026:13:00:00 +0000] "GET /api HTTP/1.1" 200 15 "-" '
                                      '"curl/8.4.0" 80 0.003 [default-api-80] [] 10.1.2.3:8080 15 0.004 200 '
                                      '3f2c6a9e0b1d4c5e') == (
        ns(2026, 11, 25, 13),
        {"host": "10.0.0.1", "user": "-", "method": "GET", "path": "/api", "code": "200", "size": "15",
         "referer": "-", "agent": "curl/8.4.0", "request_length": "80", "request_time": "0.003",
         "proxy_upstream_name": "default-api-80", "upstream_addr": "10.1.2.3:8080", "upstream_response_length": "15",
         "upstream_response_time": "0.004", "upstream_status": "200", "reg_id": "3f2c6a9e0b1d4c5e"})


def test_json_with_time_removes_time_field() -> None:
    assert parse("json", '{"time":"25/Nov/2026:13:00:00 +0000","msg":"hi","n":3,"ok":true,"x":null}') == (
        ns(2026, 11, 25, 13), {"msg": "hi", "n": 3, "ok": True, "x": None})


@pytest.mark.parametrize("line", ["[1,2]", '"text"', "{broken", '{"a":1}{"b":2}', ""])
def test_json_that_is_not_one_object_does_not_parse(line: str) -> None:
    assert parse("json", line) is None


def test_json_without_time_field_has_no_time() -> None:
    assert parse("json", '{"msg":"no time"}') == (-1, {"msg": "no time"})


def test_json_invalid_time_keeps_the_field_and_the_record() -> None:
    """flb_parser_json.c: an unparsable time is warned about; the map is returned unchanged."""
    assert parse("json", '{"time":"soon","msg":"x"}') == (-1, {"time": "soon", "msg": "x"})


def test_docker_keeps_time_and_reads_nanoseconds() -> None:
    assert parse("docker", '{"log":"hello\\n","stream":"stdout","time":"2026-11-25T13:00:00.851160855Z"}') == (
        ns(2026, 11, 25, 13, 0, 0, 851160855),
        {"log": "hello\n", "stream": "stdout", "time": "2026-11-25T13:00:00.851160855Z"})


def test_docker_lines_that_are_not_json_pass_through_with_read_time() -> None:
    timestamps, records, failed = standard("docker").parse_lines(
        [b'{"log":"a","stream":"stderr","time":"2026-11-25T13:00:00.000000001Z"}', b"plain text"], 42, "log")
    assert (timestamps, records, failed) == (
        [ns(2026, 11, 25, 13, 0, 0, 1), 42],
        [{"log": "a", "stream": "stderr", "time": "2026-11-25T13:00:00.000000001Z"}, {"log": "plain text"}], 1)


def test_docker_daemon() -> None:
    assert parse("docker-daemon", 'time="2026-11-25T13:00:00.123456789Z" level=info msg="Container started"') == (
        ns(2026, 11, 25, 13, 0, 0, 123456789),
        {"time": "2026-11-25T13:00:00.123456789Z", "level": "info", "msg": "Container started"})


def test_logfmt() -> None:
    assert parse("logfmt", 'level=info msg="request done" status=200 latency=12ms') == (
        -1, {"level": "info", "msg": "request done", "status": "200", "latency": "12ms"})


def test_syslog_rfc5424() -> None:
    assert parse("syslog-rfc5424", '<165>1 2026-11-25T13:00:00.003Z mymachine.example.com evntslog - ID47 '
                                   '[exampleSDID@32473 iut="3"] An application event') == (
        ns(2026, 11, 25, 13, 0, 0, 3_000_000),
        {"pri": "165", "time": "2026-11-25T13:00:00.003Z", "host": "mymachine.example.com", "ident": "evntslog",
         "pid": "-", "msgid": "ID47", "extradata": '[exampleSDID@32473 iut="3"]', "message": "An application event"})


def _this_year_ns(text: str) -> int:
    """Syslog times carry no year: Fluent Bit uses the current UTC year."""
    moment = time.strptime(f"{time.gmtime().tm_year} {text}", "%Y %b %d %H:%M:%S")
    return calendar.timegm(moment) * 1_000_000_000


def test_syslog_rfc3164_local_takes_the_current_year() -> None:
    assert parse("syslog-rfc3164-local", "<13>Nov 25 13:00:00 sshd[1234]: Accepted publickey") == (
        _this_year_ns("Nov 25 13:00:00"),
        {"pri": "13", "time": "Nov 25 13:00:00", "ident": "sshd", "pid": "1234", "message": "Accepted publickey"})


def test_syslog_rfc3164_slash_delimited_regex() -> None:
    assert parse("syslog-rfc3164", "<13>Nov 25 13:00:00 myhost sshd[1234]: Accepted publickey") == (
        _this_year_ns("Nov 25 13:00:00"),
        {"pri": "13", "time": "Nov 25 13:00:00", "host": "myhost", "ident": "sshd", "pid": "1234",
         "message": "Accepted publickey"})


def test_mongodb() -> None:
    assert parse("mongodb", "2026-11-25T13:00:00.123+0000 I NETWORK  [conn123] end connection 10.0.0.1:5555 "
                            "(1 connection now open) 12ms") == (
        ns(2026, 11, 25, 13, 0, 0, 123_000_000),
        {"time": "2026-11-25T13:00:00.123+0000", "severity": "I", "component": "NETWORK", "context": "conn123",
         "message": "end connection 10.0.0.1:5555 (1 connection now open)", "ms": "12"})


def test_envoy() -> None:
    assert parse("envoy", '[2026-11-25T13:00:00.123Z] "GET /ping HTTP/1.1" 200 - 0 4 1 1 "10.0.0.1" "curl/8.4.0" '
                          '"5e4c1a2b-1111-2222-3333-444455556666" "api.local" "10.1.2.3:8080"') == (
        ns(2026, 11, 25, 13, 0, 0, 123_000_000),
        {"start_time": "2026-11-25T13:00:00.123Z", "method": "GET", "path": "/ping", "protocol": "HTTP/1.1",
         "code": "200", "response_flags": "-", "bytes_received": "0", "bytes_sent": "4", "duration": "1",
         "x_envoy_upstream_service_time": "1", "x_forwarded_for": "10.0.0.1", "user_agent": "curl/8.4.0",
         "request_id": "5e4c1a2b-1111-2222-3333-444455556666", "authority": "api.local",
         "upstream_host": "10.1.2.3:8080"})


def test_istio_envoy_proxy() -> None:
    result = parse("istio-envoy-proxy", '[2026-11-25T13:00:00.123Z] "GET /ping HTTP/1.1" 200 - via_upstream - "-" '
                                        '0 4 1 1 "10.0.0.1" "curl/8.4.0" "5e4c1a2b" "api.local" "10.1.2.3:8080" '
                                        'outbound|80||api.default.svc.cluster.local 10.1.0.5:40000 10.1.2.3:8080 '
                                        '10.1.0.5:39999 - default')
    assert result is not None
    assert result[0] == ns(2026, 11, 25, 13, 0, 0, 123_000_000)
    assert result[1]["upstream_cluster"] == "outbound|80||api.default.svc.cluster.local"
    assert result[1]["route_name"] == "default"
    assert len(result[1]) == 24


def test_cri_full_line() -> None:
    assert parse("cri", "2026-11-25T13:00:00.123456789+00:00 stdout F hello world") == (
        ns(2026, 11, 25, 13, 0, 0, 123456789),
        {"time": "2026-11-25T13:00:00.123456789+00:00", "stream": "stdout", "logtag": "F", "message": "hello world"})


def test_cri_partial_line_with_z_zone() -> None:
    assert parse("cri", "2026-11-25T13:00:00.5Z stderr P partial") == (
        ns(2026, 11, 25, 13, 0, 0, 500_000_000),
        {"time": "2026-11-25T13:00:00.5Z", "stream": "stderr", "logtag": "P", "message": "partial"})


def test_cri_unknown_stream_does_not_parse() -> None:
    assert parse("cri", "2026-11-25T13:00:00.5Z stdweird F x") is None


def test_kube_custom_on_a_tail_tag() -> None:
    """Same leftmost-backtracking result Onigmo gives for this pattern (the pod name takes the path)."""
    assert parse("kube-custom", "kube.var.log.containers.api-7d4b9c-x2x9z_default_api-"
                                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log") == (
        -1, {"tag": "kube", "pod_name": "var.log.containers.api-7d4b9c-x2x9z", "namespace_name": "default",
             "container_name": "api", "docker_id": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"})


def test_kmsg_netfilter_log() -> None:
    result = parse("kmsg-netfilter-log", "<4>1 2026-11-25T13:00:00.000000+00:00 host kernel - - - [12345.678] DROP "
                                         "IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=10.0.0.1 "
                                         "DST=10.0.0.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP "
                                         "SPT=12345 DPT=80 WINDOW=29200 RES=0x00 SYN URGP=0")
    assert result == (ns(2026, 11, 25, 13), {
        "pri": "4", "host": "host", "logprefix": "DROP", "in": "eth0", "macsrc": "00:11:22:33:44:55",
        "macdst": "66:77:88:99:aa:bb", "ethtype": "08:00", "saddr": "10.0.0.1", "daddr": "10.0.0.2", "len": "60",
        "tos": "0x00", "prec": "0x00", "ttl": "64", "id": "54321", "proto": "TCP", "sport": "12345", "dport": "80",
        "window": "29200", "res": "0x00", "flag": "SYN", "urgp": "0"})


REGEX_STANDARD = ["apache", "apache2", "apache_error", "nginx", "k8s-nginx-ingress", "docker-daemon", "syslog-rfc5424",
                  "syslog-rfc3164-local", "syslog-rfc3164", "mongodb", "envoy", "istio-envoy-proxy", "cri",
                  "kube-custom", "kmsg-netfilter-log"]


@pytest.mark.parametrize("name", REGEX_STANDARD)
@pytest.mark.parametrize("line", ["", "garbage line", "\x00\ufffd"])
def test_malformed_lines_do_not_parse(name: str, line: str) -> None:
    """A line the regex does not match is not parsed; tail then keeps it whole under its Key."""
    assert parse(name, line) is None


def test_apache2_with_user_and_negative_offset() -> None:
    assert parse("apache2", '10.1.1.1 - bob [25/Nov/2026:13:00:00 -0500] "GET /x?y=1 HTTP/1.0" 404 512 "http://r/" '
                            '"Wget/1.21 (linux-gnu)"') == (
        ns(2026, 11, 25, 13, offset_minutes=-300),
        {"host": "10.1.1.1", "user": "bob", "method": "GET", "path": "/x?y=1", "code": "404", "size": "512",
         "referer": "http://r/", "agent": "Wget/1.21 (linux-gnu)"})


def test_k8s_nginx_ingress_with_alternative_upstream() -> None:
    assert parse("k8s-nginx-ingress", '10.0.0.1 - alice [25/Nov/2026:13:00:00 +0000] "POST /v1/x HTTP/2.0" 503 0 '
                                      '"https://ref/" "Go-http-client/2.0" 120 0.010 [default-api-80] '
                                      '[default-api-canary-80] 10.1.2.4:8080 0 0.009 503 abcd') == (
        ns(2026, 11, 25, 13),
        {"host": "10.0.0.1", "user": "alice", "method": "POST", "path": "/v1/x", "code": "503", "size": "0",
         "referer": "https://ref/", "agent": "Go-http-client/2.0", "request_length": "120", "request_time": "0.010",
         "proxy_upstream_name": "default-api-80", "proxy_alternative_upstream_name": "default-api-canary-80",
         "upstream_addr": "10.1.2.4:8080", "upstream_response_length": "0", "upstream_response_time": "0.009",
         "upstream_status": "503", "reg_id": "abcd"})


def test_docker_daemon_one_nanosecond() -> None:
    assert parse("docker-daemon", 'time="2026-11-25T13:00:00.000000001Z" level=warning msg="Health check timed out"') == (
        ns(2026, 11, 25, 13, 0, 0, 1),
        {"time": "2026-11-25T13:00:00.000000001Z", "level": "warning", "msg": "Health check timed out"})


def test_syslog_rfc5424_with_zone_offset_and_nil_structured_data() -> None:
    assert parse("syslog-rfc5424", "<34>1 2026-11-25T13:00:00.5+01:00 host su 123 - - su root failed on /dev/pts/8") == (
        ns(2026, 11, 25, 13, 0, 0, 500_000_000, offset_minutes=60),
        {"pri": "34", "time": "2026-11-25T13:00:00.5+01:00", "host": "host", "ident": "su", "pid": "123",
         "msgid": "-", "extradata": "-", "message": "su root failed on /dev/pts/8"})


def test_syslog_rfc3164_local_with_space_padded_day() -> None:
    assert parse("syslog-rfc3164-local", "<86>Nov  5 07:08:09 CRON[42]: pam_unix(cron:session): session opened") == (
        _this_year_ns("Nov 5 07:08:09"),
        {"pri": "86", "time": "Nov  5 07:08:09", "ident": "CRON", "pid": "42",
         "message": "pam_unix(cron:session): session opened"})


def test_mongodb_without_duration() -> None:
    assert parse("mongodb", "2026-11-25T13:00:00.456+0000 W COMMAND  [conn7] Slow query") == (
        ns(2026, 11, 25, 13, 0, 0, 456_000_000),
        {"time": "2026-11-25T13:00:00.456+0000", "severity": "W", "component": "COMMAND", "context": "conn7",
         "message": "Slow query"})


def test_envoy_upstream_failure_with_dashes() -> None:
    assert parse("envoy", '[2026-11-25T13:00:00.999Z] "POST /submit HTTP/2" 503 UF 128 0 15 - "-" "grpc-go/1.60" '
                          '"id-2" "svc:8080" "-"') == (
        ns(2026, 11, 25, 13, 0, 0, 999_000_000),
        {"start_time": "2026-11-25T13:00:00.999Z", "method": "POST", "path": "/submit", "protocol": "HTTP/2",
         "code": "503", "response_flags": "UF", "bytes_received": "128", "bytes_sent": "0", "duration": "15",
         "x_envoy_upstream_service_time": "-", "x_forwarded_for": "-", "user_agent": "grpc-go/1.60",
         "request_id": "id-2", "authority": "svc:8080", "upstream_host": "-"})
