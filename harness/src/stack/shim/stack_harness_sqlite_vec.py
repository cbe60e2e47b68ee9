"""Hands llama-stack's inline::sqlite-vec provider pysqlite3 in place of the stdlib sqlite3.

Installed into the stack's venv by stack-harness (harness/src/stack/provision.rs), with
stack_harness_sqlite_vec.pth, which imports it at interpreter start-up.

Why: the provider (llama_stack/providers/inline/vector_io/sqlite_vec/sqlite_vec.py) does
`import sqlite3` and calls `connection.enable_load_extension(True)` to load the sqlite-vec
extension, and CPython built without --enable-loadable-sqlite-extensions (pyenv's builds, for one)
has no such method: every store creation then fails with an AttributeError. pysqlite3-binary
(pinned in requirements/stack.txt) is the same DB-API module compiled with extension loading and
FTS5, which the provider's keyword search needs.

Only that one module sees pysqlite3: sys.modules["sqlite3"] points at pysqlite3 while the module
executes and is restored right after, so the provider's module-level `sqlite3` global is pysqlite3
while the stack's own stores (aiosqlite, SQLAlchemy) keep the stdlib sqlite3. Without
pysqlite3 installed, nothing changes and the provider fails as it would have.
"""

import importlib.abc
import sys

PROVIDER_MODULE = "llama_stack.providers.inline.vector_io.sqlite_vec.sqlite_vec"


class _ProviderFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != PROVIDER_MODULE:
            return None
        spec = None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader.exec_module = _with_pysqlite3(spec.loader.exec_module)
        return spec


def _with_pysqlite3(exec_module):
    def wrapped(module):
        try:
            import pysqlite3
        except ImportError:
            return exec_module(module)
        saved = sys.modules.get("sqlite3")
        sys.modules["sqlite3"] = pysqlite3
        try:
            return exec_module(module)
        finally:
            if saved is None:
                sys.modules.pop("sqlite3", None)
            else:
                sys.modules["sqlite3"] = saved

    return wrapped


sys.meta_path.insert(0, _ProviderFinder())
