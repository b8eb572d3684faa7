# Giftwallet: two stages on python:3.11-slim. The dependencies are their own layer, so a change
# of code reinstalls nothing; the image runs as a non-root user.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
# The declared dependencies only (read from pyproject.toml), before any code is copied.
RUN python -m venv /venv \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && /venv/bin/pip install --no-cache-dir -r requirements.txt
COPY README.md ./
COPY bot ./bot
RUN /venv/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim
RUN groupadd --system --gid 10001 giftwallet \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin giftwallet \
    && mkdir -p /app /data \
    && chown giftwallet:giftwallet /data
COPY --from=build /venv /venv
WORKDIR /app
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data \
    WEBHOOK_HOST=0.0.0.0 \
    WEBHOOK_PORT=8080
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
# Slim has no curl: Python asks /healthz on the webhook port (or METRICS_PORT when polling).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]
# Webhook replicas by default; `python -m bot` (polling) is the override for one process.
CMD ["python", "-m", "bot", "webhook"]
