"""A tiny decoder-only transformer trained by Layerlab in NumPy on sentences it generates."""
