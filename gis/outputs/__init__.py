"""Output formats other than GeoJSON for the items of a layer: CSV (with HXL), GeoPackage, HTML."""
