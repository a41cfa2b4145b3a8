"""End-to-end tests: the real webserver, daemon, PostgreSQL and a browser."""
