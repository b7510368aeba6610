"""CDR parsing against the run A recordings of the Asterisk 20 lab (fixtures/asterisk).

tests/data/asterisk_master_21.csv, asterisk_cdr_custom.csv and asterisk_cdr_sqlite3.csv are
run A's files unchanged; asterisk_master_16.csv and _18.csv are Master.csv with the trailing
columns dropped (what cdr_csv writes without newcdrcolumns, and without loguniqueid too).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callback_module.parsers.cdr import CdrLayout, detect_cdr_layout, parse_cdr
from callback_module.parsers.follower import read_lines
from callback_module.parsers.problems import ParseProblem
from callback_module.records import Leg

DATA = Path(__file__).parent / "data"
# The fields = line of fixtures/asterisk/config/cdr_custom.conf.
CUSTOM_FIELDS = ("start,answer,end,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata,"
                 "duration,billsec,disposition,amaflags,accountcode,uniqueid,linkedid,"
                 "peeraccount,sequence,userfield")


def t(hms: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-22T{hms}+00:00")


def parse(lines, layout=None, tz=UTC, source="Master.csv"):
    lines = list(lines)
    layout = layout or detect_cdr_layout(text for _, text in lines)
    out = list(parse_cdr(lines, layout, tz, source))
    return ([x for x in out if isinstance(x, Leg)], [x for x in out if isinstance(x, ParseProblem)])


def load(name, layout=None, tz=UTC):
    legs, problems = parse(read_lines(DATA / name), layout, tz, name)
    assert problems == []
    return legs


def numbered(texts):
    return list(enumerate(texts, 1))


@pytest.fixture(scope="module")
def master():
    return load("asterisk_master_21.csv")


def test_s03_voicemail_row_is_answered_without_dstchannel(master):
    (vm,) = [leg for leg in master if leg.lastapp == "VoiceMail"]
    assert (vm.dstchannel, vm.disposition, vm.billsec, vm.lastdata) == (
        "", "ANSWERED", 9, "200@default,u")
    assert (vm.start, vm.answer, vm.end) == (t("06:11:56"), t("06:11:56"), t("06:12:05"))
    assert (vm.call_key, vm.key, vm.sequence) == ("1795327896.6", "1795327896.6/12", 12)
    assert vm.clid == '"Weber" <+49301110004>'


def test_s01_queue_legs_answered_by_the_pbx_before_the_queue(master):
    s01 = [leg for leg in master if leg.call_key == "1795327866.0"]
    assert [(leg.dstchannel, leg.disposition, leg.billsec) for leg in s01] == [
        ("SIP/201-00000001", "NO ANSWER", 8), ("SIP/202-00000002", "NO ANSWER", 7)]
    assert all(leg.answer == leg.start == t("06:11:06") for leg in s01)
    assert [leg.key for leg in s01] == ["1795327866.0/0", "1795327866.0/3"]


def test_times_are_aware_utc_and_empty_answer_is_none(master):
    assert all(leg.start.utcoffset() == timedelta(0) for leg in master)
    busy = next(leg for leg in master if leg.disposition == "BUSY")
    assert busy.answer is None and busy.dstchannel == "SIP/204-00000008"


def test_local_time_is_converted_with_the_pbx_timezone():
    legs = load("asterisk_master_21.csv", tz=ZoneInfo("Europe/Berlin"))
    assert legs[0].start == t("05:11:06") and legs[0].start.tzinfo is UTC


def test_numbers_are_kept_exactly_as_the_pbx_wrote_them(master):
    assert {"0049301110005", "+49301110005", "0301110003"} <= {leg.dst for leg in master}
    assert {"0301110003", "anonymous"} <= {leg.src for leg in master}


def shape(legs):
    return {(leg.call_key, leg.dstchannel, leg.disposition, leg.start) for leg in legs}


def test_all_three_cdr_sources_of_a_run_give_the_same_legs(master):
    custom = load("asterisk_cdr_custom.csv", CdrLayout.from_fields(CUSTOM_FIELDS))
    sqlite = load("asterisk_cdr_sqlite3.csv")
    assert len(master) == len(custom) == len(sqlite) == 42
    assert shape(master) == shape(custom) == shape(sqlite)
    assert {leg.key for leg in master} == {leg.key for leg in custom} == {leg.key for leg in sqlite}


def test_calldate_export_derives_end_and_answer_from_durations(master):
    sqlite = {leg.key: leg for leg in load("asterisk_cdr_sqlite3.csv")}
    s04 = sqlite["1795327931.9/13"]
    assert (s04.start, s04.answer, s04.end, s04.billsec) == (
        t("06:12:11"), t("06:12:15"), t("06:12:21"), 6)
    assert sqlite["1795327896.6/8"].answer is None  # S03 203 rang out
    assert sqlite["1795328063.29/49"].answer is not None  # S09 Hangup(): ANSWERED, billsec 0
    # CDR seconds are truncated, so calldate+duration can miss the real end by a second.
    for leg in master:
        assert abs(sqlite[leg.key].end - leg.end) <= timedelta(seconds=1)


def test_freepbx_cdr_export_keeps_did_and_ignores_extra_columns():
    text = ("calldate,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata,duration,"
            "billsec,disposition,amaflags,accountcode,uniqueid,userfield,did,recordingfile,"
            "cnum,linkedid,peeraccount,sequence\n"
            '2026-11-22 06:11:06,"""Mueller"" <+49301110001>",+49301110001,4930555100,'
            "from-pstn,SIP/carrier-00000000,SIP/201-00000001,Queue,\"support,r,,,30\",8,8,"
            "NO ANSWER,3,,1795327866.0,,4930555100,,,1795327866.0,,0\n")
    (leg,), problems = parse(numbered(text.splitlines()), source="cdr.csv")
    assert problems == []
    assert (leg.did, leg.key, leg.answer, leg.end) == (
        "4930555100", "1795327866.0/0", t("06:11:06"), t("06:11:14"))


def test_16_columns_have_no_uniqueid_so_calls_are_keyed_by_channel_and_start():
    legs = load("asterisk_master_16.csv")
    assert shape(legs) and len(legs) == 42
    first = legs[0]
    assert first.call_key == "SIP/carrier-00000000@2026-11-22T06:11:06+00:00"
    assert first.key == "/SIP/carrier-00000000/SIP/201-00000001/2026-11-22T06:11:06+00:00"
    assert (first.uniqueid, first.linkedid, first.sequence) == ("", "", None)


def test_18_columns_group_by_uniqueid(master):
    legs = load("asterisk_master_18.csv")
    assert shape(legs) == shape(master)
    assert legs[0].key == "1795327866.0/SIP/carrier-00000000/SIP/201-00000001/" \
                          "2026-11-22T06:11:06+00:00"


def reshape(keep, userfield=""):
    """Master.csv rows cut down to the columns ``keep`` (indexes into the 21-column layout)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader((DATA / "asterisk_master_21.csv").read_text().splitlines()):
        row[17] = userfield
        writer.writerow([row[i] for i in keep])
    return numbered(out.getvalue().splitlines())


BASE = list(range(16))


@pytest.mark.parametrize(("keep", "uniqueid", "linkedid"), [
    pytest.param([*BASE, 16], True, False, id="17-loguniqueid"),
    pytest.param([*BASE, 17], False, False, id="17-loguserfield"),
    pytest.param([*BASE, 18, 19, 20], False, True, id="19-newcdrcolumns-only"),
    pytest.param([*BASE, 16, 18, 19, 20], True, True, id="20-loguniqueid-newcdrcolumns"),
    pytest.param([*BASE, 17, 18, 19, 20], False, True, id="20-loguserfield-newcdrcolumns"),
])
def test_other_cdr_csv_option_sets(master, keep, uniqueid, linkedid):
    legs, problems = parse(reshape(keep, userfield="vip"))
    assert problems == [] and len(legs) == 42
    assert (legs[0].uniqueid == "1795327866.0") is uniqueid
    assert (legs[0].linkedid == "1795327866.0") is linkedid
    if linkedid:
        assert shape(legs) == shape(master) and legs[0].sequence == 0


def test_mixed_layouts_after_a_cdr_conf_change_are_all_read(master):
    old = read_lines(DATA / "asterisk_master_18.csv")[:10]
    new = read_lines(DATA / "asterisk_master_21.csv")[10:]
    legs, problems = parse(numbered([text for _, text in old + new]))
    assert problems == [] and len(legs) == 42
    assert legs[9].sequence is None and legs[10].sequence == 19


def test_cdr_custom_layout_from_config_forms():
    assert CdrLayout.from_fields(f"fields = {CUSTOM_FIELDS}").columns[:3] == (
        "start", "answer", "end")
    legacy = '"${CDR(clid)}","${CDR(src)}","${CDR(start)}","${CDR(end)}"'
    assert CdrLayout.from_fields(legacy).columns == ("clid", "src", "start", "end")
    with pytest.raises(ValueError, match="start"):
        CdrLayout.from_fields("src,dst,end")


def test_broken_lines_are_reported_and_the_rest_is_read():
    lines = [text for _, text in read_lines(DATA / "asterisk_master_21.csv")]
    lines[2] = lines[2].replace('"""Schmidt""', '""Sch"midt""')  # bad quoting
    lines[4] = lines[4].rsplit(",", 1)[0]  # a column missing
    lines[6] = "\x00" * 40  # NUL padding left by a crash
    lines[8] = lines[8].replace("2026-11-22 06:12:11", "2026-13-22 06:12:11", 1)
    lines[10] = lines[10].replace(",10,0,", ",ten,0,")
    lines[12] = ",".join(lines[12].split(",")[:12])  # cut far too short
    legs, problems = parse(numbered(lines))
    assert [(p.line_no, p.source) for p in problems] == [
        (3, "Master.csv"), (5, "Master.csv"), (7, "Master.csv"), (9, "Master.csv"),
        (11, "Master.csv"), (13, "Master.csv")]
    assert "quoting" in problems[0].reason
    assert "20 columns where the file starts with 21" in problems[1].reason
    assert "NUL" in problems[2].reason
    assert "start '2026-13-22 06:12:11'" in problems[3].reason
    assert "duration 'ten'" in problems[4].reason
    assert problems[5].reason == "10 columns, but cdr_csv writes 16 to 21"
    assert len(legs) == 42 - 6


def test_fixed_layouts_want_their_column_count():
    lines = read_lines(DATA / "asterisk_cdr_custom.csv")[:2]
    lines[1] = (2, lines[1][1] + ',"extra"')
    legs, problems = parse(lines, CdrLayout.from_fields(CUSTOM_FIELDS), source="cdr_custom.csv")
    assert len(legs) == 1
    assert problems == [ParseProblem("cdr_custom.csv", 2, "22 columns, expected 21 "
                                                         "(21-column CDR)")]


def test_latin1_caller_name_keeps_the_row(tmp_path):
    raw = (DATA / "asterisk_master_21.csv").read_bytes().replace(b"Mueller", "Müller".encode(
        "latin-1"))
    (tmp_path / "Master.csv").write_bytes(raw)
    legs, problems = parse(read_lines(tmp_path / "Master.csv"))
    assert problems == [] and legs[0].clid == '"Müller" <+49301110001>'


def test_header_row_is_skipped_even_when_repeated():
    lines = read_lines(DATA / "asterisk_cdr_sqlite3.csv")
    legs, problems = parse([*lines, (99, lines[0][1]), *lines[1:3]])
    assert problems == [] and len(legs) == 44


def test_detect_rejects_what_is_not_cdr():
    assert detect_cdr_layout(["1795327857|NONE|NONE|NONE|QUEUESTART|"]) is None
    cel = ('"CHAN_START","1795327866.156321","Mueller","+49301110001","","","","4930555100",'
           '"from-pstn","SIP/carrier-00000000","","","3","","1795327866.0","1795327866.0",'
           '"","","",""')
    assert detect_cdr_layout([cel]) is None
    assert detect_cdr_layout(["", "   "]) is None
