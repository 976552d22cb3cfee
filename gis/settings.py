"""Settings, one small class per concern, read from SAFEGROUND_* environment variables.

They are built once by `create_app(settings)` or the CLI and passed down; nothing reads the
environment at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Azerbaijan's extent (44.75, 38.39, 50.62, 41.91) plus about half a degree on each side.
AZERBAIJAN_AOI = (44.25, 37.89, 51.12, 42.41)


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEGROUND_DATABASE_", extra="ignore")

    url: str = Field(
        "postgresql+psycopg://postgres@127.0.0.1:5432/safeground",
        description="SQLAlchemy URL of the PostGIS database (psycopg 3 driver).",
    )
    pool_size: int = Field(10, ge=1, le=200)
    statement_timeout_ms: int = Field(60_000, ge=100)
    lock_timeout_ms: int = Field(
        2_000,
        ge=10,
        description="Longest wait for a lock (a table held by a migration or VACUUM FULL): the "
        "request then answers 503 instead of holding its connection.",
    )
    pool_timeout_s: float = Field(
        2.0, gt=0, le=60, description="Longest wait for a free pooled connection (then 503)."
    )
    connect_timeout_s: int = Field(
        3, ge=1, le=60, description="Longest wait to open a connection to an unreachable host."
    )

    @field_validator("url")
    @classmethod
    def _postgres_only(cls, url: str) -> str:
        if not url.startswith(("postgresql://", "postgresql+psycopg://")):
            raise ValueError(
                "SafeGround needs PostgreSQL + PostGIS: use a postgresql+psycopg:// URL"
            )
        return url.replace("postgresql://", "postgresql+psycopg://", 1)


class ImportSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEGROUND_IMPORT_", extra="ignore")

    max_upload_mb: float = Field(200, gt=0, description="Largest file accepted for import.")
    max_unzipped_mb: float = Field(
        1000, gt=0, description="Largest total size a zip may expand to."
    )
    aoi_bbox: tuple[float, float, float, float] = Field(
        AZERBAIJAN_AOI,
        description="Area of interest (min lon, min lat, max lon, max lat): features outside it are "
        "refused as probably wrong.",
    )
    lock_wait_s: float = Field(
        30.0,
        gt=0,
        description="How long an import waits for another import of the same layer (then 409).",
    )
    coordinate_decimals: int = Field(
        7,
        ge=5,
        le=9,
        description="Coordinates are stored rounded to this many decimals (7 ≈ 1 cm).",
    )

    @field_validator("aoi_bbox")
    @classmethod
    def _ordered(cls, bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        minx, miny, maxx, maxy = bbox
        if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
            raise ValueError("aoi_bbox must be min lon, min lat, max lon, max lat within ±180/±90")
        return bbox


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEGROUND_API_", extra="ignore")

    title: str = "SafeGround"
    cors_origins: list[str] = Field(default_factory=list)
    default_limit: int = Field(100, ge=1)
    max_limit: int = Field(10_000, ge=1)
    key_cache_seconds: float = Field(
        5.0,
        ge=0,
        le=300,
        description="How long an API key's role is remembered by each process (0: ask the database "
        "on every request); a revoked key stops working after at most this long.",
    )
    map_session_seconds: float = Field(
        900,
        ge=30,
        le=86_400,
        description="How long a served map may read the protected tiles and items it draws "
        "(its HttpOnly session cookie); then the map warns and asks to be reloaded.",
    )
    public_url: str | None = Field(
        None,
        description="Public base URL of the API (https://safeground.example.org); absolute links "
        "are built from it, never from the request's Host header.",
    )
    trusted_hosts: list[str] = Field(
        # testserver is the name Starlette's test client sends; it resolves nowhere.
        default_factory=lambda: ["127.0.0.1", "localhost", "::1", "testserver"],
        description="Host names the API answers to when no public_url is set; a request with any "
        "other Host header is refused (400), so no link can point elsewhere.",
    )
    heavy_concurrency: int = Field(
        4,
        ge=1,
        description="Heavy requests (analyses, maps, exports, imports) served at once per process; "
        "the rest of the pool stays free for item reads.",
    )
    heavy_per_key: int = Field(
        2, ge=1, description="Heavy requests one API key (or anonymous address) may run at once."
    )
    heavy_wait_s: float = Field(
        1.0, ge=0, le=60, description="How long a heavy request waits for a free slot (then 503)."
    )
    tile_cache_mb: float = Field(
        64,
        ge=0,
        description="Megabytes of built vector tiles each process keeps while their layer is "
        "unchanged (gis/tile_cache.py; 0: build every tile).",
    )

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, url: str | None) -> str | None:
        if url is None or not url.strip():
            return None
        if not url.startswith(("http://", "https://")):
            raise ValueError("public_url must start with http:// or https://")
        return url.rstrip("/")


# The modelled population raster `safeground demo load` writes, in the raster folder.
DEMO_POPULATION_RASTER = "population_modelled_1km.tif"


class AnalysisSettings(BaseSettings):
    """Limits and layer roles of the analyses (coverage, nearest, within, route check, exposure)."""

    model_config = SettingsConfigDict(env_prefix="SAFEGROUND_ANALYSIS_", extra="ignore")

    max_distance_m: float = Field(
        100_000, gt=0, le=1_000_000, description="Largest distance any analysis accepts, in metres."
    )
    max_route_km: float = Field(
        500, gt=0, le=20_000, description="Longest route a route check accepts."
    )
    hazard_layer: str = Field(
        "hazard_areas", description="The layer whose active features are dangers."
    )
    area_layer: str = Field(
        "districts", description="The areas results are summed up by (?district=)."
    )
    place_layer: str = Field(
        "villages", description="Coverage targets by default; ?village= looks here."
    )
    activity_layer: str = Field("outreach_sessions", description="What covers a target by default.")
    facility_layer: str = Field(
        "facilities", description="The facilities a visit map lists nearby."
    )
    route_context_layers: tuple[str, ...] = Field(
        ("facilities", "villages"), description="Layers listed along a route besides the hazards."
    )
    unknown_population: int = Field(
        500,
        ge=0,
        description="People assumed in a target of unknown population, for the priority "
        "score only (never in the people-at-risk figures).",
    )
    raster_dir: Path = Field(
        Path("var/rasters"),
        description="Writable state: where `safeground demo load` writes the demo's raster and "
        "relative raster paths are found (var/ is git-ignored; a volume in Docker).",
    )
    rasters: dict[str, str] = Field(
        default_factory=lambda: {"population": DEMO_POPULATION_RASTER},
        description="Rasters by key -> GeoTIFF path (relative: in raster_dir). Requests name a "
        "key, never a path.",
    )
    population_raster: str | None = Field(
        "population", description="Key of the population raster for exposure; none: villages."
    )

    def raster_path(self, key: str) -> Path:
        """The file of a configured raster."""
        path = Path(self.rasters[key])
        return path if path.is_absolute() else self.raster_dir / path

    @field_validator("population_raster")
    @classmethod
    def _no_empty_key(cls, key: str | None) -> str | None:
        return key or None


class DownloadSettings(BaseSettings):
    """The short-lived cache of built whole-layer files (gis.download_cache)."""

    model_config = SettingsConfigDict(env_prefix="SAFEGROUND_DOWNLOADS_", extra="ignore")

    cache_dir: Path = Field(
        Path("var/downloads"),
        description="Where built GeoPackage, FlatGeobuf and CSV downloads are kept for a while "
        "(a cache, never state: each process or replica may have its own; var/ is git-ignored).",
    )
    cache_mb: float = Field(
        2048,
        ge=0,
        description="Largest size of that folder; 0 keeps nothing (every download is "
        "built for its request).",
    )
    cache_max_age_s: float = Field(
        900, gt=0, le=86_400, description="How long a built file is served, even unchanged."
    )


class Settings(BaseSettings):
    """Everything, grouped; `Settings()` reads the environment when called, not when imported."""

    model_config = SettingsConfigDict(env_prefix="SAFEGROUND_", extra="ignore")

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    imports: ImportSettings = Field(default_factory=ImportSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
    downloads: DownloadSettings = Field(default_factory=DownloadSettings)
