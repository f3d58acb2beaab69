"""fer: real-time facial emotion recognition.

    from fer import Pipeline
    result = Pipeline(detector="haar").process(rgb_frame)
    for face in result.faces:
        print(face.box, face.label, face.confidence)
"""

from fer.classifier import EmotionClassifier
from fer.config import EMOTIONS
from fer.detectors import get_detector
from fer.draw import annotate
from fer.pipeline import Pipeline
from fer.tracking import FaceTracker
from fer.types import Box, Face, Frame, FrameResult

__all__ = ["EMOTIONS", "Box", "EmotionClassifier", "Face", "FaceTracker", "Frame", "FrameResult", "Pipeline",
           "annotate", "get_detector"]
