"""The package as a user meets it: upper layers reachable as attributes
without loading their heavy dependencies up front, and the command's version."""

import subprocess
import sys


def test_upper_layers_are_attributes_loaded_on_first_use():
    code = ("import sys, securinfer as si; "
            "assert 'torch' not in sys.modules and 'securinfer.nn' not in sys.modules; "
            "assert si.nn.compile and si.linalg.LinearTransform and si.apps.__name__ and si.serve.create_app; "
            "assert 'torch' not in sys.modules; "
            "assert {'nn', 'apps', 'serve', 'dist'} <= set(dir(si))")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_version_flag():
    import securinfer as si

    done = subprocess.run([sys.executable, "-m", "securinfer.cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"securinfer {si.__version__}", done
