"""Hypermodels area: ``build_cnn_hypermodel`` and ``CNNHyperModel``.

Private: import public names from ``tunekit``.
"""
