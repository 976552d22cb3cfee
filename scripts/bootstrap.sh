#!/usr/bin/env bash
# Install what SafeGround needs on a Debian 12 machine: PostgreSQL 15 + PostGIS, GDAL and Node.js
# from apt, the Python package (with its test extras) in .venv and the maps' npm packages in
# node_modules. Idempotent and quick when all is there.
# Usage: scripts/bootstrap.sh [--browser]    (--browser also installs chromium and poppler-utils, for map tests)
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

say() { printf 'safeground: %s\n' "$*"; }
die() { printf 'safeground: error: %s\n' "$*" >&2; exit 1; }

browser=0
for arg in "$@"; do
  case $arg in
    --browser) browser=1 ;;
    -h | --help) sed -n '2,5s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $arg (usage: scripts/bootstrap.sh [--browser])" ;;
  esac
done

PYTHON=${PYTHON:-python3}
VENV=$ROOT/.venv
STAMP=$VENV/.installed

# --- system packages ------------------------------------------------------------------------------

packages=(postgresql-15 postgresql-15-postgis-3 gdal-bin)
# poppler-utils: the print tests rasterise the maps' PDFs (pdftoppm) and read their text (pdftotext)
[ "$browser" = 1 ] && packages+=(chromium poppler-utils)

# A python3 without the venv module (Debian's own, without python3-venv) cannot make .venv.
if command -v "$PYTHON" >/dev/null 2>&1 && ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  packages+=(python3-venv)
fi

installed() {
  if command -v dpkg-query >/dev/null 2>&1; then
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
  else # not Debian: look for what each package provides
    case $1 in
      postgresql-15) [ -x /usr/lib/postgresql/15/bin/postgres ] ;;
      postgresql-15-postgis-3) [ -f /usr/share/postgresql/15/extension/postgis.control ] ;;
      gdal-bin) command -v ogr2ogr >/dev/null 2>&1 ;;
      chromium) command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ;;
      poppler-utils) command -v pdftoppm >/dev/null 2>&1 ;;
      python3-qgis) /usr/bin/python3 -c 'import qgis.core' >/dev/null 2>&1 ;;
      *) return 1 ;;
    esac
  fi
}

missing=()
for pkg in "${packages[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done
# The maps' front-end packages (Leaflet and its plugins) come from npm (package-lock.json). Any
# node/npm on PATH will do (e.g. NodeSource's, which bundles npm); else Debian's.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing system packages: ${missing[*]}
  install them as root, then run this again:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing system packages (${missing[*]}) and no apt-get to install them"
  export DEBIAN_FRONTEND=noninteractive
  say "installing ${missing[*]} (apt-get)…"
  apt-get update -qq
  apt-get install -y -qq -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" </dev/null >/dev/null
fi

# QGIS's Python bindings, for the tests that load the vector tiles and the OGC API Features into
# QGIS headless (with Debian's /usr/bin/python3). Without its recommends: about 160 packages and
# 200 MB to fetch, instead of 220 and a desktop's worth.
if [ "$browser" = 1 ] && ! installed python3-qgis; then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing system package: python3-qgis
  install it as root, then run this again:
    sudo apt-get update && sudo apt-get install -y --no-install-recommends python3-qgis"
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing python3-qgis and no apt-get to install it"
  export DEBIAN_FRONTEND=noninteractive
  say "installing python3-qgis (apt-get, without recommends)…"
  [ "${#missing[@]}" -gt 0 ] || apt-get update -qq
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold python3-qgis </dev/null >/dev/null
fi

# --- Python ---------------------------------------------------------------------------------------

command -v "$PYTHON" >/dev/null 2>&1 || die "no $PYTHON on PATH (SafeGround needs Python >= 3.11)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  die "$("$PYTHON" -V 2>&1) is too old: SafeGround needs Python >= 3.11 (set PYTHON=/path/to/python3.11)"

if [ ! -x "$VENV/bin/python" ]; then
  say "creating .venv with $("$PYTHON" -V 2>&1)…"
  "$PYTHON" -m venv "$VENV"
elif ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
  die ".venv is broken or older than Python 3.11 (its interpreter may be gone): run 'make clean', then this again"
fi

# Two runs at once (make demo in one terminal, make test in another) must not both run pip.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$VENV/.lock"
  flock 9
fi

# The dependencies come from requirements.lock (exact versions with their hashes, made from
# pyproject.toml by `make lock`), then the package itself, editable, without resolving anything.
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ] || [ requirements.lock -nt "$STAMP" ]; then
  say "installing the safeground package and its locked dependencies into .venv (pip)…"
  # Stamp with the time pip started, so an edit to pyproject.toml during the install still counts.
  touch "$STAMP.new"
  # pip's own output goes to a log; shown only when it fails.
  log=$VENV/pip-install.log
  if ! { "$VENV/bin/pip" install --disable-pip-version-check --require-hashes --no-deps \
           -r requirements.lock &&
         "$VENV/bin/pip" install --disable-pip-version-check --no-deps -e .
       } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "pip install failed (full log: $log)"
  fi
  mv "$STAMP.new" "$STAMP"
  say "Python environment ready (.venv)"
fi

# --- map assets (npm) -----------------------------------------------------------------------------

# Leaflet and its plugins, pinned by package-lock.json; maps link or inline them from node_modules,
# never from a CDN. Install scripts are not needed (and not run).
NPM_STAMP=node_modules/.safeground-installed
if [ ! -f "$NPM_STAMP" ] || [ package-lock.json -nt "$NPM_STAMP" ] || [ package.json -nt "$NPM_STAMP" ]; then
  say "installing the maps' front-end packages into node_modules (npm ci)…"
  log=$VENV/npm-ci.log
  if ! npm ci --ignore-scripts --no-audit --no-fund >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "npm ci failed (full log: $log)"
  fi
  touch "$NPM_STAMP"
  say "map assets ready (node_modules)"
fi
