"""SQLAlchemy implementations of the domain's store protocols; every query is tenant-scoped."""
