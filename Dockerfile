# The product's image (docs/DEPLOY.md). A wheel of the product and wheels of its runtime
# dependencies, exactly those of the lock requirements/product.txt and checked against its
# hashes, are built in the first stage; the second, slim one installs only those, from
# those files, and runs as a user without rights. No sandbox, no development doubles, no test or
# lint tools. The schema is not migrated at start: `accountbot migrate` is a job of its own (the
# compose file's `migrate` service), so several instances never migrate at once.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements/product.txt requirements/product.txt
# The locked set first (its own layer, rebuilt only when the lock changes), hashes required.
RUN pip wheel --require-hashes --no-deps --wheel-dir /wheels -r requirements/product.txt \
    && pip install --no-index --find-links /wheels --no-deps babel
COPY pyproject.toml README.md babel.cfg ./
COPY core core
COPY bot bot
COPY web web
COPY accountbot accountbot
COPY locales locales
# The catalogs compiled from the translations (.po), whatever .mo files the tree holds.
# The product's own wheel without resolving again: the final stage finds every dependency,
# at its locked version, in /wheels and nowhere else (--no-index).
RUN pybabel compile -d locales -D messages --statistics \
    && pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels accountbot && rm -rf /wheels
# The wheel holds no catalogs: they go where core.i18n looks for them (LOCALES_DIR).
COPY --from=build /src/locales /tmp/locales
RUN dest="$(python -c 'from core.i18n import LOCALES_DIR; print(LOCALES_DIR)')" \
    && mkdir -p "$dest" && cd /tmp/locales \
    && find . -name '*.mo' -exec cp --parents {} "$dest" \; \
    && cd / && rm -rf /tmp/locales \
    && useradd --system --uid 10001 --home-dir /app --create-home accountbot
USER accountbot
WORKDIR /app
# In a container the servers listen on every interface; the compose file publishes neither
# port: the proxy reaches WEB_PORT, Prometheus METRICS_PORT, over the compose network.
ENV WEB_HOST=0.0.0.0 WEB_PORT=8080 METRICS_HOST=0.0.0.0 METRICS_PORT=9464 DATA_DIR=/app/var
EXPOSE 8080 9464
# Alive: the process answers; readiness (/readyz) is for the proxy, not for restarting.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('WEB_PORT', '8080'), timeout=4)"]
CMD ["accountbot", "run"]
