# fieldbot: polling by default; the database and photos live in the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PTB_TIMEDELTA=true \
    FIELDBOT_DB=/data/fieldbot.db \
    FIELDBOT_DATA_DIR=/data/files

WORKDIR /app
COPY pyproject.toml README.md ./
COPY fieldbot ./fieldbot
COPY conversations ./conversations
COPY faketelegram ./faketelegram
COPY faketwilio ./faketwilio
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /data fieldbot \
    && mkdir -p /data/files/photos && chown -R fieldbot /data

USER fieldbot
VOLUME ["/data"]
# Webhook mode listens here (set FIELDBOT_WEBHOOK_URL and run `fieldbot run --webhook`).
EXPOSE 8443
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
    CMD ["fieldbot", "health"]
CMD ["fieldbot", "run"]
