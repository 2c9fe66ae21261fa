"""A small convolutional network trained by Layerlab itself in NumPy (seed 002's MNIST model, smaller),
and seed 000's hand-made circle detector."""
