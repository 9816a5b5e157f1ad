"""securinfer.nn without PyTorch."""


def test_import_without_torch():
    """securinfer.nn imports and compiles scikit-learn models with torch unavailable."""
    import subprocess
    import sys

    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'torch' or name.startswith('torch.'):\n"
            "            raise ImportError('torch is blocked')\n"
            "sys.meta_path.insert(0, Block())\n"
            "import numpy as np, securinfer.nn as snn\n"
            "from sklearn.linear_model import LinearRegression\n"
            "X = np.eye(3); print(snn.compile(LinearRegression().fit(X, X[:, 0])).depth)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
