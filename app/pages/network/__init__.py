"""The network page: its routes, request schemas, request-to-engine mapping and text."""
