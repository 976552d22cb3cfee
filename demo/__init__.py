"""Demo data: the real Azerbaijan reference layers, documented events and synthetic records."""
