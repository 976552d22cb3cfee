# The SafeGround API, for a server deployment next to PostGIS: see docker-compose.yml.
# (For development and tests there is no need for Docker: `make demo`, `make test`.)
# The maps' front-end packages (Leaflet and its plugins), pinned by package-lock.json.
FROM node:20-bookworm-slim AS map-assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so that a code change does not reinstall them.
# (All of them ship manylinux wheels with GDAL/PROJ/GEOS inside: no apt packages needed.)
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Then the package itself; data/ stays in /app, where `safeground demo load` looks for it.
COPY . .
COPY --from=map-assets /assets/node_modules /app/node_modules
ENV SAFEGROUND_MAPS_NODE_MODULES=/app/node_modules
RUN pip install --no-deps . \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin safeground

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["safeground", "serve", "--host", "0.0.0.0", "--port", "8000"]
