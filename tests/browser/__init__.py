"""Browser test helpers: Debian's Chromium driven by Playwright, the app on a local port."""
