"""Training, evaluation and export of the emotion CNN: apart from the run time, which never imports it.

    python -m fer.training.train --data fer2013.npz      # train (needs TensorFlow: requirements-dev.txt)
    python -m fer.training.evaluate --data fer2013.npz   # accuracy, confusion, calibration
    python -m fer.training.export RUN/emotion.keras      # -> model/emotion.tflite
"""
