"""Only here to compile the pages' gettext catalogs while a wheel (or an editable install) is built;
everything else about the package is in pyproject.toml."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CATALOGS = Path(__file__).parent / "src" / "zhongcao" / "web" / "catalogs.py"


class BuildPyWithCatalogs(build_py):
    """build_py, then every web/locale/*/LC_MESSAGES/messages.po compiled to its .mo."""

    def run(self) -> None:
        super().run()
        # Loaded by path: the package's other dependencies are not installed at build time (Babel is,
        # as a build requirement), and catalogs.py needs nothing else.
        spec = importlib.util.spec_from_file_location("zhongcao_catalogs", CATALOGS)
        assert spec is not None and spec.loader is not None
        catalogs = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(catalogs)
        if self.editable_mode:  # the source tree is the package: compile beside the .po files
            catalogs.compile_catalogs()
        else:
            catalogs.compile_catalogs(out=Path(self.build_lib) / "zhongcao" / "web" / "locale")


setup(cmdclass={"build_py": BuildPyWithCatalogs})
