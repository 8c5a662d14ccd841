// The listening session: a random id kept in localStorage, like/skip/play events sent to
// POST /v1/events and the "this session" panel (why each result was picked comes from the API).
// Loaded before app.js, which calls window.spotrecSession. No accounts, no personal data.
"use strict";

(function () {
  const STORAGE_KEY = "spotrec.session";
  const API = (new URLSearchParams(location.search).get("api") || "").replace(/\/+$/, "") || ".";
  const $ = (id) => document.getElementById(id);

  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    // URL-safe base64 without padding: 22 characters of A-Z a-z 0-9 - _
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
      if (saved && typeof saved.id === "string" && /^[A-Za-z0-9_-]{8,128}$/.test(saved.id)) return saved;
    } catch (err) {
      // a corrupt entry starts a new session
    }
    return { id: newId(), liked: [], skipped: [], serial: 0 };
  }

  const session = load();
  const save = () => localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  save();

  // One event per call; event_id makes a retried POST count once (docs/events.md).
  async function post(track, event, context, shown) {
    session.serial += 1;
    save();
    const body = {
      session_id: session.id,
      events: [{ track_id: track.id, event, event_id: `${session.id.slice(0, 8)}-${session.serial}`, context }],
    };
    if (shown && shown.length) body.events[0].impression = shown.slice(0, 50);
    let response;
    try {
      response = await fetch(`${API}/v1/events`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw new Error("Cannot reach the API to record your feedback. Is `spotrec serve` running?");
    }
    if (!response.ok) {
      let message = `Recording your feedback failed (${response.status}).`;
      try {
        const answer = await response.json();
        if (answer && answer.error && answer.error.message) message = `Feedback not recorded: ${answer.error.message}`;
      } catch (err) {
        // keep the generic message
      }
      throw new Error(message);
    }
    const entry = { id: track.id, name: track.name || "(untitled)", artists: (track.artists || []).map((a) => a.name) };
    if (event === "like" || event === "save") {
      session.liked = [...session.liked.filter((t) => t.id !== track.id), entry];
      session.skipped = session.skipped.filter((t) => t.id !== track.id);
    } else if (event === "skip") {
      session.skipped = [...session.skipped.filter((t) => t.id !== track.id), entry];
      session.liked = session.liked.filter((t) => t.id !== track.id);
    }
    save();
    render();
  }

  function clear() {
    // A new id is a new session: the old one's events stay in the store for the next build.
    Object.assign(session, { id: newId(), liked: [], skipped: [], serial: 0 });
    save();
    render();
  }

  function listItems(list, tracks, testid) {
    list.replaceChildren();
    for (const track of tracks) {
      const item = document.createElement("li");
      item.textContent = `${track.name} – ${track.artists.join(", ")}`;
      item.dataset.testid = testid;
      item.dataset.trackId = track.id;
      list.append(item);
    }
  }

  function render() {
    const panel = $("session-panel");
    if (!panel) return;
    listItems($("session-liked"), session.liked, "session-liked-item");
    listItems($("session-skipped"), session.skipped, "session-skipped-item");
    panel.hidden = !session.liked.length && !session.skipped.length;
  }

  window.spotrecSession = {
    get id() {
      return session.id;
    },
    isSkipped: (id) => session.skipped.some((t) => t.id === id),
    isLiked: (id) => session.liked.some((t) => t.id === id),
    post,
    clear,
    render,
  };
  document.addEventListener("DOMContentLoaded", render);
})();
