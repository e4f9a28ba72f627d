"""What trains and evaluates the detector (never imported by a server): the data sets and their label
mapping, Warden's written exemplars and probes, training, fine-tuning, distillation, ONNX export and
`warden eval`. The runtime a server imports is the package above: normalize, features, slurs, encoder,
detector, pool and the image signals."""
