"""The `glossary` API: an external API for the Llama Stack server.

The stack finds it through `apis.d/glossary.yaml` (module, name, protocol)
and serves what `create_router` mounts, under `/v1/glossary/`, answered by
whichever provider the run.yaml configures for the API.
"""

from typing import Protocol

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

try:  # llama-stack
    from llama_stack_api import ProviderSpec
except ImportError:  # OGX, the renamed project
    from ogx_api import ProviderSpec


class Term(BaseModel):
    term: str
    definition: str
    source: str


class TermList(BaseModel):
    data: list[Term]


class Glossary(Protocol):
    """What a glossary provider implements."""

    async def list_terms(self) -> TermList: ...

    async def define(self, term: str) -> Term | None: ...


def available_providers() -> list[ProviderSpec]:
    # No provider ships with the API: they come from providers.d or `module:`.
    return []


def create_router(impl: Glossary) -> APIRouter:
    router = APIRouter(tags=["Glossary"])

    @router.get("/v1/glossary/terms", response_model=TermList)
    async def list_terms() -> TermList:
        return await impl.list_terms()

    @router.get("/v1/glossary/terms/{term}", response_model=Term)
    async def define(term: str) -> Term:
        found = await impl.define(term)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no term {term!r} in the glossary")
        return found

    return router
