"""Marshmallow schemas shared by the API and the web forms."""
