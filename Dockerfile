# syntax=docker/dockerfile:1
# One image runs either service: `python -m sim_service` (the default) or `python -m train_service`.
#   docker build --target cpu -t quantamm:cpu .     (the default target)
#   docker build --target gpu -t quantamm:gpu .     (JAX's CUDA 12 wheels; the node brings the driver)
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# Build: the project and its dependencies in a virtual environment, copied whole into the runtime.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY quantamm_api ./quantamm_api
COPY quantamm ./quantamm
COPY client ./client
COPY sim_service ./sim_service
COPY train_service ./train_service
RUN pip install .

# The GPU build adds JAX's CUDA plugin at the jax version already installed.
FROM build AS build-gpu
RUN pip install "jax[cuda12]==$(python -c 'from importlib.metadata import version; print(version("jax"))')"

# Runtime: no compilers, no sources, a non-root user; the cache (bundled minute data and the
# JAX compilation cache) is the only place written to, so the root file system can be read-only.
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    QUANTAMM_CACHE_DIR=/var/cache/quantamm
RUN groupadd --system --gid 10001 quantamm \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin quantamm \
    && mkdir -p /var/cache/quantamm \
    && chown 10001:10001 /var/cache/quantamm
WORKDIR /var/cache/quantamm
EXPOSE 50051 50052
ENTRYPOINT ["python", "-m"]
CMD ["sim_service"]

FROM runtime AS gpu
ENV XLA_PYTHON_CLIENT_PREALLOCATE=false
COPY --from=build-gpu /opt/venv /opt/venv
USER 10001:10001

FROM runtime AS cpu
ENV JAX_PLATFORMS=cpu
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
