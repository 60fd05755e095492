"""The ``tunekit`` command: ``tunekit demo``, ``tunekit tune`` and their shared
arguments. The top layer: nothing else in tunekit imports it.

Private: the command line is the interface.
"""
