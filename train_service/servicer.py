"""TrainingService: protobuf requests -> JobManager calls, nothing else."""

from __future__ import annotations

from quantamm_api.v1 import training_pb2, training_pb2_grpc
from train_service.manager import JobManager


class TrainingServicer(training_pb2_grpc.TrainingServiceServicer):
    """The RPCs of the training service over one JobManager."""

    def __init__(self, manager: JobManager) -> None:
        self.manager = manager

    def StartJob(self, request, context):
        return training_pb2.StartJobResponse(job_id=self.manager.start(request))

    def WatchJob(self, request, context):
        yield from self.manager.watch(request.job_id, context.is_active)

    def GetJob(self, request, context):
        return training_pb2.GetJobResponse(job=self.manager.get(request.job_id))

    def CancelJob(self, request, context):
        return training_pb2.CancelJobResponse(job=self.manager.cancel(request.job_id))

    def ListJobs(self, request, context):
        return training_pb2.ListJobsResponse(jobs=self.manager.list(request.state,
                                                                    request.page_size))

    def ResumeJob(self, request, context):
        return training_pb2.ResumeJobResponse(job=self.manager.resume(request.job_id))
