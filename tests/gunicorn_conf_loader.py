"""Load gunicorn.conf.py as a module, as gunicorn does."""

import importlib.util
from pathlib import Path

PATH = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def load():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
