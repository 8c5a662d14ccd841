"""The autoencoder model: an MLP encoder compresses a track's content into a ``code_dim`` code.

Encoder input: the standardized audio profile, the genre multi-hot (zero when unknown or hidden:
holdout tracks) and the mean of the track's artists' learned vectors (content_inputs.py).
Decoder output: the audio profile (mean squared error) and the genres (softmax cross-entropy
against the multi-hot spread evenly over the track's genres, on labeled tracks only).

What it learns (models/learned.py has the two modes):

* with listening: the code, through a linear head, predicts the track's collaborative vector
  (content -> collaborative, cosine regression by default), and the reconstruction stays as a second
  term (``reconstruction_weight``); the embedding is the predicted collaborative vector;
* without listening: reconstruction only; the embedding is the code.

In both, genres and artists are hidden at random during training (``genre_dropout``,
``artist_dropout``) while the genre TARGET stays, so the code also works out a track's genre
from its audio: that is what places tracks without labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from spotrec.models.content_inputs import ArtistEmbedding, ContentInputs, genre_cross_entropy
from spotrec.models.learned import LearnedConfig, LearnedModel


@dataclass(frozen=True)
class AutoencoderConfig(LearnedConfig):
    code_dim: int = 32
    hidden_dim: int = 256
    epochs: int = 12
    genre_loss_weight: float = 1.0
    reconstruction_weight: float = 0.5  # listening mode: share of the reconstruction term


class AutoencoderNetwork(nn.Module):
    def __init__(self, audio_dim: int, genre_dim: int, n_artists: int, cfg: AutoencoderConfig):
        super().__init__()
        self.audio_dim = audio_dim
        self.style_dim = cfg.code_dim
        self.artist_embedding = ArtistEmbedding(n_artists, cfg.artist_dim)
        self.encoder = nn.Sequential(
            nn.Linear(audio_dim + genre_dim + cfg.artist_dim, cfg.hidden_dim),
            nn.GELU(),
            nn.Linear(cfg.hidden_dim, cfg.code_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(cfg.code_dim, cfg.hidden_dim),
            nn.GELU(),
            nn.Linear(cfg.hidden_dim, audio_dim + genre_dim),
        )

    def style(self, inputs: ContentInputs) -> torch.Tensor:
        artist = self.artist_embedding(inputs.artists)
        return self.encoder(torch.cat([inputs.audio, inputs.genres, artist], dim=1))

    def reconstruct(self, code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(rebuilt audio profile, genre logits)."""
        out = self.decoder(code)
        return out[:, : self.audio_dim], out[:, self.audio_dim :]


class AutoencoderModel(LearnedModel):
    """EmbeddingModel (models/base.py): ``AutoencoderModel(epochs=2).fit(tracks, seed=0)``."""

    name = "autoencoder"
    config_class = AutoencoderConfig
    network: AutoencoderNetwork | None

    def _new_network(self, audio_dim: int, genre_dim: int, n_artists: int) -> AutoencoderNetwork:
        return AutoencoderNetwork(audio_dim, genre_dim, n_artists, self.config)

    def _reconstruction_loss(self, net, batch: ContentInputs, generator) -> torch.Tensor:
        cfg = self.config
        corrupted = batch.corrupted(cfg.genre_dropout, cfg.artist_dropout, generator)
        audio_out, genre_logits = net.reconstruct(net.style(corrupted))
        loss = nn.functional.mse_loss(audio_out, batch.audio)
        return loss + cfg.genre_loss_weight * genre_cross_entropy(genre_logits, batch.genres)

    def _self_supervised_loss(self, net, batch: ContentInputs, generator) -> torch.Tensor:
        return self._reconstruction_loss(net, batch, generator)

    def _auxiliary_loss(self, net, batch: ContentInputs, generator) -> torch.Tensor | None:
        weight = self.config.reconstruction_weight
        return weight * self._reconstruction_loss(net, batch, generator) if weight > 0 else None

    @torch.no_grad()
    def _self_supervised_figures(self, inputs: ContentInputs, validation: torch.Tensor) -> dict:
        """How well validation tracks are rebuilt (``average_similarity``: cosine of the input
        [audio, genres] and its reconstruction), and genre from audio alone (genres and artists
        hidden) on the labeled ones."""
        batch = inputs.rows(validation)
        audio_out, genre_logits = self.network.reconstruct(self.network.style(batch))
        genre_count = batch.genres.sum(dim=1, keepdim=True)
        rebuilt = torch.cat([audio_out, torch.softmax(genre_logits, dim=1) * genre_count], dim=1)
        original = torch.cat([batch.audio, batch.genres], dim=1)
        similarity = nn.functional.cosine_similarity(original, rebuilt, dim=1)
        blind = ContentInputs(batch.audio, torch.zeros_like(batch.genres), batch.artists * 0)
        _, logits = self.network.reconstruct(self.network.style(blind))
        labeled = batch.genres.sum(dim=1) > 0
        hits = batch.genres[labeled].gather(1, logits[labeled].argmax(dim=1)[:, None])
        return {
            "validation_audio_mse": round(float(nn.functional.mse_loss(audio_out, batch.audio)), 5),
            "average_similarity": round(float(similarity.mean()), 4),
            "genre_accuracy_from_audio": round(float(hits.mean()), 4) if labeled.any() else None,
            "validation_tracks": len(validation),
        }

    def codes(self, tracks):
        """float32 (n, code_dim): the code of each track (LearnedModel.style_vectors)."""
        return self.style_vectors(tracks)
