"""The UI as its users meet it: `hostaway-pipeline ui` (dagster dev) and the browser suite (a real
webserver, daemon, PostgreSQL and headless Chromium). One xdist group with e2e/ (support/xdist_groups.py),
after it, so the e2e deployment is gone before these start their own."""
