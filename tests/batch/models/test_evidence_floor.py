"""The API's "listened together" reason reads listening evidence from a colistening list's
scores (spotrec_serving/reasons.py evidence_floor): after the writer's u8 score packing, the
entries at or above the floor must be exactly the model's evidence entries, the content fill
below it. Checked on planted synthetic listening for a short and a deep list."""

from __future__ import annotations

import numpy as np
import pytest

from factories import planted_catalogue
from listening_factories import as_weights, assign_tastes, planted_sessions
from spotrec import schema
from spotrec.models.colistening import CoListeningModel, complete_lists
from spotrec.models.cosine import CosineModel
from spotrec.neighbours import exact_top_n
from spotrec_serving.items import pack_list, unpack_list
from spotrec_serving.reasons import evidence_count, evidence_floor


@pytest.mark.parametrize("top_n", [10, 150])
def test_packed_colistening_scores_separate_evidence_from_the_content_fill(top_n):
    catalogue = planted_catalogue(n_clusters=6, tracks_per_cluster=40, seed=3)
    tracks = catalogue.tracks
    tastes = assign_tastes(catalogue.clusters, 4, seed=1)
    events = planted_sessions(tracks[schema.TRACK_ID], tastes, n_sessions=200, seed=2)
    song_codes = np.unique(catalogue.song_ids, return_inverse=True)[1]
    model = CoListeningModel.for_tests().fit(tracks, seed=0, listening=as_weights(events))
    evidence, _ = model.evidence_lists(song_codes, top_n)
    embeddings = CosineModel().fit(tracks, seed=0).embed(tracks)
    content = exact_top_n(embeddings, song_codes, top_n, progress=False)[0]
    indices, scores = complete_lists(evidence, content, song_codes, top_n)
    floor = evidence_floor(top_n)
    mixed = 0
    for row in range(len(tracks)):
        keep = indices[row] >= 0
        ranked = unpack_list(
            pack_list(row, indices[row][keep].tolist(), scores[row][keep].tolist())
        )
        above = {ranked.indexes[r] for r in range(len(ranked)) if ranked.score(r) >= floor}
        assert above == set(evidence[row][evidence[row] >= 0].tolist()), row
        count = evidence_count(ranked, floor)  # what the API uses: the prefix, counted fast
        assert set(ranked.indexes[:count]) == above, row
        mixed += 0 < len(above) < len(ranked)
    assert mixed > 0, "some lists must hold both evidence and fill for the test to mean much"
