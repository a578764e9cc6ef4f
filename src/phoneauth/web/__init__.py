"""The FastAPI application: Management API, Experience API and console."""
