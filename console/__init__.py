"""The staff console: a FastAPI app (port 8000) for reviewing conversations, answering handed-off
patients and keeping health data safe. Its own tables live in MESO_CONSOLE_DB_URL."""
