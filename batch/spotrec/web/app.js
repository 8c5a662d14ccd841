// The spotrec page: search songs, pick up to 5 seeds, ask the API for recommendations.
// Plain browser JavaScript, no build step and no network beyond our own API (works offline).
"use strict";

const MAX_SEEDS = 5; // the API's limit, as in Spotify's Web API
const SEARCH_DELAY_MS = 250; // wait for a pause in typing before asking the API
const SEARCH_LIMIT = 8;
// Used when the API does not list its models; "" asks the API for its default (best) model.
const FALLBACK_MODELS = ["cosine", "autoencoder", "transformer", "blend"];
// `?api=https://…/Prod` points the page at a deployed API (its CORS allows it).
const API_BASE = (new URLSearchParams(location.search).get("api") || "").replace(/\/+$/, "");

const $ = (id) => document.getElementById(id);
const ui = {
  search: $("search-input"),
  results: $("search-results"),
  seedCount: $("seed-count"),
  seeds: $("seeds"),
  count: $("count-input"),
  model: $("model-select"),
  recommend: $("recommend-button"),
  error: $("error"),
  status: $("status"),
  resultsSection: $("results-section"),
  resultsBody: $("results-body"),
  scoreNote: $("score-note"),
};

const state = {
  seeds: [], // track objects, in the order picked
  options: [], // the tracks currently listed under the search box
  active: -1, // index of the highlighted option (keyboard)
  searchTimer: null,
  searchSerial: 0, // only the newest search may fill the list
  shown: [], // ids of the results on screen (sent as the event's impression)
  synthetic: false, // the release's catalogue is synthetic: no "Open in Spotify" links
};

class ApiError extends Error {}

async function api(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") query.set(key, value);
  }
  const qs = query.toString();
  const url = `${API_BASE || "."}/v1/${path}${qs ? "?" + qs : ""}`;
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" } });
  } catch (err) {
    throw new ApiError("Cannot reach the API. Is `spotrec serve` still running?");
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.error && body.error.message;
    throw new ApiError(message || `The API answered ${response.status} ${response.statusText}.`);
  }
  return body;
}

// Why a result was picked, as the API says it (the track's "reasons": which of your songs it
// came from and what it shares with them). Two at most, so a row stays a row.
function reasonLine(track) {
  const reasons = Array.isArray(track.reasons) ? track.reasons.slice(0, 2) : [];
  const line = el("span", { className: "result-reason", textContent: reasons.map((r) => r.text).join("; ") });
  line.dataset.kinds = reasons.flatMap((r) => r.kinds || []).join(" ");
  return line;
}

function artistNames(track) {
  return (track.artists || []).map((a) => a.name).join(", ");
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props || {});
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// --- messages -----------------------------------------------------------------------------------

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = !message;
}

function showStatus(message) {
  ui.status.textContent = message || "";
}

// --- search as you type -------------------------------------------------------------------------

function closeSearchList() {
  ui.results.hidden = true;
  ui.results.replaceChildren();
  ui.search.setAttribute("aria-expanded", "false");
  ui.search.removeAttribute("aria-activedescendant");
  state.options = [];
  state.active = -1;
}

function renderSearchList(tracks, query) {
  state.options = tracks;
  state.active = -1;
  ui.results.replaceChildren();
  if (!tracks.length) {
    ui.results.append(el("li", { className: "empty", textContent: `No songs match “${query}”.` }));
  }
  tracks.forEach((track, index) => {
    const picked = state.seeds.some((s) => s.id === track.id);
    const option = el(
      "li",
      { id: `option-${index}`, className: "option" },
      el("span", { className: "option-name", textContent: track.name || "(untitled)" }),
      el("span", { className: "option-artists", textContent: artistNames(track) }),
    );
    option.setAttribute("role", "option");
    option.setAttribute("aria-selected", "false");
    option.dataset.testid = "search-option";
    option.dataset.trackId = track.id;
    if (picked) option.classList.add("picked");
    // mousedown, not click: it fires before the input loses focus and the list closes.
    option.addEventListener("mousedown", (event) => {
      event.preventDefault();
      pickSeed(track);
    });
    ui.results.append(option);
  });
  ui.results.hidden = false;
  ui.search.setAttribute("aria-expanded", "true");
}

async function runSearch(query) {
  const serial = ++state.searchSerial;
  try {
    const body = await api("search", { q: query, type: "track", limit: SEARCH_LIMIT });
    if (serial !== state.searchSerial) return; // a newer search is under way
    showError("");
    renderSearchList(body.tracks.items, query);
  } catch (err) {
    if (serial !== state.searchSerial) return;
    closeSearchList();
    showError(err.message);
  }
}

function onSearchInput() {
  clearTimeout(state.searchTimer);
  const query = ui.search.value.trim();
  if (!query) {
    state.searchSerial++;
    closeSearchList();
    return;
  }
  state.searchTimer = setTimeout(() => runSearch(query), SEARCH_DELAY_MS);
}

function highlight(index) {
  const options = ui.results.querySelectorAll(".option");
  if (!options.length) return;
  state.active = (index + options.length) % options.length;
  options.forEach((option, i) => {
    option.classList.toggle("active", i === state.active);
    option.setAttribute("aria-selected", String(i === state.active));
  });
  const current = options[state.active];
  ui.search.setAttribute("aria-activedescendant", current.id);
  current.scrollIntoView({ block: "nearest" });
}

function onSearchKey(event) {
  if (event.key === "ArrowDown") {
    event.preventDefault();
    highlight(state.active + 1);
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    highlight(state.active - 1);
  } else if (event.key === "Enter" && state.active >= 0) {
    event.preventDefault();
    pickSeed(state.options[state.active]);
  } else if (event.key === "Escape") {
    closeSearchList();
  }
}

// --- seeds --------------------------------------------------------------------------------------

function pickSeed(track) {
  if (state.seeds.some((s) => s.id === track.id)) {
    showStatus(`“${track.name}” is already picked.`);
    return;
  }
  if (state.seeds.length >= MAX_SEEDS) {
    showError(`You can pick up to ${MAX_SEEDS} songs. Remove one to add “${track.name}”.`);
    return;
  }
  showError("");
  state.seeds.push(track);
  ui.search.value = "";
  closeSearchList();
  renderSeeds();
  showStatus(`Added “${track.name}” by ${artistNames(track)}.`);
}

function removeSeed(id) {
  const track = state.seeds.find((s) => s.id === id);
  state.seeds = state.seeds.filter((s) => s.id !== id);
  renderSeeds();
  showError("");
  if (track) showStatus(`Removed “${track.name}”.`);
  ui.search.focus();
}

function renderSeeds() {
  ui.seeds.replaceChildren();
  for (const track of state.seeds) {
    const remove = el("button", { type: "button", className: "chip-remove", textContent: "×" });
    remove.setAttribute("aria-label", `Remove ${track.name}`);
    remove.dataset.testid = "seed-remove";
    remove.addEventListener("click", () => removeSeed(track.id));
    const chip = el(
      "li",
      { className: "chip" },
      el("span", { className: "chip-name", textContent: track.name || "(untitled)" }),
      el("span", { className: "chip-artists", textContent: artistNames(track) }),
      remove,
    );
    chip.dataset.testid = "seed-chip";
    chip.dataset.trackId = track.id;
    ui.seeds.append(chip);
  }
  const n = state.seeds.length;
  ui.seedCount.textContent = n
    ? `${n} of ${MAX_SEEDS} songs picked.`
    : `No songs picked yet (up to ${MAX_SEEDS}).`;
}

// --- recommendations ----------------------------------------------------------------------------

async function loadModels() {
  // The API may list its models with the genre seeds; otherwise use the known set.
  let models = FALLBACK_MODELS;
  try {
    const body = await api("recommendations/available-genre-seeds");
    if (body && Array.isArray(body.models) && body.models.length) models = body.models;
    if (body && typeof body.default_model === "string") {
      ui.model.options[0].textContent = `default (${body.default_model})`;
    }
    state.synthetic = Boolean(body && body.synthetic); // made-up ids: Spotify links lead nowhere
  } catch (err) {
    // The page still works with the fallback list; a real failure shows on the next request.
  }
  for (const model of models) {
    ui.model.append(el("option", { value: model, textContent: model }));
  }
}

function requestParams() {
  const count = Number.parseInt(ui.count.value, 10);
  if (!Number.isInteger(count) || count < 1 || count > 100) {
    throw new ApiError("Choose a number of recommendations from 1 to 100.");
  }
  const perSeed = document.querySelector('input[name="mode"]:checked').value === "per_seed";
  return {
    seed_tracks: state.seeds.map((s) => s.id).join(","),
    model: ui.model.value,
    [perSeed ? "per_seed" : "limit"]: count,
    session_id: window.spotrecSession.id, // the answer reacts to this session's likes and skips
  };
}

// Similarities read well with 3 decimals; fused rank scores (about 1/60) need 3 significant digits.
function formatScore(score) {
  if (score === null) return "–";
  return Math.abs(score) >= 0.1 ? score.toFixed(3) : score.toPrecision(3);
}

function renderResults(tracks, perSeed) {
  ui.resultsBody.replaceChildren();
  const top = Math.max(...tracks.map((t) => t.score || 0), 1e-9);
  tracks.forEach((track, index) => {
    const link = el("a", {
      href: (track.external_urls && track.external_urls.spotify) || `https://open.spotify.com/track/${track.id}`,
      target: "_blank",
      rel: "noopener noreferrer",
      className: "listen",
      textContent: "Open in Spotify",
    });
    link.setAttribute("aria-label", `Open ${track.name} in Spotify (new tab)`);
    link.dataset.testid = "result-link";
    link.addEventListener("click", () => feedback(track, "play", index, false)); // a play
    const actions = el("td", { className: "actions" });
    for (const [event, label] of [["like", "Like"], ["skip", "Skip"]]) {
      const button = el("button", { type: "button", className: `feedback ${event}`, textContent: label });
      button.setAttribute("aria-label", `${label} ${track.name}`);
      button.setAttribute("aria-pressed", String(event === "like" && window.spotrecSession.isLiked(track.id)));
      button.dataset.testid = `result-${event}`;
      button.addEventListener("click", () => feedback(track, event, index, true));
      actions.append(button);
    }
    const genres = el("td", { className: "genres" });
    for (const genre of track.genres || []) genres.append(el("span", { className: "tag", textContent: genre }));
    const score = typeof track.score === "number" ? track.score : null;
    const bar = el("span", { className: "bar" });
    bar.style.setProperty("--fill", score === null ? "0" : String(Math.max(0, score) / top));
    const cells = [
      el("td", { className: "num rank", textContent: String(index + 1) }),
      el(
        "td",
        { className: "song" },
        el("span", { className: "result-name", textContent: track.name || "(untitled)" }),
        el("span", { className: "result-artists", textContent: artistNames(track) }),
        reasonLine(track),
      ),
      el("td", { className: "album", textContent: (track.album && track.album.name) || "" }),
      genres,
      el("td", { className: "num score" }, el("span", { textContent: formatScore(score) }), bar),
      el("td", { className: "link" }, state.synthetic ? null : link),
      actions,
    ];
    const row = el("tr", {}, ...cells);
    row.dataset.testid = "result-row";
    row.dataset.trackId = track.id;
    cells[1].querySelector(".result-name").dataset.testid = "result-name";
    cells[1].querySelector(".result-artists").dataset.testid = "result-artists";
    cells[2].dataset.testid = "result-album";
    cells[3].dataset.testid = "result-genres";
    cells[4].dataset.testid = "result-score";
    cells[1].querySelector(".result-reason").dataset.testid = "result-reason";
    ui.resultsBody.append(row);
  });
  ui.scoreNote.textContent = perSeed
    ? "Score: how similar each song is to the song of yours it was found for (1 = identical)."
    : "Score: the songs' combined rank across your songs (reciprocal rank fusion); higher is closer.";
  if (state.synthetic) {
    ui.scoreNote.textContent +=
      " This demo catalogue is synthetic: its songs are made up, so there are no Spotify links.";
  }
  ui.resultsSection.hidden = tracks.length === 0;
  state.shown = tracks.map((t) => t.id);
}

// Like / skip: record the event, then ask again so the list updates in place. A play (the
// Spotify link) is recorded without reloading the list.
async function feedback(track, event, position, refresh) {
  showError("");
  try {
    const context = { seed_tracks: state.seeds.map((s) => s.id), position };
    if (ui.model.value) context.model = ui.model.value;
    await window.spotrecSession.post(track, event, context, state.shown);
    showStatus(`${event === "like" ? "Liked" : event === "skip" ? "Skipped" : "Played"} “${track.name}”.`);
    if (refresh) await recommend();
  } catch (err) {
    showError(err.message);
  }
}

async function recommend() {
  showError("");
  if (!state.seeds.length) {
    showError("Pick at least one song first: type in the search box above.");
    ui.search.focus();
    return;
  }
  let params;
  try {
    params = requestParams();
  } catch (err) {
    showError(err.message);
    ui.count.focus();
    return;
  }
  ui.recommend.disabled = true;
  ui.recommend.setAttribute("aria-busy", "true");
  showStatus("Finding songs…");
  try {
    const body = await api("recommendations", params);
    renderResults(body.tracks, Boolean(params.per_seed));
    const songs = state.seeds.length === 1 ? "1 song" : `${state.seeds.length} songs`;
    const how = params.per_seed ? `, up to ${params.per_seed} per song` : "";
    showStatus(
      body.tracks.length
        ? `${body.tracks.length} recommendations for ${songs}${how}.`
        : "No recommendations for these songs. Try other songs or another model.",
    );
  } catch (err) {
    ui.resultsSection.hidden = true;
    showStatus("");
    showError(err.message);
  } finally {
    ui.recommend.disabled = false;
    ui.recommend.removeAttribute("aria-busy");
  }
}

// --- wiring -------------------------------------------------------------------------------------

ui.search.addEventListener("input", onSearchInput);
ui.search.addEventListener("keydown", onSearchKey);
ui.search.addEventListener("blur", () => setTimeout(closeSearchList, 150));
ui.search.addEventListener("focus", () => {
  if (ui.search.value.trim()) onSearchInput();
});
ui.recommend.addEventListener("click", recommend);
$("session-clear").addEventListener("click", () => {
  window.spotrecSession.clear();
  showStatus("Session cleared: your next recommendations start fresh.");
  if (!ui.resultsSection.hidden && state.seeds.length) recommend();
});
renderSeeds();
loadModels();
