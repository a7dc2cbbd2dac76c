# The bot in one image: `python -m bot`, wizard state and (by default) the SQLite database under /app/data.
# Build: docker build -t duty-desk-bot .   Run: README, "Running in a container".
# .ci/check-container lints this file and replays its RUN steps in a fresh venv where there is no Docker.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Only what the package needs; the .po catalogues are read at start, so there is nothing to compile.
COPY pyproject.toml build/
COPY bot build/bot
COPY handlers build/handlers
COPY storage build/storage
COPY locales build/locales

# The Chinese font for the charts comes with the install (noto-cjk-sans-otc): no fonts-* package needed.
RUN pip install --no-cache-dir "./build[redis]" && rm -rf build

RUN groupadd --gid 10001 bot && useradd --uid 10001 --gid bot --create-home bot \
    && mkdir -p data && chown bot:bot data

USER 10001:10001

# Fails the build if the install is incomplete: the command line answers and the packaged font is there.
# Importing matplotlib here also builds its font cache once, instead of at the first chart.
RUN python -m bot --help >/dev/null \
    && python -c "from bot.services.fonts import cjk_font, packaged_font_file; assert packaged_font_file(); assert cjk_font()"

ENV DATABASE_URL=sqlite+aiosqlite:////app/data/bot.sqlite3 \
    HEALTH_PORT=8081
VOLUME ["/app/data"]
# 8080: the webhook (WEBHOOK_URL set); 8081: GET /health, /ready and /metrics (HEALTH_PORT)
EXPOSE 8080 8081

# Python rather than curl: the slim image has no curl, and the bot's own interpreter is always there.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['HEALTH_PORT'] + '/health', timeout=4)"]

ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
