"""Estimators area: the scikit-learn ``KerasClassifier`` / ``KerasRegressor``.

Private: import public names from ``tunekit``.
"""
