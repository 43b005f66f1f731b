"""Builds the one compiled module, flb_fast._core, from src/flb_fast/_core.pyx.

Switches (environment): FLB_FAST_DEBUG (no optimisation, asserts), FLB_FAST_ANNOTATE (write
_core.html to see Python interaction per line), FLB_FAST_LINETRACE (line profiling and
coverage), FLB_FAST_SANITIZE (AddressSanitizer and UBSan).
"""

import os

from Cython.Build import cythonize
from setuptools import Extension, setup


def _on(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


define_macros = []
extra_compile_args = ["-O0", "-g"] if _on("FLB_FAST_DEBUG") else ["-O3"]
extra_link_args = []
directives = {
    "language_level": 3,
    "embedsignature": True,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
}
if _on("FLB_FAST_LINETRACE"):
    directives["linetrace"] = True
    define_macros.append(("CYTHON_TRACE_NOGIL", "1"))
if _on("FLB_FAST_SANITIZE"):
    extra_compile_args += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
    extra_link_args += ["-fsanitize=address,undefined"]

extension = Extension(
    "flb_fast._core",
    ["src/flb_fast/_core.pyx"],
    # dlopen/dlsym (_core/journal.pxi loads libsystemd at run time): in libdl before glibc 2.34,
    # in libc since (where libdl is an empty stub), so linking it is right on both.
    libraries=["dl"],
    define_macros=define_macros,
    extra_compile_args=extra_compile_args,
    extra_link_args=extra_link_args,
)

setup(
    ext_modules=cythonize(
        [extension],
        compiler_directives=directives,
        annotate=_on("FLB_FAST_ANNOTATE"),
        include_path=["src/flb_fast"],
    )
)
