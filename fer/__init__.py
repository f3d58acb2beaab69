"""fer: real-time facial emotion recognition.

    from fer import Pipeline
    result = Pipeline(detector="haar").process(rgb_frame)
    for face in result.faces:
        print(face.box, face.label, face.confidence)
"""

from fer.classifier import EmotionClassifier
from fer.config import EMOTIONS
from fer.detectors import Box, get_detector
from fer.draw import annotate
from fer.pipeline import Face, FrameResult, Pipeline
from fer.tracking import FaceTracker

__all__ = ["EMOTIONS", "Box", "EmotionClassifier", "Face", "FaceTracker", "FrameResult", "Pipeline", "annotate",
           "get_detector"]
