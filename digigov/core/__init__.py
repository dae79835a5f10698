"""Core: configuration, database, errors, permissions, audit, workflow, calendar, codes.

Core knows no domain; domains build on it.
"""
