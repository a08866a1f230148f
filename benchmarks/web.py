"""Web load test: 50 signed-in users against the real server on loopback, on a 10,000-person demo org.

``python -m benchmarks.web [--people N] [--users N] [--duration S] [--backend sqlite|postgresql]``

For each backend: build the demo organisation (SQLite in a temporary file; PostgreSQL in the database
``micromoves_bench_web``), create the demo logins plus one account per simulated user (employees with
moves and managers with reports), start ``uvicorn`` in a subprocess and run the load. Every user logs in
(``POST /api/v1/session``, session cookie), then loops over the dashboard (``/``), one move detail page
(``/moves/<id>``, a move the user may see: their own, or a report's for managers), the approvals queue
(``/approvals``) and ``/api/v1/health``, in random order, with a think time of 1–3 s (uniform) between
requests, locust-style. Latency is measured by the client, request sent to body read.

Reference, measured in the same run under the same load: ``/api/v1/health`` (no database, no
template) — the framework floor. A page's ratio says how much work it does on top of the floor.

Why this client: a lean asyncio httpx client (httpx is already a dev dependency). With think times the
load is ~20 requests/s, which one asyncio process generates with a few percent of one core, leaving the
two cores of a small machine to the server; locust would add gevent and its own workers for nothing, and
wrk cannot hold a per-user session with think times without Lua scripting.

Why two uvicorn workers: the sync endpoints are CPU-bound Python (GIL) in one process, so one worker per
core is the most that helps on a 2-core machine; more processes would only contend with each other and
with the load client.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.table import Table
from sqlalchemy import func, select

from benchmarks.common import console, fresh_database, timed
from micromoves.domain.model import MoveStatus
from micromoves.services import accounts
from micromoves.services.accounts import Access
from micromoves.services.demo import generate_demo
from micromoves.services.demo_logins import create_demo_logins
from micromoves.storage import tables as t
from micromoves.storage.db import Database

DB_NAME = "micromoves_bench_web"
PASSWORD = "bench-password-not-secret"
TARGET_P95_MS = 50.0
PAGES = ("dashboard", "move detail", "approvals", "health (reference)")


@dataclass(frozen=True)
class User:
    username: str
    password: str
    kind: str  # employee / manager
    move_id: str


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PAGES})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PAGES, 0))
    seconds: float = 0.0
    server_cpu: float = 0.0


# ------------------------------------------------------------------------------------------ setup


def prepare(backend: str, people: int, tmp: str) -> Database:
    db = fresh_database(backend, DB_NAME, tmp)
    with timed() as box:
        summary = generate_demo(db, people=people, seed=1)
    console.print(f"[{backend}] demo: {summary.people:,} people, {summary.moves:,} moves in {box[0]:.0f} s")
    if backend == "postgresql":
        # A freshly bulk-loaded database is not in steady state: autovacuum would start on the new tables
        # in the middle of the measurement. Vacuum and checkpoint first, as a maintained server would be.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")
            conn.exec_driver_sql("CHECKPOINT")
    return db


def make_users(db: Database, count: int) -> list[User]:
    """The demo logins (employee, manager, host manager) plus accounts for a mix of employees and managers."""
    demo = {x.kind: x for x in create_demo_logins(db)}
    m, p = t.moves.c, t.people.c
    taken = {x.person_id for x in demo.values() if x.person_id}
    users: list[User] = []
    with db.engine.connect() as conn:

        def latest_move(person_ids: list[str]) -> str | None:
            return conn.scalar(select(m.id).where(m.person_id.in_(person_ids)).order_by(m.start.desc(), m.id).limit(1))

        def reports(manager_id: str) -> list[str]:
            return list(conn.scalars(select(p.id).where(p.manager_id == manager_id)))

        for kind, key in (("employee", "employee"), ("manager", "manager"), ("manager", "host manager")):
            login = demo[key]
            assert login.person_id is not None
            own = [login.person_id] if kind == "employee" else reports(login.person_id)
            users.append(User(login.username, login.password, kind, latest_move(own) or ""))
        # Managers first: those whose reports have moves waiting for approval (a non-empty queue).
        n_managers = (count - len(users)) * 3 // 10
        managers = conn.execute(
            select(p.manager_id, func.count())
            .join(t.moves, m.person_id == p.id)
            .where(p.manager_id.is_not(None), m.status == MoveStatus.REQUESTED)
            .group_by(p.manager_id)
            .order_by(func.count().desc(), p.manager_id)
            .limit(n_managers + len(taken))
        ).all()
        chosen: list[tuple[str, str, list[str]]] = [
            ("manager", mid, reports(mid)) for mid, _ in managers if mid not in taken
        ][:n_managers]
        employees = conn.scalars(
            select(m.person_id)
            .where(m.status.in_([MoveStatus.ACTIVE, MoveStatus.COMPLETED, MoveStatus.REQUESTED]))
            .group_by(m.person_id)
            .order_by(m.person_id)
            .limit(count * 4)
        ).all()
        rng = random.Random(7)
        pool = [e for e in employees if e not in taken and e not in {c[1] for c in chosen}]
        chosen += [("employee", e, [e]) for e in rng.sample(pool, count - len(users) - len(chosen))]
        for kind, person_id, seen in chosen:
            users.append(User(f"bench-{person_id}".lower(), PASSWORD, kind, latest_move(seen) or ""))
    for user, (_, person_id, _) in zip(users[3:], chosen, strict=True):
        with db.write_engine.begin() as conn:
            conn.execute(t.users.delete().where(t.users.c.username == user.username))
        accounts.create_user(
            db, username=user.username, password=PASSWORD, access=Access.EMPLOYEE, person_id=person_id, actor="bench"
        )
    return users


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Database, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MICROMOVES_DATABASE_URL": db.url.render_as_string(hide_password=False)}
    cmd = [sys.executable, "-m", "uvicorn", "micromoves.web.wsgi:app", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(cmd, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not start within 60 s")


def server_cpu_seconds(server: subprocess.Popen[bytes]) -> float:
    """User + system CPU time of the server's processes (the uvicorn supervisor and its workers). Unlike
    latency, it hardly depends on what else the machine is running: the cost of a request, not its wait."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if server.pid in (pid, ppid):
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------------- load


async def one_user(base: str, user: User, start_at: float, stop_at: float, results: Results, seed: int) -> None:
    rng = random.Random(seed)
    paths = {
        "dashboard": "/",
        "move detail": f"/moves/{user.move_id}",
        "approvals": "/approvals",
        "health (reference)": "/api/v1/health",
    }
    async with httpx.AsyncClient(base_url=base, timeout=30, headers={"accept": "text/html"}) as client:
        r = await client.post("/api/v1/session", json={"username": user.username, "password": user.password})
        r.raise_for_status()
        await asyncio.sleep(max(0.0, start_at - time.monotonic()) + rng.uniform(0, 2))
        while time.monotonic() < stop_at:
            name = rng.choice(PAGES)
            began = time.perf_counter()
            try:
                response = await client.get(paths[name])
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            elapsed = time.perf_counter() - began
            if time.monotonic() < stop_at:
                results.latencies[name].append(elapsed)
                results.errors[name] += 0 if ok else 1
            await asyncio.sleep(rng.uniform(1.0, 3.0))


async def load(base: str, users: list[User], seconds: float, cpu: Callable[[], float]) -> Results:
    results = Results()
    start_at = time.monotonic() + 5 + len(users) * 0.05  # every user is logged in before the clock starts
    stop_at = start_at + seconds

    async def meter() -> None:
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        before = cpu()
        await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
        results.server_cpu = cpu() - before

    await asyncio.gather(meter(), *(one_user(base, u, start_at, stop_at, results, i) for i, u in enumerate(users)))
    results.seconds = seconds
    return results


# ------------------------------------------------------------------------------------------ report


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def print_table(backend: str, people: int, users: list[User], results: Results, workers: int) -> None:
    total = sum(len(v) for v in results.latencies.values())
    kinds = {k: sum(1 for u in users if u.kind == k) for k in ("employee", "manager")}
    table = Table(
        title=(
            f"web load test — {backend}, {people:,} people, {len(users)} users "
            f"({kinds['employee']} employees, {kinds['manager']} managers), think time 1–3 s, "
            f"{results.seconds:.0f} s, {total / results.seconds:.1f} requests/s, {workers} uvicorn workers, "
            f"1-min load average at the end {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
        ),
        title_justify="left",
        header_style="bold",
    )
    for col in ("page", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "p95 / reference", "target"):
        table.add_column(col)
    ref = percentile(results.latencies["health (reference)"], 95)
    for name in PAGES:
        values = results.latencies[name]
        p95 = percentile(values, 95) * 1000
        target = "-" if name.startswith("health") else ("ok" if p95 < TARGET_P95_MS else "MISSED")
        table.add_row(
            name,
            str(len(values)),
            f"{percentile(values, 50) * 1000:.1f}",
            f"{p95:.1f}",
            f"{percentile(values, 99) * 1000:.1f}",
            f"{max(values, default=float('nan')) * 1000:.1f}",
            str(results.errors[name]),
            f"{p95 / (ref * 1000):.1f}×",
            f"p95 < {TARGET_P95_MS:.0f} ms: {target}",
        )
    console.print(table)
    console.print(
        f"server CPU time during the run: {results.server_cpu:.1f} s, {results.server_cpu / total * 1000:.1f} ms per "
        "request (all pages together; independent of the machine's other load, unlike latency)"
    )


def run(backend: str, people: int, n_users: int, seconds: float, workers: int, tmp: str) -> None:
    db = prepare(backend, people, tmp)
    users = make_users(db, n_users)
    db.dispose()
    port = free_port()
    server = start_server(db, port, workers)
    try:
        results = asyncio.run(load(f"http://127.0.0.1:{port}", users, seconds, lambda: server_cpu_seconds(server)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print_table(backend, people, users, results, workers)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.web")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60, help="seconds of measured load per backend")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (one per core)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    args = parser.parse_args()
    console.print(f"load average before the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="micromoves-bench-web-") as tmp:
        for backend in args.backend or ["sqlite", "postgresql"]:
            run(backend, args.people, args.users, args.duration, args.workers, str(Path(tmp)))


if __name__ == "__main__":
    main()
