"""Guest privacy: erasure of one guest everywhere, retention of deleted rows."""
