"""Authentication: the OAuth 2.0 authorization server for partner systems (and, later, people)."""
