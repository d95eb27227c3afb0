"""The HTTP API and chat widget over a `qa` collection: `create_app` in `api.app`, `serve` in `api.server`."""
