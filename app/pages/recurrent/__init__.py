"""The recurrent page: its routes, request schemas, request-to-engine mapping and text."""
