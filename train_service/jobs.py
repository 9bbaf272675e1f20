"""The durable job store: SQLAlchemy Core over an RDB URL (SQLite by default, PostgreSQL via
``postgresql+psycopg://...``).

Tables: ``train_jobs`` (one row per job: state, the StartJobRequest, latest progress and result
as serialized protobuf, a message, times) and ``train_checkpoints`` (a job's latest checkpoint:
written with the progress row in one transaction that replaces the previous one, so no
iteration rewrites a growing file).
A store belongs to one training server: on start it marks the jobs it left RUNNING as
INTERRUPTED (studies, not job stores, are what several workers share).

Every operation is one transaction, retried while the database is unreachable or locked (a
restarting PostgreSQL, a busy SQLite file) for up to ``retry_seconds``; after that it raises
``StoreUnavailable``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pathlib
import time
from typing import Callable, Iterable, TypeVar

import sqlalchemy as sa
import structlog

from quantamm_api.v1 import training_pb2
from train_service.errors import StoreUnavailable

log = structlog.get_logger(__name__)
T = TypeVar("T")
MAX_PAUSE_SECONDS = 2.0

QUEUED = training_pb2.JOB_STATE_QUEUED
RUNNING = training_pb2.JOB_STATE_RUNNING
INTERRUPTED = training_pb2.JOB_STATE_INTERRUPTED
TERMINAL = frozenset({training_pb2.JOB_STATE_SUCCEEDED, training_pb2.JOB_STATE_FAILED,
                      training_pb2.JOB_STATE_CANCELLED})

metadata = sa.MetaData()
jobs = sa.Table(
    "train_jobs", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("state", sa.Integer, nullable=False, index=True),
    sa.Column("request", sa.LargeBinary, nullable=False),
    sa.Column("progress", sa.LargeBinary),
    sa.Column("result", sa.LargeBinary),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("created", sa.Float, nullable=False, index=True),  # unix seconds
    sa.Column("updated", sa.Float, nullable=False),
)
checkpoints = sa.Table(
    "train_checkpoints", metadata,
    sa.Column("job_id", sa.String(64), sa.ForeignKey("train_jobs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("iteration", sa.BigInteger, primary_key=True),
    sa.Column("blob", sa.LargeBinary, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
)


@dataclasses.dataclass(frozen=True)
class JobRecord:
    id: str
    display_name: str
    state: int
    request: bytes
    progress: bytes | None
    result: bytes | None
    message: str
    created: float
    updated: float


def default_url() -> str:
    """``sqlite:///$QUANTAMM_CACHE_DIR/train.sqlite`` (``~/.cache/quantamm`` when unset)."""
    folder = os.environ.get("QUANTAMM_CACHE_DIR") or pathlib.Path.home() / ".cache" / "quantamm"
    return f"sqlite:///{pathlib.Path(folder) / 'train.sqlite'}"


def redacted(url: str) -> str:
    """The URL with any password masked (for logs)."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _engine(url: str) -> sa.Engine:
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    path = sa.engine.make_url(url).database
    if path and path != ":memory:":
        pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    timeout = {} if "timeout" in sa.engine.make_url(url).query else {"timeout": 60}
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, **timeout})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(connection, _record):  # WAL: readers do not block the writer
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _transient(error: sa.exc.DBAPIError) -> bool:
    """Whether ``error`` says the database is unreachable or busy (worth retrying)."""
    return isinstance(error, sa.exc.OperationalError) or error.connection_invalidated


def _retried(operation: Callable[..., T]) -> Callable[..., T]:
    """``operation`` (one transaction) retried with backoff on transient database errors for
    ``self.retry_seconds``, then ``StoreUnavailable``."""

    @functools.wraps(operation)
    def retrying(self: "JobStore", *args, **kwargs) -> T:
        pause, started = 0.1, time.monotonic()
        while True:
            try:
                return operation(self, *args, **kwargs)
            except sa.exc.DBAPIError as error:
                if not _transient(error):
                    raise
                waited = time.monotonic() - started
                reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
                if waited >= self.retry_seconds:
                    raise StoreUnavailable(f"job store unreachable for {waited:.0f} s "
                                           f"({reason})") from error
                log.warning("store_retry", operation=operation.__name__, error=reason,
                            seconds=round(waited, 1))
                time.sleep(pause)
                pause = min(2 * pause, MAX_PAUSE_SECONDS)

    return retrying


class JobStore:
    """Jobs, their progress, checkpoints and results in one RDB (thread-safe); operations are
    retried while the database is unreachable for up to ``retry_seconds``."""

    def __init__(self, url: str, retry_seconds: float = 30.0) -> None:
        self.url = url
        self.retry_seconds = retry_seconds
        self._engine = _engine(url)
        self._create_tables()

    @_retried
    def _create_tables(self) -> None:
        metadata.create_all(self._engine)

    @_retried
    def create(self, job_id: str, request: bytes, display_name: str) -> None:
        now = time.time()
        with self._engine.begin() as db:
            db.execute(jobs.insert().values(id=job_id, display_name=display_name, state=QUEUED,
                                            request=request, message="", created=now,
                                            updated=now))

    @_retried
    def transition(self, job_id: str, from_states: Iterable[int], to_state: int,
                   message: str | None = None, result: bytes | None = None) -> bool:
        """Set the state (and message/result) iff the job is in one of ``from_states``."""
        values = {"state": to_state, "updated": time.time()}
        if message is not None:
            values["message"] = message
        if result is not None:
            values["result"] = result
        with self._engine.begin() as db:
            changed = db.execute(jobs.update().where(jobs.c.id == job_id)
                                 .where(jobs.c.state.in_(list(from_states))).values(**values))
        return changed.rowcount == 1

    @_retried
    def save_progress(self, job_id: str, progress: bytes, checkpoint: bytes | None = None,
                      iteration: int | None = None) -> None:
        """Store the latest progress, and a checkpoint at ``iteration`` (replacing older ones)
        in the same transaction."""
        now = time.time()
        with self._engine.begin() as db:
            db.execute(jobs.update().where(jobs.c.id == job_id)
                       .values(progress=progress, updated=now))
            if checkpoint is not None:
                db.execute(checkpoints.delete().where(checkpoints.c.job_id == job_id))
                db.execute(checkpoints.insert().values(job_id=job_id, iteration=iteration,
                                                       blob=checkpoint, created=now))

    @_retried
    def latest_checkpoint(self, job_id: str) -> bytes | None:
        with self._engine.connect() as db:
            row = db.execute(sa.select(checkpoints.c.blob)
                             .where(checkpoints.c.job_id == job_id)
                             .order_by(checkpoints.c.iteration.desc()).limit(1)).first()
        return row.blob if row else None

    @_retried
    def get(self, job_id: str) -> JobRecord | None:
        with self._engine.connect() as db:
            row = db.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        return JobRecord(**row._mapping) if row else None

    @_retried
    def list(self, state: int = 0, limit: int = 100) -> list[JobRecord]:
        """Jobs, newest first (only ``state`` when non-zero)."""
        query = sa.select(jobs).order_by(jobs.c.created.desc(), jobs.c.id).limit(limit)
        if state:
            query = query.where(jobs.c.state == state)
        with self._engine.connect() as db:
            return [JobRecord(**row._mapping) for row in db.execute(query)]

    @_retried
    def ids_in(self, state: int) -> list[str]:
        with self._engine.connect() as db:
            return list(db.execute(sa.select(jobs.c.id).where(jobs.c.state == state)
                                   .order_by(jobs.c.created)).scalars())

    def close(self) -> None:
        self._engine.dispose()
