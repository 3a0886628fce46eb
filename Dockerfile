# newsflow worker image (used by docker-compose.yml).
# Build stage: a C compiler builds the wheels, the compiled entity decoder (_viterbi) included.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY workers ./workers
RUN pip wheel --wheel-dir /wheels .

# Runtime stage: slim, no compiler; installs only the wheels built above.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels newsflow \
    && rm -rf /wheels \
    && useradd --create-home newsflow && mkdir -p /data && chown newsflow /data
USER newsflow
WORKDIR /home/newsflow
ENV NEWSFLOW_DATA_DIR=/data NEWSFLOW_WEB_HOST=0.0.0.0
EXPOSE 6066
CMD ["newsflow", "worker"]
