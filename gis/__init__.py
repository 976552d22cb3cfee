"""The engine: database, import/export, features, analysis and maps, generic over layer specs."""
