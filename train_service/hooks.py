"""What a running training method may ask of the job that runs it."""

from __future__ import annotations

from typing import Protocol

from quantamm_api.v1 import training_pb2


class Stopped(Exception):
    """The job was asked to stop (cancelled, or the server is shutting down); the method saved
    its last checkpoint before raising this."""


class TrainingFailed(Exception):
    """The method ran but produced nothing to return (the job ends FAILED with this message)."""


class JobHooks(Protocol):
    def should_stop(self) -> bool:
        """True once the job is cancelled or the server shuts down (checked every iteration)."""

    def report(self, progress: training_pb2.JobProgress, checkpoint: bytes | None = None) -> None:
        """Publish progress to watchers and persist it, with ``checkpoint`` in the same
        transaction when given."""
