"""Layerwise: Markdown article + PyTorch models of MNIST -> a static, interactive site."""
