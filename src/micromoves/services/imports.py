"""Importing data as an administrator, from files on disk (the CLI) or from uploads (the import page and
``POST /api/v1/imports``, which an HRIS integration calls): one code path, :func:`import_data`.

The admin check comes first, before an upload is written anywhere; then :func:`importing.import_files`
checks every file and writes all of them in one transaction, or nothing.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from micromoves.domain.errors import InvalidValue, PayloadTooLarge
from micromoves.services import importing
from micromoves.services.importing import ImportSummary, Progress
from micromoves.services.policy import Policy
from micromoves.settings import Settings, get_settings
from micromoves.storage.db import Database

MAX_UPLOADS = 20  # one import: people, roles, role skills and moves, split over a few files at most
# A file name as problems will name it ("moves.csv:12:status: …"): no directories, nothing a shell or a
# terminal would read specially.
UPLOAD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,99}")
UPLOAD_SUFFIXES = (".csv", ".json")


@dataclass(frozen=True)
class Upload:
    """A file sent to the import page or API: its name as the client gave it, and its bytes."""

    name: str
    stream: BinaryIO


def import_data(
    db: Database,
    policy: Policy,
    paths: Sequence[Path],
    *,
    kind: str | None = None,
    known_teams: bool = False,
    progress: Progress | None = None,
    settings: Settings | None = None,
    actor: str | None = None,
    wait_seconds: float | None = None,
) -> ImportSummary:
    """Import ``paths`` (all or nothing), as an administrator; ``kind`` says what every file holds when
    their names do not. ``actor``: the name the audit log records (default: the policy's principal; the
    CLI records its operator name, as its other commands do). ``wait_seconds``: how long to wait for another
    import to finish (:func:`importing.import_files`)."""
    policy.require_admin("import data")
    if kind and kind not in importing.KINDS:
        raise InvalidValue(f"unknown import kind {kind!r}; one of {', '.join(importing.KINDS)}", field="kind")
    if kind and any(p.suffix.lower() == ".json" for p in paths):
        # A .json names what each of its lists holds; a kind given with it was silently ignored.
        raise InvalidValue("kind says what CSV files hold; a .json file names its lists itself", field="kind")
    kinds: Mapping[Path, str] | None = {p: kind for p in paths} if kind else None
    return importing.import_files(
        db,
        paths,
        actor=actor or policy.principal.actor,
        kinds=kinds,
        progress=progress,
        settings=settings,
        known_teams=known_teams,
        wait_seconds=wait_seconds,
    )


# An upload waits this long for another import to finish, then is refused (409): a request waiting its ten
# minutes, as the CLI does, held a pooled connection and a worker thread all along, and a client timing out
# and sending it again added another, until the app's whole pool waited on one import.
UPLOAD_WAIT_SECONDS = 5.0


def import_uploads(
    db: Database,
    policy: Policy,
    uploads: Sequence[Upload],
    *,
    kind: str | None = None,
    known_teams: bool = False,
    settings: Settings | None = None,
) -> ImportSummary:
    """Import uploaded files as :func:`import_data` imports files on disk. Each upload is copied under its
    base name into a private temporary folder (so problems name the file as the sender knows it), up to
    ``settings.import_upload_max_bytes`` in all."""
    settings = settings or get_settings()
    policy.require_admin("import data")
    names = [_upload_name(u.name) for u in uploads]
    if not names:
        raise InvalidValue(
            "no file to import: send teams.csv, people.csv, roles.csv, role_skills.csv, moves.csv or a .json file",
            field="files",
        )
    if len(names) > MAX_UPLOADS:
        raise InvalidValue(f"at most {MAX_UPLOADS} files in one import, got {len(names)}", field="files")
    folded = [n.casefold() for n in names]
    for name in names:
        if folded.count(name.casefold()) > 1:
            raise InvalidValue(f"{name}: sent twice; send each file once", field="files")
    with tempfile.TemporaryDirectory(prefix="micromoves-import-") as folder:
        paths = []
        left = settings.import_upload_max_bytes
        for upload, name in zip(uploads, names, strict=True):
            path = Path(folder) / name
            with path.open("wb") as out:
                # Copied in chunks and counted: the total is known only while reading (a chunked request
                # has no Content-Length), and a file past the limit must not fill the disk first.
                while chunk := upload.stream.read(1 << 20):
                    left -= len(chunk)
                    if left < 0:
                        raise too_large(settings)
                    out.write(chunk)
            paths.append(path)
        return import_data(
            db, policy, paths, kind=kind, known_teams=known_teams, settings=settings, wait_seconds=UPLOAD_WAIT_SECONDS
        )


def too_large(settings: Settings) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the files are larger than the {settings.import_upload_max_bytes:,} bytes an import may send "
        "(MICROMOVES_IMPORT_UPLOAD_MAX_BYTES); import them from the command line",
        field="files",
    )


def _upload_name(raw: str) -> str:
    # Browsers send a base name, but some clients send a path (C:\\exports\\moves.csv): the base name is
    # what the sender recognises, and a path must never choose where the copy is written.
    name = PureWindowsPath(PurePosixPath(raw or "").name).name.strip()
    if not UPLOAD_NAME.fullmatch(name) or not name.lower().endswith(UPLOAD_SUFFIXES):
        raise InvalidValue(
            f"{raw!r}: an import file is named like people.csv, moves.csv or export.json "
            "(letters, digits, '.', '_', '-' and spaces; .csv or .json)",
            field="files",
        )
    return name
