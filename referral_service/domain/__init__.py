"""The rules of the service, free of Flask request objects.

Operations here add and flush; the caller (a request, an actor or a CLI command) commits once.
"""
