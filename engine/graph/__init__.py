"""A model as a graph of ONNX-named operators, run by Layerlab's own traced functions.

`ir` holds the data (Graph, Node, Tensor); `ops` maps each supported operator onto the engine;
`run` checks a graph, runs it node by node and tabulates its layers.
"""
