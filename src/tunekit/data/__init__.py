"""Data area: image-folder listing, the Keras-3 ``ImageDataGenerator`` /
``flow_from_directory`` iterator, the ``tf.data`` loader and the decode cache.

Private: import public names from ``tunekit``. Never imports the tuners or the CLI.
"""
