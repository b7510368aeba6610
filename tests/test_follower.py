from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from callback_module.parsers.follower import read_lines, read_new

DATA = Path(__file__).parent / "data"
QUEUE_LOG = (DATA / "asterisk_queue_log").read_text().splitlines()


def write(path: Path, text: str, mode: str = "a") -> None:
    with open(path, mode, encoding="utf-8", newline="") as f:
        f.write(text)


def texts(lines):
    return [text for _, text in lines]


@pytest.fixture
def log(tmp_path):
    return tmp_path / "queue_log"


def test_missing_file_gives_nothing_and_keeps_the_cursor(log):
    assert read_new(log, None) == ([], {})
    cursor = {"inode": 1, "offset": 10, "line_no": 2}
    assert read_new(log, cursor) == ([], cursor)


def test_append_reads_only_new_lines_with_their_numbers(log):
    write(log, "\n".join(QUEUE_LOG[:3]) + "\n")
    lines, cursor = read_new(log, None)
    assert lines == list(enumerate(QUEUE_LOG[:3], 1))
    assert cursor == {"inode": os.stat(log).st_ino, "offset": log.stat().st_size, "line_no": 3}
    assert read_new(log, cursor) == ([], cursor)
    write(log, QUEUE_LOG[3] + "\n")
    lines, cursor = read_new(log, json.loads(json.dumps(cursor)))
    assert lines == [(4, QUEUE_LOG[3])] and cursor["line_no"] == 4


def test_partial_last_line_waits_until_it_is_complete(log):
    first, second = QUEUE_LOG[1], QUEUE_LOG[2]
    write(log, first + "\n" + second[:20])
    lines, cursor = read_new(log, None)
    assert lines == [(1, first)] and cursor["offset"] == len(first) + 1
    write(log, second[20:] + "\n")
    lines, cursor = read_new(log, cursor)
    assert lines == [(2, second)]


def test_rotation_by_rename_loses_and_repeats_nothing(tmp_path):
    path = tmp_path / "Master.csv"
    rows = [text for _, text in read_lines(DATA / "asterisk_master_21.csv")]
    write(path, "\n".join(rows[:5]) + "\n")
    seen, cursor = read_new(path, None)
    write(path, "\n".join(rows[5:8]) + "\n")  # written just before logrotate
    path.rename(tmp_path / "Master.csv.1")
    write(path, "\n".join(rows[8:10]) + "\n")
    lines, cursor = read_new(path, cursor)
    assert lines == [(6, rows[5]), (7, rows[6]), (8, rows[7]), (1, rows[8]), (2, rows[9])]
    assert cursor["inode"] == os.stat(path).st_ino and cursor["line_no"] == 2
    write(path, rows[10] + "\n")
    more, _ = read_new(path, cursor)
    assert texts(seen + lines + more) == rows[:11]


def test_rotated_file_gone_starts_the_new_file(log, tmp_path):
    write(log, QUEUE_LOG[0] + "\n")
    _, cursor = read_new(log, None)
    os.rename(log, tmp_path / "old")
    os.unlink(tmp_path / "old")
    write(log, QUEUE_LOG[1] + "\n")
    assert read_new(log, cursor)[0] == [(1, QUEUE_LOG[1])]


def test_truncation_restarts_from_the_top(log):
    write(log, "\n".join(QUEUE_LOG[:4]) + "\n")
    _, cursor = read_new(log, None)
    write(log, QUEUE_LOG[4] + "\n", mode="w")
    lines, cursor = read_new(log, cursor)
    assert lines == [(1, QUEUE_LOG[4])] and cursor["line_no"] == 1


def test_truncated_and_regrown_past_the_offset_is_noticed(log):
    write(log, "\n".join(QUEUE_LOG[:2]) + "\n")
    _, cursor = read_new(log, None)
    write(log, "\n".join(QUEUE_LOG[10:14]) + "\n", mode="w")  # longer than before
    assert texts(read_new(log, cursor)[0]) == QUEUE_LOG[10:14]


def test_bytes_are_decoded_per_line(log):
    log.write_bytes(b"\xef\xbb\xbfutf8 M\xc3\xbcller\r\nlatin1 M\xfcller\n")
    lines, cursor = read_new(log, None)
    assert lines == [(1, "utf8 Müller"), (2, "latin1 Müller")]
    assert cursor["offset"] == log.stat().st_size


def test_small_reads_give_the_same_lines(tmp_path):
    path = tmp_path / "queue_log"
    write(path, "\n".join(QUEUE_LOG[:12]) + "\n")
    got, cursor = read_new(path, None, max_bytes=1)  # shorter than a line: still one line
    assert got == [(1, QUEUE_LOG[0])]
    path.rename(tmp_path / "queue_log.0")
    write(path, "\n".join(QUEUE_LOG[12:]) + "\n")
    for _ in range(100):
        lines, cursor = read_new(path, cursor, max_bytes=200)
        got += lines
    assert texts(got) == QUEUE_LOG


def test_read_lines_takes_a_last_line_without_newline(log):
    write(log, "a\nb")
    assert read_lines(log) == [(1, "a"), (2, "b")]
