"""Pydantic shapes of governance data in and out of the API, one module per part."""
