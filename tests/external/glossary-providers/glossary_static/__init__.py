"""`remote::static-glossary`: the terms its run.yaml config lists.

Loaded from `providers.d/remote/glossary/static-glossary.yaml`, which names
this module (for `get_adapter_impl`) and its config class.
"""

from pydantic import BaseModel, Field

from glossary_api import Term, TermList


class StaticGlossaryConfig(BaseModel):
    terms: dict[str, str] = Field(default_factory=dict)


class StaticGlossary:
    def __init__(self, config: StaticGlossaryConfig) -> None:
        self.terms = dict(config.terms)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def list_terms(self) -> TermList:
        return TermList(data=[Term(term=t, definition=d, source="static") for t, d in sorted(self.terms.items())])

    async def define(self, term: str) -> Term | None:
        definition = self.terms.get(term)
        return None if definition is None else Term(term=term, definition=definition, source="static")


async def get_adapter_impl(config: StaticGlossaryConfig, _deps):
    impl = StaticGlossary(config)
    await impl.initialize()
    return impl
