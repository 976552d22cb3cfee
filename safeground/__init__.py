"""SafeGround: weapon contamination and the humanitarian work around it, in PostGIS."""

__version__ = "0.1.0"
