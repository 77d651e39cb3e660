"""The one part of the build pyproject.toml cannot state: resonator's compiled kernels.

``src/resonator/_kernels.c`` holds the render engine's hot loops as a C extension: it loads in
microseconds, where numba cost about 0.8 s of every command that rendered (and compiled for
tens of seconds on a fresh install). ``-ffp-contract=off`` keeps the arithmetic, and so every
rendered bit, the same whatever CPU the extension is built on; the hot loops are also compiled
for AVX2 and AVX-512 (GCC target_clones on x86-64 Linux, chosen at load time) with that same
arithmetic. Needs a C compiler and the Python headers (Debian: gcc, python3-dev); without
them the build stops with one line that says so.
"""
import hashlib
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE = "src/resonator/_kernels.c"
NEEDS = ("resonator's compiled kernels (src/resonator/_kernels.c) need a C compiler and the "
         "Python headers (Debian: apt-get install gcc python3-dev)")


class BuildKernels(build_ext):
    """build_ext whose failure names what is missing instead of only the compiler's error."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # CompileError, a missing compiler (OSError), ...
            header = sysconfig.get_paths()["include"]
            raise SystemExit(f"error: {NEEDS}; the build failed with: {exc} "
                             f"(Python headers looked for in {header})") from exc


setup(
    cmdclass={"build_ext": BuildKernels},
    ext_modules=[Extension(
        "resonator._kernels", [SOURCE],
        extra_compile_args=["-O3", "-ffp-contract=off", "-fno-math-errno"],
        # the source's hash, so resonator.kernels can tell a stale build (editable installs)
        define_macros=[("RESONATOR_KERNELS_SOURCE", '"%s"' % hashlib.sha256(
            Path(__file__).resolve().parent.joinpath(SOURCE).read_bytes()).hexdigest())],
    )],
)
