"""The outward faces: the FastAPI app, its routes and access rules, and the command-line tool."""
