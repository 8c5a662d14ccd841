"""The transformer model: a feature-tokenizer transformer (FT-Transformer, Gorishniy et al. 2021).

Tokens, each ``d_model`` wide:
* one per audio-profile column: value * w_j + b_j (a per-feature linear embedding);
* one genre token: the mean of the track's genre embeddings, or a learned UNKNOWN token when
  the genres are unknown or hidden (holdout tracks, and genre dropout in training);
* one artist token: the mean of the track's artists' learned vectors (content_inputs.py), or
  a learned UNKNOWN token for an unknown artist (and artist dropout in training);
* a learned CLS token, whose output (after a final LayerNorm) is the track's style vector.

What it learns (models/learned.py has the two modes):

* with listening: the CLS vector, through a linear head, predicts the track's collaborative
  vector (content -> collaborative, cosine regression by default); the embedding is that prediction;
* without listening, ``objective``:
  ``genre``: predict the genre distribution from the CLS vector, the genre token replaced by
  UNKNOWN for a random ``genre_dropout`` share of tracks, so the CLS vector learns to place a
  track by its audio (and artist) when no label is there;
  ``masked``: masked-feature reconstruction: a random ``mask_rate`` share of audio tokens
  become a MASK token and their values are predicted from the output tokens;
  ``mix``: the sum of both. The embedding is the CLS vector.
Holdout tracks are always UNKNOWN and never a genre target; they still serve ``masked``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from spotrec.models.content_inputs import ArtistEmbedding, ContentInputs, genre_cross_entropy
from spotrec.models.learned import LearnedConfig, LearnedModel

OBJECTIVES = ("genre", "masked", "mix")


@dataclass(frozen=True)
class TransformerConfig(LearnedConfig):
    objective: str = "genre"  # without listening: see the module docstring
    d_model: int = 32
    heads: int = 4
    layers: int = 2
    feedforward: int = 64
    epochs: int = 6
    mask_rate: float = 0.25
    # Listening mode: every track with listening each epoch. A cap of 32,768 (64 batches, cost
    # fixed whatever the session count) cut held-out NDCG@100 0.189 -> 0.180 at 100,000
    # sessions for 13% less fit CPU: not worth it (docs/performance.md, "Session 5").
    listening_rows_per_epoch: int | None = None


class FeatureTokenizerTransformer(nn.Module):
    # Attention over 3 + A (~19) tokens of 8-wide heads: the plain batched-matmul ("math") kernel
    # costs ~7% less CPU per training step than torch's default CPU flash kernel, which is built
    # for long sequences (benchmarks/bench_transformer_step.py; docs/performance.md, Session 5).
    attention_backend = SDPBackend.MATH

    def __init__(self, audio_dim: int, genre_dim: int, n_artists: int, cfg: TransformerConfig):
        super().__init__()
        d = self.style_dim = cfg.d_model
        self.feature_weight = nn.Parameter(torch.randn(audio_dim, d) * 0.5)
        self.feature_bias = nn.Parameter(torch.zeros(audio_dim, d))
        self.genre_embedding = nn.Parameter(torch.randn(genre_dim, d) * 0.5)
        self.unknown_genre = nn.Parameter(torch.randn(d) * 0.5)
        self.artist_embedding = ArtistEmbedding(n_artists, d)
        self.unknown_artist = nn.Parameter(torch.randn(d) * 0.5)
        self.mask_token = nn.Parameter(torch.randn(d) * 0.5)
        self.cls = nn.Parameter(torch.randn(d) * 0.5)
        layer = nn.TransformerEncoderLayer(
            d, cfg.heads, cfg.feedforward, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.output_norm = nn.LayerNorm(d)
        self.genre_head = nn.Linear(d, genre_dim)
        self.value_head = nn.Linear(d, 1)

    def encode(self, inputs: ContentInputs, feature_masked=None) -> torch.Tensor:
        """Output tokens (b, 3 + A, d): CLS, genre, artist, then one per audio column.
        feature_masked (b, A) bool or None: True -> that audio token becomes MASK."""
        tokens = inputs.audio[:, :, None] * self.feature_weight + self.feature_bias
        if feature_masked is not None:
            mask_tokens = self.mask_token + self.feature_bias  # keep the position information
            tokens = torch.where(feature_masked[:, :, None], mask_tokens, tokens)
        counts = inputs.genres.sum(dim=1, keepdim=True)
        genre_token = (inputs.genres @ self.genre_embedding) / counts.clamp(min=1.0)
        genre_token = torch.where(counts > 0, genre_token, self.unknown_genre)
        known_artist = (inputs.artists > 0).any(dim=1, keepdim=True)
        artist_token = torch.where(
            known_artist, self.artist_embedding(inputs.artists), self.unknown_artist
        )
        cls = self.cls.expand(len(tokens), -1)
        sequence = torch.cat(
            [cls[:, None], genre_token[:, None], artist_token[:, None], tokens], dim=1
        )
        with sdpa_kernel(self.attention_backend):
            return self.output_norm(self.encoder(sequence))

    def style(self, inputs: ContentInputs) -> torch.Tensor:
        return self.encode(inputs)[:, 0]


class TransformerModel(LearnedModel):
    """EmbeddingModel (models/base.py): ``TransformerModel(epochs=2).fit(tracks, seed=0)``."""

    name = "transformer"
    config_class = TransformerConfig
    network: FeatureTokenizerTransformer | None

    def __init__(self, *, seed: int = 0, progress: bool = True, **overrides) -> None:
        super().__init__(seed=seed, progress=progress, **overrides)
        if self.config.objective not in OBJECTIVES:
            objective = self.config.objective
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")

    def _new_network(
        self, audio_dim: int, genre_dim: int, n_artists: int
    ) -> FeatureTokenizerTransformer:
        return FeatureTokenizerTransformer(audio_dim, genre_dim, n_artists, self.config)

    def _self_supervised_loss(self, net, batch: ContentInputs, generator) -> torch.Tensor:
        cfg = self.config
        corrupted = batch.corrupted(cfg.genre_dropout, cfg.artist_dropout, generator)
        masked = None
        if cfg.objective in ("masked", "mix"):
            masked = torch.rand(batch.audio.shape, generator=generator) < cfg.mask_rate
        out = net.encode(corrupted, masked)
        loss = torch.zeros(())
        if masked is not None and masked.any():
            values = net.value_head(out[:, 3:]).squeeze(-1)
            loss = loss + nn.functional.mse_loss(values[masked], batch.audio[masked])
        if cfg.objective in ("genre", "mix"):
            loss = loss + genre_cross_entropy(net.genre_head(out[:, 0]), batch.genres)
        return loss

    @torch.no_grad()
    def _self_supervised_figures(self, inputs: ContentInputs, validation: torch.Tensor) -> dict:
        """Top-1 genre accuracy from audio alone (genre and artist tokens UNKNOWN) on the labeled
        validation tracks."""
        batch = inputs.rows(validation)
        labeled = batch.genres.sum(dim=1) > 0
        if not labeled.any() or self.config.objective == "masked":
            return {"genre_accuracy_from_audio": None}
        blind = ContentInputs(batch.audio, torch.zeros_like(batch.genres), batch.artists * 0)
        logits = self.network.genre_head(self.network.style(blind))
        hits = batch.genres[labeled].gather(1, logits[labeled].argmax(dim=1)[:, None])
        return {"genre_accuracy_from_audio": round(float(hits.mean()), 4)}
