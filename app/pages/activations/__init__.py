"""The activations page: its routes, request schemas, request-to-engine mapping and text."""
