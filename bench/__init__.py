"""`make bench`: the OGC API's speed as a ratio to PostgreSQL building the same GeoJSON alone."""
