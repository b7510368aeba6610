"""Copies the top-level templates/, static/ and module.yaml into the wheel's package.

The tree keeps them at the top (the module layout PBX admins know); an installed host app finds
them inside the package. Everything else is declared in setup.cfg.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ASSETS = ("templates", "static", "module.yaml")


class BuildWithAssets(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "callback_module"
        for name in ASSETS:
            source = Path(name)
            if source.is_dir():
                shutil.copytree(source, target / name, dirs_exist_ok=True)
            elif source.is_file():
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildWithAssets})
