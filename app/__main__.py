"""`python -m app` is the same as the `layerlab` command."""

from app.cli import main

main()
