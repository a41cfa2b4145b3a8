"""Accounts: the repository, secrets, tokens, the rate budget, key rotation, ids and entity selection."""
