"""WSGI entry point for gunicorn and other servers: ``gunicorn wsgi:app``."""
from referral_service.app import create_app

app = create_app()
