"""TLS client contexts: one per distinct setting, shared, and made again when the CA changes."""

from __future__ import annotations

import ssl
from pathlib import Path

from flb_fast.tls import client_context
from tests.fakes.certs import make_certs


def test_instances_with_the_same_ca_share_one_context(tmp_path: Path) -> None:
    ca_file = str(make_certs(tmp_path).ca_file)
    assert client_context(ca_file, None) is client_context(ca_file, None)


def test_the_context_trusts_only_the_named_ca(tmp_path: Path) -> None:
    context = client_context(str(make_certs(tmp_path).ca_file), None)
    assert context.cert_store_stats()["x509_ca"] == 1
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)


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
