"""The web adapter: FastAPI app, server-rendered pages and the JSON API over the engine."""
