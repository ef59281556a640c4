"""The core every chapter shares: sizes and runs, paths, results, the model cache, data, metrics, figures, the
CNN/DCN architectures and their operators, random weights, the training loop, seeds and argument checks."""
