"""Layerlab's web app: FastAPI routes that validate, call the engine and serve traces."""
