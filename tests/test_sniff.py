from __future__ import annotations

from pathlib import Path

import pytest

from callback_module.parsers.follower import read_lines
from callback_module.parsers.sniff import FileKind, SniffError, sniff

DATA = Path(__file__).parent / "data"
CUSTOM_FIELDS = ("start,answer,end,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata,"
                 "duration,billsec,disposition,amaflags,accountcode,uniqueid,linkedid,"
                 "peeraccount,sequence,userfield")
# First line of run A's cel-custom/Master.csv: 20 CSV columns, but CEL, not CDR.
CEL_LINE = ('"CHAN_START","1795327866.156321","Mueller","+49301110001","","","","4930555100",'
            '"from-pstn","SIP/carrier-00000000","","","3","","1795327866.0","1795327866.0",'
            '"","","",""')


def sample(name: str) -> list[str]:
    return [text for _, text in read_lines(DATA / name)[:10]]


@pytest.mark.parametrize(("name", "kind"), [
    ("asterisk_master_21.csv", FileKind.CDR_CSV),
    ("asterisk_master_18.csv", FileKind.CDR_CSV),
    ("asterisk_master_16.csv", FileKind.CDR_CSV),
    ("asterisk_cdr_sqlite3.csv", FileKind.CDR_HEADER),
    ("asterisk_queue_log", FileKind.QUEUE_LOG),
    ("asterisk_queue_log_realtime.csv", FileKind.QUEUE_LOG_CSV),
])
def test_each_sample_is_recognised_from_its_content(name, kind):
    assert sniff(sample(name), source=name) is kind


def test_cdr_custom_needs_its_columns():
    lines = sample("asterisk_cdr_custom.csv")
    assert sniff(lines, CUSTOM_FIELDS) is FileKind.CDR_CUSTOM
    assert sniff(lines, CUSTOM_FIELDS).is_cdr
    # Without the columns its first column is a date, not cdr_csv's accountcode.
    with pytest.raises(SniffError, match="not a CDR CSV"):
        sniff(lines, source="cdr_custom.csv")


def test_cdr_custom_column_count_must_match():
    with pytest.raises(SniffError) as exc:
        sniff(sample("asterisk_cdr_custom.csv"), "start,end,src,dst", source="/x/c.csv")
    assert str(exc.value).startswith(
        "/x/c.csv: first line has 21 columns, but the configured columns name 4")
    with pytest.raises(SniffError, match="must include start"):
        sniff(sample("asterisk_cdr_custom.csv"), "src,dst", source="/x/c.csv")


def test_unknown_content_names_the_file_and_its_first_line():
    with pytest.raises(SniffError) as exc:
        sniff(["", CEL_LINE], source="/var/log/asterisk/cel-custom/Master.csv")
    message = str(exc.value)
    assert message.startswith("/var/log/asterisk/cel-custom/Master.csv: not a CDR CSV or "
                              'queue_log file (first line: "CHAN_START",')
    assert message.endswith("…)")


def test_a_damaged_first_line_is_passed_over():
    lines = sample("asterisk_master_21.csv")
    assert sniff(["\x00" * 30, *lines[1:]]) is FileKind.CDR_CSV
    assert sniff(["garbage", *sample("asterisk_queue_log")]) is FileKind.QUEUE_LOG


def test_empty_file_is_not_guessed():
    with pytest.raises(SniffError, match="empty"):
        sniff(["", "  "], source="queue_log")
    assert not FileKind.QUEUE_LOG.is_cdr
