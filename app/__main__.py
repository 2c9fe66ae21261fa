"""`python -m layerlab.app` is the same as the `layerlab` command."""

from layerlab.app.cli import main

main()
