"""``make bench``: how the sync scales with history, and how fast a backfill goes.

For each history size, a fresh database gets that many CDR rows of demo-PBX traffic through the
sync (the backfill, timed as rows per second); then 1,000 new CDR rows are appended to the files
and one sync is timed, three times. A sync that reads only what is new costs the same after
10,000 and after 1,000,000 rows. Results go to bench/RESULTS.md.

    python -m bench.run                     # 10,000 and 1,000,000 rows of history, SQLite
    python -m bench.run --history 10000 --database postgresql
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from callback_module import create_app
from callback_module.connectors.demo_traffic import DEMO_GROUPS, DEMO_USERS, DemoPbx
from callback_module.extensions import db
from callback_module.models import ConnectorConfig, Group, Settings, User
from callback_module.sync import run_sync

RESULTS = Path(__file__).with_name("RESULTS.md")
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RATE = 3000  # calls per simulated hour: a busy PBX, so a million rows is a few weeks


def traffic(rows_wanted: int, start: datetime):
    """Demo-PBX calls from ``start`` on until they hold ``rows_wanted`` CDR rows."""
    pbx = DemoPbx(11, rate_per_hour=RATE, tz=UTC)
    at, rows = start, 0
    while rows < rows_wanted:
        for call in pbx.calls_between(at, at + timedelta(hours=1)):
            rows += len(call.cdr_lines)
            yield call
            if rows >= rows_wanted:
                return
        at += timedelta(hours=1)


def write(calls, cdr: Path, qlog: Path) -> int:
    rows = 0
    with open(cdr, "a") as c, open(qlog, "a") as q:
        for call in calls:
            c.writelines(call.cdr_lines)
            q.writelines(call.queue_log_lines)
            rows += len(call.cdr_lines)
    return rows


def database(kind: str, workdir: Path) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", lambda: None
    name = f"callback_bench_{os.getpid()}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, drop


def setup(cdr: Path, qlog: Path) -> None:
    db.create_all()
    settings = Settings.load()
    settings.timezone, settings.period = "UTC", "LAST_7_DAYS"
    groups = {}
    for g in DEMO_GROUPS:
        groups[g.name] = Group(name=g.name, type=g.type, pbx_id=g.pbx_id)
        groups[g.name].set_extensions(list(g.members))
    db.session.add_all(groups.values())
    db.session.add_all(User(username=u.username, name=u.name, extension=u.extension,
                            groups=[groups[n] for n in u.groups]) for u in DEMO_USERS)
    row = ConnectorConfig.load()
    row.type, row.config = "asterisk_files", {"cdr_path": str(cdr), "queue_log_path": str(qlog)}
    db.session.commit()


def measure(history: int, kind: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url, drop = database(kind, workdir)
        cdr, qlog = workdir / "Master.csv", workdir / "queue_log"
        cdr.touch()
        qlog.touch()
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "CALLBACK_LOG_FILE": str(workdir / "log")})
        try:
            with app.app_context():
                setup(cdr, qlog)
                calls = traffic(history + 3 * 1000 + 100, datetime(2026, 1, 5, tzinfo=UTC))
                rows = write(_take_rows(calls, history), cdr, qlog)
                started = time.perf_counter()
                while (run := run_sync("bench")) and run.lines_read:
                    pass
                backfill_s = time.perf_counter() - started
                syncs = []
                for _ in range(3):
                    new_rows = write(_take_rows(calls, 1000), cdr, qlog)
                    started = time.perf_counter()
                    run = run_sync("bench")
                    syncs.append(time.perf_counter() - started)
                    assert run.state == "ok" and run.legs_new == new_rows, run.error
                db.session.remove()
                db.engine.dispose()
        finally:
            drop()
    return {"history": rows, "backfill_s": backfill_s, "rows_per_s": rows / backfill_s,
            "sync_s": statistics.median(syncs), "sync_all": syncs,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _take_rows(calls, rows_wanted: int) -> list:
    taken, rows = [], 0
    for call in calls:
        taken.append(call)
        rows += len(call.cdr_lines)
        if rows >= rows_wanted:
            break
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", default="10000,1000000",
                        help="comma-separated history sizes in CDR rows")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    results = []
    for size in (int(s) for s in args.history.split(",")):
        print(f"history {size:,} rows on {args.database} …", flush=True)
        result = measure(size, args.database)
        print(f"  backfill {result['rows_per_s']:,.0f} rows/s, sync of 1,000 new rows "
              f"{result['sync_s']:.2f} s (runs {', '.join(f'{s:.2f}' for s in result['sync_all'])})"
              f", peak RSS {result['max_rss_mb']:.0f} MB", flush=True)
        results.append(result)
    report(results, args.database)


def report(results: list[dict], kind: str) -> None:
    lines = [f"| {r['history']:,} | {r['backfill_s']:.0f} s | {r['rows_per_s']:,.0f} | "
             f"{r['sync_s']:.2f} s | {r['max_rss_mb']:.0f} MB |" for r in results]
    block = "\n".join([
        f"## {kind}, {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "",
        "| history (CDR rows) | backfill time | backfill rows/s | sync of 1,000 new rows "
        "(median of 3) | peak RSS |",
        "|---|---|---|---|---|",
        *lines, "", ""])
    head = "# Benchmark results\n\nWritten by `make bench` (bench/run.py).\n\n"
    old = RESULTS.read_text() if RESULTS.exists() else head
    if not old.startswith("# Benchmark results"):
        old = head
    RESULTS.write_text(old.rstrip() + "\n\n" + block)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
