"""TLS client contexts: one per distinct setting, shared, and made again when the CA changes."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from hypothesis import given

from flb_fast.tls import CAError, ClientContext, client_context
from tests.fakes.certs import make_certs
from tests.test_hostnames import ASCII_NAMES


def encoded(context: ssl.SSLContext, name: str | bytes | None) -> str | None | tuple[type, str]:
    """What the context hands OpenSSL for ``name``, or the type and text of the error it raises."""
    try:
        return context._encode_hostname(name)
    except (UnicodeError, ValueError) as exc:
        return type(exc), str(exc)


STDLIB_CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
OUR_CONTEXT = ClientContext(ssl.PROTOCOL_TLS_CLIENT)


@given(ASCII_NAMES)
def test_an_ascii_server_name_is_encoded_as_the_stdlib_encodes_it(name: str) -> None:
    assert encoded(OUR_CONTEXT, name) == encoded(STDLIB_CONTEXT, name)


@pytest.mark.parametrize("name", ["", "a..b", "x" * 64, "x" * 64 + ".example", ".example"])
def test_a_name_the_idna_codec_refuses_raises_the_stdlib_error(name: str) -> None:
    assert encoded(OUR_CONTEXT, name) == encoded(STDLIB_CONTEXT, name)


@pytest.mark.parametrize(("name", "expected"), [("bücher.example", "xn--bcher-kva.example"), ("ＡＢＣ.jp", "abc.jp")])
def test_a_name_beyond_ascii_goes_through_the_idna_codec(name: str, expected: str) -> None:
    assert OUR_CONTEXT._encode_hostname(name) == expected


@pytest.mark.parametrize("name", [None, b"logs.example.com"])
def test_no_name_and_a_bytes_name_are_encoded_as_the_stdlib_encodes_them(name: bytes | None) -> None:
    assert encoded(OUR_CONTEXT, name) == encoded(STDLIB_CONTEXT, name)


def test_a_shared_context_has_the_stdlib_default_settings(tmp_path: Path) -> None:
    ca_file = str(make_certs(tmp_path).ca_file)
    context, default = client_context(ca_file, None), ssl.create_default_context(cafile=ca_file)
    assert isinstance(context, ClientContext)
    assert (context.protocol, context.options, context.verify_flags, context.minimum_version) == (
        default.protocol, default.options, default.verify_flags, default.minimum_version)


def test_instances_with_the_same_ca_share_one_context(tmp_path: Path) -> None:
    ca_file = str(make_certs(tmp_path).ca_file)
    assert client_context(ca_file, None) is client_context(ca_file, None)


def test_the_context_trusts_only_the_named_ca(tmp_path: Path) -> None:
    context = client_context(str(make_certs(tmp_path).ca_file), None)
    assert context.cert_store_stats()["x509_ca"] == 1
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)


def test_a_missing_ca_file_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "ca.pem"
    with pytest.raises(CAError, match=f"^cannot load CA file '{missing}': No such file or directory$"):
        client_context(str(missing), None)


def test_a_ca_file_without_a_certificate_is_an_error_naming_it(tmp_path: Path) -> None:
    empty = tmp_path / "ca.pem"
    empty.write_text("no certificate here\n")
    with pytest.raises(CAError, match=f"^cannot load CA file '{empty}': .*NO_CERTIFICATE_OR_CRL_FOUND"):
        client_context(str(empty), None)


def test_a_different_setting_gets_a_context_of_its_own(tmp_path: Path) -> None:
    ca_file = str(make_certs(tmp_path).ca_file)
    checked, unchecked = client_context(ca_file, None), client_context(ca_file, None, check_hostname=False)
    assert checked is not unchecked
    assert (unchecked.verify_mode, unchecked.check_hostname) == (ssl.CERT_REQUIRED, False)


def test_without_verify_the_peer_is_not_checked(tmp_path: Path) -> None:
    context = client_context(str(make_certs(tmp_path).ca_file), None, verify=False)
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_NONE, False)


def test_a_rotated_ca_file_gets_a_new_context(tmp_path: Path) -> None:
    ca_file = make_certs(tmp_path / "old").ca_file
    before = client_context(str(ca_file), None)
    ca_file.write_bytes(make_certs(tmp_path / "new").ca_file.read_bytes() * 2)
    after = client_context(str(ca_file), None)
    assert after is not before
    assert after.cert_store_stats()["x509_ca"] == 1
