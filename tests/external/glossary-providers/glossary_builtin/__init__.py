"""`remote::builtin-glossary`: a few terms of its own, in upper or lower case.

A module-installed provider: the run.yaml names this module (`module:
glossary_builtin`), and the stack imports `glossary_builtin.provider` for
its spec; no providers.d file is involved.
"""

from pydantic import BaseModel

from glossary_api import Term, TermList

TERMS = {
    "replay": "answering a request from a recording instead of the model",
    "session": "one stack and its services, shared by every test of a run",
}


class BuiltinGlossaryConfig(BaseModel):
    shout: bool = False


class BuiltinGlossary:
    def __init__(self, config: BuiltinGlossaryConfig) -> None:
        self.shout = config.shout

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def _term(self, term: str, definition: str) -> Term:
        return Term(term=term, definition=definition.upper() if self.shout else definition, source="builtin")

    async def list_terms(self) -> TermList:
        return TermList(data=[self._term(t, d) for t, d in sorted(TERMS.items())])

    async def define(self, term: str) -> Term | None:
        definition = TERMS.get(term)
        return None if definition is None else self._term(term, definition)


async def get_adapter_impl(config: BuiltinGlossaryConfig, _deps):
    impl = BuiltinGlossary(config)
    await impl.initialize()
    return impl
