"""Tag -> pod, namespace, container and container id, as parse_regex_tag_data does."""

from __future__ import annotations

from flb_fast.config.model import Property, Section
from flb_fast.filters.kubernetes.tag import TagMeta, TagParser
from flb_fast.parsers import create_parser

ID = "0123456789abcdef" * 4
PREFIX = "kube.var.log.containers."


def test_the_default_regex_reads_the_kubelet_file_name() -> None:
    meta = TagParser(PREFIX).parse(f"{PREFIX}web-7d4b9c-x2x_shop_nginx-proxy-{ID}.log")
    assert meta == TagMeta("web-7d4b9c-x2x", "shop", "nginx-proxy", ID)


def test_dotted_pod_names_are_accepted() -> None:
    meta = TagParser(PREFIX).parse(f"{PREFIX}etcd-ip-10-0-1-2.ec2.internal_kube-system_etcd-{ID}.log")
    assert meta == TagMeta("etcd-ip-10-0-1-2.ec2.internal", "kube-system", "etcd", ID)


def test_a_tag_not_ending_in_a_container_id_does_not_match() -> None:
    assert TagParser(PREFIX).parse(f"{PREFIX}web_shop_nginx.log") is None


def test_the_prefix_length_is_skipped_whatever_the_prefix_says() -> None:
    assert TagParser("custom.prefix.").parse(f"kube.var.log.cweb_shop_app-{ID}.log") == TagMeta(
        "web", "shop", "app", ID
    )


def test_a_tag_no_longer_than_the_prefix_does_not_match() -> None:
    assert TagParser(PREFIX).parse(PREFIX) is None
    assert TagParser(PREFIX).parse(PREFIX + "x") is None


def test_regex_parser_names_the_fields() -> None:
    section = Section(
        "PARSER",
        [
            Property("Name", "custom-tag"),
            Property("Format", "regex"),
            Property("Regex", r"^(?<namespace_name>[^_]+)\.(?<pod_name>[^.]+)\.(?<container_name>.+)$"),
        ],
    )
    parser = TagParser("kube.", create_parser(section))
    assert parser.parse("kube.shop.web-1.nginx") == TagMeta("web-1", "shop", "nginx", None)


def test_cache_key_is_namespace_pod_container_and_docker_id_only_when_asked() -> None:
    meta = TagMeta("p", "ns", "c", ID)
    assert meta.cache_key(False) == ("ns", "p", "c", None)
    assert meta.cache_key(True) == ("ns", "p", "c", ID)
    assert meta.pod_key == ("ns", "p")
