"""Alembic migrations, shipped inside the package and run by `phoneauth migrate` or at start-up."""
