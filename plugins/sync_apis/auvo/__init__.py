"""Auvo API v2 -> PostgreSQL.

hook (auth, paging), streams (what to fetch), parse (record -> row), sync (the load loop).
"""
