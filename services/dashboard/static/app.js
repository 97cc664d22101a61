// newswire dashboard: alerts over SSE (from the Redis stream) as one card per story, filters,
// detail view, map, stats.
"use strict";
const SEVERITIES = ["low", "medium", "high", "critical"];
const state = { alerts: new Map(), stories: new Map(), centroids: {}, selected: null };
const rank = (s) => SEVERITIES.indexOf(s);
const $ = (id) => document.getElementById(id);

// Invisible controls that reorder or hide text (bidi embeddings, overrides and isolates, marks,
// zero-width space, word joiner, BOM, C0/C1 controls but tab and newline): dropped from display,
// so a title cannot pose as another. ZWJ/ZWNJ stay: scripts and emoji need them to join.
const CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

// Text as HTML: markup and Markdown stay literal text, controls are neutralised.
function esc(text) {
  return String(text ?? "").replace(CONTROLS, "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Every API call: an expired session (401) goes back to the login page.
async function api(url, options) {
  const r = await fetch(url, { credentials: "same-origin", ...options });
  if (r.status === 401) location.assign("/login");
  return r;
}

// ---- filters -------------------------------------------------------------------------------
function visible(a) {
  const sev = [...document.querySelectorAll("input[name=sev]:checked")].map((i) => i.value);
  if (!sev.includes(a.severity)) return false;
  const q = $("q").value.trim().toLowerCase();
  if (!q) return true;
  return [a.rule_id, a.title, ...(a.countries || [])].join(" ").toLowerCase().includes(q);
}

function storyVisible(st) {
  return st.alerts.some((a) => visible(a));
}

function render() {
  const list = $("alerts");
  for (const li of list.children) li.hidden = !storyVisible(state.stories.get(li.dataset.storyId));
  const n = state.stories.size;
  $("count").textContent = `${n} stor${n === 1 ? "y" : "ies"}, ${state.alerts.size} alert${state.alerts.size === 1 ? "" : "s"}`;
  $("empty").hidden = n > 0;
  drawDots();
}

// ---- the story cards: one per story, its rules as badges, its articles, its severity history --
function topAlert(st) {
  return st.alerts.reduce((b, a) => (rank(a.severity) > rank(b.severity) ? a : b), st.alerts[0]);
}

function placeOf(a) {
  const loc = a.event_location;
  if (loc && loc.kind && loc.kind !== "country") return `${loc.name}, ${loc.country || "?"}`;
  return loc ? loc.name : (a.countries || []).join(", ") || "no place";
}

function drawCard(st) {
  const best = topAlert(st), last = st.alerts[st.alerts.length - 1];
  const li = st.li;
  li.className = `alert story sev-${best.severity}`;
  li.dataset.alertId = last.id;
  li.dataset.severity = best.severity;
  li.dataset.articleId = last.article_id;
  const rules = [...new Set(st.alerts.map((a) => a.rule_id))].sort();
  const articles = Math.max(st.articles || 0, ...st.alerts.map((a) => a.story_articles || 1));
  const history = st.history.length ? st.history : st.alerts.map((a) => a.severity);
  const steps = history.filter((s, i) => i === 0 || rank(s) > rank(history[i - 1]));
  const when = (last.times && (last.times.alerted || last.times.ingested)) || "";
  li.innerHTML =
    `<span class="badge ${esc(best.severity)}">${esc(best.severity)}</span> ` +
    `<span class="title" dir="auto">${esc(last.title)}</span>` +
    `<div class="rules">${rules.map((r) => `<span class="rule">${esc(r)}</span>`).join(" ")}</div>` +
    `<div class="meta"><span class="articles">${articles} article${articles === 1 ? "" : "s"}</span> · ` +
    `<span class="history">${steps.map(esc).join(" → ")}</span> · ${esc(placeOf(best))} · ` +
    `${esc(when.slice(0, 19).replace("T", " "))}</div>`;
  li.hidden = !storyVisible(st);
}

function addAlert(a) {
  if (!a || !a.id || state.alerts.has(a.id)) return;
  state.alerts.set(a.id, a);
  const sid = a.story_id || a.id;
  let st = state.stories.get(sid);
  if (!st) {
    const li = document.createElement("li");
    li.dataset.storyId = sid;
    st = { id: sid, alerts: [], li, articles: 0, history: [] };
    state.stories.set(sid, st);
    li.addEventListener("click", () => showDetail(st.alerts[st.alerts.length - 1].id));
  }
  st.alerts.push(a);
  drawCard(st);
  $("alerts").prepend(st.li);  // a story that grows or escalates comes back to the top
  render();
  if (location.hash === `#alert=${encodeURIComponent(a.id)}`) showDetail(a.id);  // links in messages
}

// the stories' article counts and severity history, from their records in Redis
async function refreshStories() {
  const ids = [...state.stories.keys()].slice(-200);
  if (!ids.length) return;
  try {
    const r = await api(`/api/stories?${ids.map((i) => `id=${encodeURIComponent(i)}`).join("&")}`);
    if (!r.ok) return;
    const got = await r.json();
    for (const [id, info] of Object.entries(got)) {
      const st = state.stories.get(id);
      if (!st || !info) continue;
      const changed = info.articles !== st.articles || info.history.length !== st.history.length;
      st.articles = info.articles;
      st.history = info.history;
      if (changed) drawCard(st);
    }
  } catch (err) { /* the next refresh will tell */ }
}

// ---- detail view: article text with matched terms and entities highlighted ----------------
function highlight(text, ranges) {
  // ranges: [start, end, cls]; overlapping ranges keep the earlier one
  ranges.sort((x, y) => x[0] - y[0] || y[1] - x[1]);
  let out = "", pos = 0;
  for (const [s, e, cls] of ranges) {
    if (s < pos || e <= s) continue;
    out += esc(text.slice(pos, s)) + `<mark class="${cls}">${esc(text.slice(s, e))}</mark>`;
    pos = e;
  }
  return out + esc(text.slice(pos));
}

function termRanges(text, terms, cls = "term") {
  const ranges = [];
  const lower = text.toLowerCase();
  for (const term of terms) {
    const t = term.toLowerCase();
    if (!t) continue;
    for (let i = lower.indexOf(t); i >= 0; i = lower.indexOf(t, i + t.length)) ranges.push([i, i + t.length, cls]);
  }
  return ranges;
}

async function showDetail(id) {
  const a = state.alerts.get(id);
  state.selected = id;
  for (const li of $("alerts").children) li.classList.toggle("selected", li.dataset.alertId === id);
  const terms = [...new Set((a.matches || []).map((m) => m.term))];
  const box = $("detail");
  box.hidden = false;
  box.innerHTML =
    `<h2><span class="badge ${esc(a.severity)}">${esc(a.severity)}</span> <span dir="auto">${esc(a.title)}</span></h2>` +
    `<div class="meta">rule <b>${esc(a.rule_id)}</b> — ${esc(a.rule_description)} · score ${esc(a.score)} · ` +
    `place ${esc(placeOf(a))} · mentioned ${esc((a.countries_mentioned || a.countries || []).join(", ") || "–")}` +
    (/^https?:\/\//i.test(a.url || "") ? ` · <a href="${esc(a.url)}" target="_blank" rel="noopener noreferrer">source</a>` : "") + `</div>` +
    `<div class="meta">matched: ${terms.map((t) => `<mark class="term">${esc(t)}</mark>`).join(" ")}` +
    ((a.entities || []).length ? ` · entities: ${a.entities.map((e) => `<mark class="entity">${esc(e)}</mark>`).join(" ")}` : "") + `</div>` +
    `<div class="body" id="detail-body">loading the article…</div>`;
  let html;
  try {
    const r = await api(`/api/articles/${encodeURIComponent(a.article_id)}`);
    if (!r.ok) throw new Error(String(r.status));
    const art = await r.json();
    const ranges = [...termRanges(art.body, terms), ...termRanges(art.body, a.entities || [], "entity")];
    for (const e of art.entities || []) for (const [s, t] of e.spans || []) ranges.push([s, t, "entity"]);
    html = highlight(art.body, ranges);
    box.dataset.text = "article";
  } catch (err) {  // text not known (yet): the matched sentences are in the alert itself
    const sentences = [...new Set((a.matches || []).map((m) => m.sentence))];
    html = sentences.map((s) => highlight(s, [...termRanges(s, terms), ...termRanges(s, a.entities || [], "entity")])).join("\n\n") || "(no text)";
    box.dataset.text = "sentences";
  }
  if (state.selected === id) $("detail-body").innerHTML = html;
}

// ---- map: Natural Earth land (world-atlas TopoJSON), equirectangular --------------------------
const project = ([lon, lat]) => [(lon + 180) * 2, (90 - lat) * 2];

function decodeArcs(topo) {
  const [sx, sy] = topo.transform.scale, [tx, ty] = topo.transform.translate;
  return topo.arcs.map((arc) => {
    let x = 0, y = 0;
    return arc.map(([dx, dy]) => { x += dx; y += dy; return [x * sx + tx, y * sy + ty]; });
  });
}

function ringPath(ring, arcs) {
  const pts = [];
  for (const i of ring) {
    const arc = i >= 0 ? arcs[i] : arcs[~i].slice().reverse();
    pts.push(...(pts.length ? arc.slice(1) : arc));
  }
  // a ring crossing the antimeridian is cut there instead of drawing a line across the map
  let d = "";
  pts.forEach((p, i) => {
    const jump = i > 0 && Math.abs(p[0] - pts[i - 1][0]) > 180;
    d += (i === 0 || jump ? "M" : "L") + project(p).map((v) => v.toFixed(1)).join(",");
  });
  return d + "Z";
}

async function drawLand() {
  const topo = await (await fetch("/static/land-110m.json")).json();
  const arcs = decodeArcs(topo);
  let d = "";
  for (const g of topo.objects.land.geometries) {
    const polys = g.type === "Polygon" ? [g.arcs] : g.arcs;
    for (const poly of polys) for (const ring of poly) d += ringPath(ring, arcs);
  }
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", d);
  $("land").append(path);
}

function drawDots() {
  // one dot per place where stories happened: the event location, else its country's centroid
  const byPlace = {};
  for (const st of state.stories.values()) {
    if (!storyVisible(st)) continue;
    const a = topAlert(st), loc = a.event_location;
    let key, code, name, lat, lon;
    if (loc && loc.lat != null && loc.lon != null) {
      [key, code, name, lat, lon] = [`${loc.name}|${loc.country}`, loc.country || "", loc.name, loc.lat, loc.lon];
    } else {
      code = (a.countries || [])[0];
      const c = state.centroids[code];
      if (!c) continue;
      [key, name, lat, lon] = [code, c.name, c.lat, c.lon];
    }
    const cur = byPlace[key] || { n: 0, sev: 0, code, name, lat, lon };
    byPlace[key] = { ...cur, n: cur.n + 1, sev: Math.max(cur.sev, rank(a.severity)) };
  }
  const g = $("dots");
  g.innerHTML = "";
  for (const { n, sev, code, name, lat, lon } of Object.values(byPlace)) {
    const c = { name };
    const [x, y] = project([lon, lat]);
    const dot = document.createElementNS("http://www.w3.org/2000/svg", "circle");
    dot.setAttribute("cx", x); dot.setAttribute("cy", y);
    dot.setAttribute("r", String(3 + Math.min(12, Math.sqrt(n) * 2)));
    dot.setAttribute("fill", `var(--${SEVERITIES[sev]})`);
    dot.dataset.country = code;
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = `${c.name}: ${n} stor${n === 1 ? "y" : "ies"}`;
    dot.append(title);
    g.append(dot);
  }
}

// ---- throughput and lag ----------------------------------------------------------------------
async function refreshStats() {
  try {
    const s = await (await api("/api/stats")).json();
    $("stats").tBodies[0].innerHTML = Object.entries(s.totals || {}).map(([k, v]) =>
      `<tr><td>${esc(k)}</td><td class="num">${v}</td><td class="num">${((s.per_s || {})[k] ?? 0).toFixed(1)}</td></tr>`).join("");
    $("lag").tBodies[0].innerHTML = Object.entries(s.lag || {}).map(([k, v]) =>
      `<tr><td>${esc(k)}</td><td class="num">${v}</td></tr>`).join("");
  } catch (err) { /* the next refresh will tell */ }
}

// ---- the live stream -------------------------------------------------------------------------
function connect() {
  const es = new EventSource("/events");  // reconnects itself, sending Last-Event-ID
  es.addEventListener("alert", (ev) => { try { addAlert(JSON.parse(ev.data)); } catch (err) { console.warn(err); } });
  es.addEventListener("ready", () => { $("conn").textContent = "live"; $("conn").className = "conn on"; document.body.dataset.ready = "1"; });
  es.addEventListener("page", () => { $("conn").textContent = "catching up…"; });  // the reconnect brings the next page
  es.onerror = () => {
    $("conn").textContent = "reconnecting…"; $("conn").className = "conn off";
    // refused (401: session over, 503: too many streams): the browser gives up; ask and retry
    if (es.readyState === EventSource.CLOSED) {
      api("/api/session").finally(() => setTimeout(connect, 5000));
    }
  };
}

// the logout button, shown when a login is configured; its POST carries the session's CSRF token
async function setupSession() {
  const r = await api("/api/session");
  if (!r.ok) return;
  const me = await r.json();
  if (!me.login) return;
  const button = $("logout");
  button.hidden = false;
  button.title = `logged in as ${me.user}`;
  button.addEventListener("click", async () => {
    await api("/logout", { method: "POST", headers: { "X-CSRF-Token": me.csrf } });
    location.assign("/login");
  });
}

document.querySelectorAll("#filters input").forEach((i) => i.addEventListener("input", render));
api("/api/countries").then((r) => r.json()).then((c) => { state.centroids = c; drawDots(); });
drawLand();
setupSession();
connect();
refreshStats();
setInterval(refreshStats, 2000);
setInterval(refreshStories, 3000);
