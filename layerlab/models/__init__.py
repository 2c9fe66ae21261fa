"""Open a model file (ONNX, or a safetensors / .npz state_dict beside a layer list) as an engine Graph."""
