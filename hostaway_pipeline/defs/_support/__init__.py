"""What the definitions share that is not a definition: metadata, tags, logs, code refs."""
