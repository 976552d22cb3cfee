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

# Dependencies first, exactly as locked (versions and hashes), so that a code change does not
# reinstall them and nothing unpinned gets in. requirements-runtime.lock is requirements.lock (what
# scripts/bootstrap.sh installs) less the test extras; both come from `make lock`, which also locks
# the pinned build backend (setuptools). All ship manylinux wheels with GDAL/PROJ/GEOS inside.
COPY requirements-runtime.lock ./
RUN pip install --require-hashes --no-deps -r requirements-runtime.lock

# Then the package itself, without resolving anything and built by the locked setuptools (no build
# isolation, which would fetch whatever setuptools is newest); data/ stays in /app, where
# `safeground demo load` looks for it.
COPY . .
COPY --from=map-assets /assets/node_modules /app/node_modules
RUN pip install --no-deps --no-build-isolation . \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin safeground \
 && mkdir -p /var/lib/safeground/rasters /var/lib/safeground/downloads \
 && chown -R 10001 /var/lib/safeground

# /app is root's and read-only to the service; what the service writes (the demo's modelled
# population raster, and the download cache of built whole-layer files, which may be lost at any
# time) goes to /var/lib/safeground, a volume that outlives any container.
ENV SAFEGROUND_MAPS_NODE_MODULES=/app/node_modules \
    SAFEGROUND_ANALYSIS_RASTER_DIR=/var/lib/safeground/rasters \
    SAFEGROUND_DOWNLOADS_CACHE_DIR=/var/lib/safeground/downloads
VOLUME ["/var/lib/safeground"]

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
# Serving only: migrations run once, elsewhere (the `migrate` service of docker-compose.yml).
CMD ["safeground", "serve", "--host", "0.0.0.0", "--port", "8000"]
