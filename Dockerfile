# syntax=docker/dockerfile:1
#
# flb-fast image: the wheel (with the compiled flb_fast._core) is built in a throw-away stage that
# has a compiler; the runtime stage gets only installed wheels, no compiler and no sources.
# Paths are those of the AWS for Fluent Bit image, so DaemonSets and configs written for it carry
# over: the config at /fluent-bit/etc/fluent-bit.conf, Fluent Bit's standard parsers at
# /fluent-bit/parsers/parsers.conf (and /fluent-bit/etc/parsers.conf, which a ConfigMap mounted on
# /fluent-bit/etc hides, as it does in the AWS image). The bundled parsers are also loaded without
# any Parsers_File, so `Parser docker` works either way.
#
#   docker build -t flb-fast .
#   docker run --rm -v "$PWD/fluent-bit.conf:/fluent-bit/etc/fluent-bit.conf:ro" flb-fast
#
# The image runs as an unprivileged user by default; deploy/ explains why the DaemonSet runs it
# as root (reading /var/log/pods and writing the tail DB on the node).

ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY src ./src
# flb-fast's wheel (Cython compiles _core here) and a wheel of every dependency, so the runtime
# stage installs offline and exactly what was resolved here.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:${PYTHON_VERSION}-slim
# The wheels are bind-mounted for the install only, so they never become a layer of the image.
# /fluent-bit/bin/fluent-bit is the AWS image's binary: a DaemonSet or task definition that sets
# `command: [/fluent-bit/bin/fluent-bit, -e, /fluent-bit/cloudwatch.so, -c, ...]` runs flb-fast
# unchanged (it takes fluent-bit's flags and ignores -e, its Go plugins being built in).
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels flb-fast \
    && mkdir -p /fluent-bit/bin \
    && ln -s "$(command -v flb-fast)" /fluent-bit/bin/fluent-bit \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin flb-fast
COPY src/flb_fast/data/parsers.conf /fluent-bit/parsers/parsers.conf
COPY src/flb_fast/data/parsers.conf /fluent-bit/etc/parsers.conf
USER 10001
# [SERVICE] HTTP_Port: the monitoring API (/api/v1/metrics, /api/v1/health).
EXPOSE 2020
ENTRYPOINT ["flb-fast"]
CMD ["-c", "/fluent-bit/etc/fluent-bit.conf"]
