"""Hatchling build hook: compile ``collectors/_linescan.c`` into ``collectors._linescan_c`` if it can.

The module is an accelerator: ``collectors/_linescan.py`` has the same function in numpy and uses it
when the module is not there. So a machine without a C compiler (or without Python's headers) still
installs sci-report, as a pure-Python wheel, with a warning saying what it lacks.

- A wheel (``pip install .``) gets the module compiled under ``build/linescan/`` and included.
- An editable install (``pip install -e .``) gets it compiled beside its source, in ``collectors/``
  (git ignores it), where the editable package imports it from.

The compiler is the one Python was built with (``sysconfig``'s ``LDSHARED``), or ``$CC``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("collectors") / "_linescan.c"
MODULE = "_linescan_c"


class LinescanBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        name = MODULE + (sysconfig.get_config_var("EXT_SUFFIX") or ".so")
        folder = root / "collectors" if version == "editable" else root / "build" / "linescan"
        problem = compile_module(root / SOURCE, folder / name)
        if problem is not None:
            if version == "editable":  # not a module built from older source, beside the new source
                (folder / name).unlink(missing_ok=True)
            self.app.display_warning(
                f"sci-report: {SOURCE} not compiled ({problem}); installing the numpy line scan instead, "
                "which is slower (install a C compiler and Python's headers to get the fast one)"
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(folder / name)] = f"collectors/{name}"


def compile_module(source: Path, target: Path, flags: tuple[str, ...] = ()) -> str | None:
    """Compile ``source`` into the extension module ``target`` (with extra compiler ``flags``); what went
    wrong, or None."""
    if os.name == "nt":
        return "no build recipe for Windows"
    include = sysconfig.get_paths()["include"]
    if not (Path(include) / "Python.h").exists():
        return f"no Python.h in {include}"
    compiler = shlex.split(sysconfig.get_config_var("LDSHARED") or "cc -shared")
    if os.environ.get("CC"):  # $CC in place of the compiler, with the flags that make a module
        compiler[:1] = shlex.split(os.environ["CC"])
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        built = Path(work) / target.name
        command = [*compiler, "-O3", "-fPIC", *flags, "-I", include, str(source), "-o", str(built)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our compiler
        except OSError as exc:
            return f"{compiler[0]}: {exc.strerror}"
        if done.returncode != 0:
            return f"{shlex.join(command)} failed: {done.stderr.strip()[-500:]}"
        built.replace(target)  # whole or not at all
    return None
