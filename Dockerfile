# newsflow worker image (used by docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY workers ./workers
RUN pip install --no-cache-dir . && useradd --create-home newsflow && mkdir -p /data && chown newsflow /data
USER newsflow
ENV NEWSFLOW_DATA_DIR=/data NEWSFLOW_WEB_HOST=0.0.0.0
EXPOSE 6066
CMD ["newsflow", "worker"]
