"""HTML pages and operational endpoints."""
