"""Mirror Hostaway accounts into a PostgreSQL warehouse, orchestrated by Dagster."""
