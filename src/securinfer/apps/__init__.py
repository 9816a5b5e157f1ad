"""Applications built on securinfer: encrypted face recognition (:mod:`securinfer.apps.face`).

Each application is a subpackage or module imported on demand, so that
``import securinfer`` never loads their heavier dependencies (OpenCV, scikit-image).
"""
