"""The ``securinfer`` command line.

Example:
    $ securinfer info
    $ securinfer demo            # or: securinfer demo face|diagnosis|mnist
    $ securinfer serve --models ./models --port 8000
"""

from __future__ import annotations

import argparse
import os
import platform
import sys


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("securinfer")
    except PackageNotFoundError:  # run from a source tree
        import securinfer

        return securinfer.__version__


def _info(_args: argparse.Namespace) -> int:
    import securinfer as si

    info = si.simd_info()
    print(f"securinfer {si.__version__}")
    print(f"python      {platform.python_version()} on {platform.machine()}")
    print(f"cpu         {', '.join(info['detected']) or 'no SIMD extensions used by securinfer'}")
    print(f"paths       {', '.join(info['available'])}" + ("  (AVX-512 kernels emulated)" if info["emulated"] else ""))
    forced = os.environ.get("SECURINFER_SIMD")
    print(f"active      {info['active']}" + (f"  (forced by SECURINFER_SIMD={forced})" if forced else ""))
    print(f"threads     {si.get_num_threads()}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .serve.command import main as serve_main  # fastapi and uvicorn load only for this command

    return serve_main(args.options)


def _demo(args: argparse.Namespace) -> int:
    from .apps import demo

    parts = demo.DEFAULT_PARTS if args.part == "all" else [args.part + ("-deep" if args.deep else "")]
    if args.deep and args.part != "mnist":
        raise SystemExit("--deep goes with: securinfer demo mnist --deep")
    demo.run(parts)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="securinfer", description="Inference on encrypted data.")
    parser.add_argument("--version", action="version", version=f"securinfer {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="version, CPU features, kernel path and threads").set_defaults(run=_info)
    demo = commands.add_parser("demo", help="encrypted face identification and medical diagnosis, end to end")
    demo.add_argument("part", nargs="?", default="all", choices=["all", "face", "diagnosis", "mnist"],
                      help="which part to run (default: all = face and diagnosis; mnist needs PyTorch)")
    demo.add_argument("--deep", action="store_true", help="mnist: a depth-5 CNN encrypted and an 8-layer MLP "
                      "bootstrapped at N = 2^16, encrypted (about a minute, 12 GB of memory)")
    demo.set_defaults(run=_demo)
    # serve parses its own options (securinfer.serve.command), imported only when used.
    commands.add_parser("serve", add_help=False, help="serve saved models and galleries over HTTP").set_defaults(run=_serve)
    args, rest = parser.parse_known_args(argv)
    args.options = rest
    if args.command != "serve" and rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        return args.run(args)
    except Exception as error:  # a clear message for the command line, not a traceback
        from .errors import SecurinferError

        if isinstance(error, SecurinferError):
            print(f"securinfer: {error}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
