"""The "Your model" page (/model): open an ONNX file or a state_dict, run it on an image, see every layer."""
