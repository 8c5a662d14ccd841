"""Model names -> implementations, imported lazily (torch loads only when a learned model runs).

Embedding models implement models/base.py's EmbeddingModel and go through FAISS; ``blend``
is not an embedding model: it fuses the other models' neighbour lists (models/blend.py), so the
build handles it by name after the embedding models.
"""

from __future__ import annotations

import importlib
import importlib.util

from spotrec.errors import SpotrecError

# name -> "module:ClassName"
EMBEDDING_MODELS: dict[str, str] = {
    "cosine": "spotrec.models.cosine:CosineModel",
    "autoencoder": "spotrec.models.autoencoder:AutoencoderModel",
    "transformer": "spotrec.models.transformer:TransformerModel",
}
# Models learned from listening alone: they give neighbour lists, not embeddings (base.py).
LISTENING_MODELS: dict[str, str] = {
    "colistening": "spotrec.models.colistening:CoListeningModel",
}
BLEND = "blend"
HYBRID = "hybrid"  # fuses co-listening and content per track by evidence (models/blend.py)
# Not a similarity model: the hybrid's lists re-ordered by rising interactions (trend_build.py).
TRENDING = "trending"
MODEL_NAMES = (*EMBEDDING_MODELS, *LISTENING_MODELS, BLEND, HYBRID, TRENDING)


class UnknownModelError(SpotrecError):
    """A model name that is neither an embedding model nor the blend."""


def is_blend(name: str) -> bool:
    return name in (BLEND, HYBRID)


def get_model_class(name: str) -> type:
    """The model class registered under ``name`` (imports its module now)."""
    if name in LISTENING_MODELS:
        module_name, class_name = LISTENING_MODELS[name].split(":")
        return getattr(importlib.import_module(module_name), class_name)
    if name not in EMBEDDING_MODELS:
        hint = " (the blend fuses neighbour lists: use models.blend)" if is_blend(name) else ""
        raise UnknownModelError(
            f"unknown embedding model {name!r}{hint}; known: {sorted(EMBEDDING_MODELS)}"
        )
    module_name, class_name = EMBEDDING_MODELS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def implemented_embedding_models() -> list[str]:
    """Registered names whose module exists in this checkout (no import, so no torch load)."""
    return [
        name
        for name, target in EMBEDDING_MODELS.items()
        if importlib.util.find_spec(target.split(":")[0]) is not None
    ]


def parse_model_names(text: str) -> list[str]:
    """'cosine,blend' -> ['cosine', 'blend'], in build order (embedding models before the
    blend). Unknown names, and a blend with no embedding model to fuse, are named errors."""
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown or not names:
        raise UnknownModelError(f"unknown model(s) {unknown or [text]}; known: {list(MODEL_NAMES)}")
    embedding = [n for n in names if not is_blend(n) and n != TRENDING]
    if BLEND in names and not embedding:
        raise UnknownModelError(
            f"the blend fuses other models' lists: name some of {list(EMBEDDING_MODELS)} with it"
        )
    return embedding + [name for name in (BLEND, HYBRID, TRENDING) if name in names]
