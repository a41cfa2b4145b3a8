"""The webhook tables' read and write helpers: events, registrations, health."""
