"""Analyses over the layers: coverage, nearest, within, route check and people exposed.

Generic over the layer specs; no HTTP here. Every distance is geodesic metres on the WGS 84
ellipsoid, decided as PostGIS `geography` decides it.
"""
