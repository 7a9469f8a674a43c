"""Curated mesotherapy knowledge base and the hybrid retrieval layer over it."""

from knowledge.passages import Passage, load_passages
from knowledge.results import Hit, Result

__all__ = ["Hit", "Passage", "Result", "Retriever", "load_passages"]


def __getattr__(name: str) -> object:
    # Retriever pulls in torch; import it lazily so `knowledge.lint` stays light.
    if name == "Retriever":
        from knowledge.retriever import Retriever

        return Retriever
    raise AttributeError(name)
