"""The real command reads journal files with the systemd input, adds EC2 metadata with the aws
filter from a local IMDS, writes Fluent Bit's records, and resumes from its DB after a restart."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.agent import Agent, lines
from tests.fakes.imds_server import ImdsServer
from tests.inputs.systemd.harness import fluent_bit_records, golden_entries, out_file_records
from tests.inputs.systemd.journal import write_entries

INSTANCE_KEYS = {"az": "us-west-2b", "ec2_instance_id": "i-0123456789abcdef0"}


def config(tmp_path: Path, journal_dir: Path, input_options: str, filters: str = "") -> str:
    return (
        "[SERVICE]\n    Flush 0.2\n    Grace 5\n"
        f"[INPUT]\n    Name systemd\n    Path {journal_dir}\n{input_options}"
        f"{filters}"
        f"[OUTPUT]\n    Name file\n    Match *\n    Path {tmp_path / 'out'}\n    File all.log\n"
    )


def written(path: Path) -> dict[str, list[tuple[int, dict]]]:
    return out_file_records("".join(f"{line}\n" for line in lines(path)))


def test_the_dataplane_journal_input_writes_what_fluent_bit_wrote(tmp_path: Path) -> None:
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    (tmp_path / "out").mkdir()
    write_entries(journal_dir / "system.journal", golden_entries())
    options = ("    Tag dataplane.systemd.*\n    Systemd_Filter _SYSTEMD_UNIT=docker.service\n"
               "    Systemd_Filter _SYSTEMD_UNIT=containerd.service\n    Systemd_Filter _SYSTEMD_UNIT=kubelet.service\n")
    expected = fluent_bit_records("dataplane_units_or")
    with Agent(tmp_path, config(tmp_path, journal_dir, options)) as agent:
        agent.wait_for(lambda: len(lines(tmp_path / "out" / "all.log")) >= 5, "5 records written")
        result = agent.stop()
    assert result.returncode == 0, result.stderr
    assert written(tmp_path / "out" / "all.log") == expected


def test_host_messages_get_instance_metadata_and_a_restart_resumes_after_the_last_record(tmp_path: Path) -> None:
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    (tmp_path / "out").mkdir()
    journal = journal_dir / "system.journal"
    write_entries(journal, golden_entries())
    options = "    Tag host.messages\n" + "".join(f"    Systemd_Filter PRIORITY={p}\n" for p in range(7))
    options += f"    DB {tmp_path / 'messages.db'}\n"
    filters = "[FILTER]\n    Name aws\n    Match host.*\n    imds_version v2\n"
    out = tmp_path / "out" / "all.log"
    golden = fluent_bit_records("host_messages_priorities")["host.messages"]
    with ImdsServer() as imds:
        env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.endpoint}
        with Agent(tmp_path, config(tmp_path, journal_dir, options, filters), env=env) as agent:
            agent.wait_for(lambda: len(lines(out)) >= len(golden), f"{len(golden)} records written")
            first = agent.stop()
        write_entries(journal, [(1_700_000_100_000_000, [("MESSAGE", "after restart"), ("PRIORITY", "3")])])
        with Agent(tmp_path, config(tmp_path, journal_dir, options, filters), env=env) as agent:
            agent.wait_for(lambda: len(lines(out)) >= len(golden) + 1, "the new record written")
            second = agent.stop()
    assert (first.returncode, second.returncode) == (0, 0), second.stderr
    records = written(out)["host.messages"]
    assert records[: len(golden)] == [(ns, {**record, **INSTANCE_KEYS}) for ns, record in golden]
    [(ns, new)] = records[len(golden):]
    assert ns == 1_700_000_100_000_000 * 1000
    assert new == {"_BOOT_ID": "0123456789abcdef0123456789abcdef", "MESSAGE": "after restart", "PRIORITY": "3",
                   **INSTANCE_KEYS}
