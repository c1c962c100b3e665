"""The HTTP layer: the app factory, the request pipeline, URL rules and the server."""
