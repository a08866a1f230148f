#!/usr/bin/env python3
"""Screenshot of the dashboard for the README: ``docs/dashboard.png``.

Usage::

    .venv/bin/python scripts/screenshot.py [--out docs/dashboard.png] [--people 2000] [--seed 42] [--full]

Builds the demo organisation in a throwaway SQLite database (``micromoves init``, then the same generator
as ``micromoves demo``), creates the demo logins, serves the app on a free loopback port, logs in as the
demo employee through the login page with Debian's Chromium (``/usr/bin/chromium``, driven by
Playwright) and saves their dashboard: the full page down to the end of the skills (``--full``: all of it,
including the table of earlier moves). Nothing touches your own micromoves database.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from micromoves.services.demo import generate_demo
from micromoves.services.demo_logins import create_demo_logins
from micromoves.storage.db import Database
from micromoves.web.app import create_app

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"


def build_demo(path: Path, people: int, seed: int) -> tuple[Database, str, str]:
    """The demo org in the SQLite file ``path``; returns it with the employee's username and password."""
    micromoves = Path(sys.executable).with_name("micromoves")
    subprocess.run([str(micromoves), "--db", str(path), "init"], check=True, stdout=subprocess.DEVNULL)
    db = Database(f"sqlite:///{path}")
    generate_demo(db, people=people, seed=seed)
    employee = next(x for x in create_demo_logins(db) if x.kind == "employee")
    return db, employee.username, employee.password


def serve(db: Database) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(db), log_level="warning", lifespan="off"))
    # Not the main thread: uvicorn leaves signal handling alone; `should_exit` stops it.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        raise SystemExit("the server did not start")
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


def shoot(base: str, username: str, password: str, out: Path, width: int, height: int, *, full: bool) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(f"{base}/login")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            expect(page.locator("#person-name")).to_be_visible()
            out.parent.mkdir(parents=True, exist_ok=True)
            if full:
                page.screenshot(path=str(out), full_page=True)
            else:
                # Down to the end of the skills: the long tail (the table of other moves repeats the
                # timeline) would only push the PNG past a size a README should carry.
                box = page.locator("section", has=page.locator("#skills")).bounding_box()
                assert box is not None
                bottom = int(box["y"] + box["height"]) + 16
                page.screenshot(path=str(out), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": bottom})
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "dashboard.png")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--full", action="store_true", help="the whole page, not only down to the skills")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="micromoves-screenshot-") as tmp:
        db, username, password = build_demo(Path(tmp) / "demo.sqlite3", args.people, args.seed)
        server, thread, base = serve(db)
        try:
            shoot(base, username, password, args.out, args.width, args.height, full=args.full)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            db.dispose()
    print(f"saved {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
