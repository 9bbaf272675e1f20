"""A real simulation server on a loopback port, shared by the service tests."""

import grpc
import numpy as np
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from quantamm_api.v1 import simulation_pb2_grpc, types_pb2
from quantamm.wire.tensors import to_tensor
from sim_service.server import create_server

S1_START, S1_END = 1672531200, 1688169600  # 2023-01-01, 2023-07-01 UTC


@pytest.fixture(scope="session")
def sim_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    server, _, port, servicer = create_server(host="127.0.0.1", port=0, data_dir=str(data_dir),
                                              max_request_cells=2e9)
    yield {"port": port, "servicer": servicer, "data_dir": data_dir}
    server.stop(0)


@pytest.fixture(scope="session")
def stub(sim_server):
    channel = grpc.insecure_channel(f"127.0.0.1:{sim_server['port']}")
    yield simulation_pb2_grpc.SimulationServiceStub(channel)
    channel.close()


def s1_fingerprint(**settings) -> types_pb2.RunFingerprint:
    return types_pb2.RunFingerprint(
        tokens=["BTC", "ETH", "USDC"], rule="momentum",
        start_time=Timestamp(seconds=S1_START), end_time=Timestamp(seconds=S1_END), **settings,
    )


def parameter_set(values: dict) -> types_pb2.ParameterSet:
    return types_pb2.ParameterSet(values={k: to_tensor(np.asarray(v, dtype=np.float64))
                                          for k, v in values.items()})
