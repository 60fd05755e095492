"""Labels area: class weights, label and collapse diagnostics, and the
model/label consistency check.

Private: import public names from ``tunekit``.
"""
