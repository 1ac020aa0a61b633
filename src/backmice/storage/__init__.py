"""Storage: saved assessments and feedback in SQLite (default) or PostgreSQL, via SQLAlchemy."""
