"""Analyses over the layers: coverage, nearest, within, route check and people exposed.

Generic over the layer specs; no HTTP here. Every distance is the geodesic distance on the WGS 84
ellipsoid to the truly nearest point, edges straight in lon/lat (`geodesic`, its proof there).
"""
