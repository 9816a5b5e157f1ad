"""SFace embeddings of real photos: unit vectors in which transformed copies of
a face stay closer to it than any other person's face."""

import numpy as np
import pytest

import securinfer as si
from securinfer.apps.face import FaceEmbedder

from ._face_data import astronaut_embeddings, crop_embedder, lfw_embeddings, lfw_variant_embeddings


def test_embeddings_are_128_d_unit_vectors():
    e = lfw_embeddings()
    assert e.shape == (100, 128) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    # Different faces give different vectors (not a constant or degenerate output).
    assert np.linalg.matrix_rank(e.astype(np.float64), tol=1e-3) > 50


def test_same_face_under_flip_light_and_crop_beats_every_other_face():
    gallery = lfw_embeddings()
    probes = lfw_variant_embeddings()                     # (10, 4, 128)
    for person, copies in enumerate(probes):
        scores = copies @ gallery.T                      # (4, 100)
        others = np.delete(scores, person, axis=1)
        same = scores[:, person]
        print(f"face {person}: same {np.round(same, 3)}, best other {others.max():.3f}")
        assert np.all(same > others.max(axis=1))
        assert np.all(np.argmax(scores, axis=1) == person)


def test_astronaut_detected_aligned_and_recognised_under_transformations():
    e = astronaut_embeddings()
    same = e[1:] @ e[0]
    other = lfw_embeddings() @ e[0]
    print("astronaut: same", np.round(same, 3), "best LFW face", round(float(other.max()), 3))
    assert same.min() > 0.8 > other.max()


def test_single_image_and_stack_of_grey_crops():
    embed = crop_embedder()
    faces = np.stack([np.eye(25), np.ones((25, 25)) * 0.5])
    assert embed(faces).shape == (2, 128)
    np.testing.assert_allclose(embed(faces[0]), embed([faces[0]]), atol=1e-6)


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 3)), np.zeros((10, 10, 5)), np.array([["a"]], dtype=object),
                                 np.full((20, 20), np.nan)])
def test_bad_images_raise(bad):
    with pytest.raises(si.ParameterError):
        crop_embedder()([bad])


def test_no_images_raise():
    with pytest.raises(si.ParameterError):
        crop_embedder()([])


def test_detection_without_a_face_raises():
    with pytest.raises(si.ParameterError, match="no face"):
        FaceEmbedder(detect=True)(np.full((200, 200, 3), 128, dtype=np.uint8))


def test_detection_prints_nothing(capfd):
    """OpenCV's graph engine warned on stderr at every detector use."""
    capfd.readouterr()
    embed = FaceEmbedder(detect=True)
    with pytest.raises(si.ParameterError):
        embed(np.full((64, 64, 3), 128, np.uint8))
    out, err = capfd.readouterr()
    assert out == "" and "WARN" not in err, err
