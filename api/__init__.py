"""HTTP surface: the FastAPI app factory, routers by resource, auth, and the server-rendered pages."""
