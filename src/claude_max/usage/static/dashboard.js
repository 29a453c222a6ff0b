// The claude-max dashboard: fetches /v1/claude-max/stats and draws it as SVG. No libraries,
// no build step. Every text goes in through textContent (never innerHTML).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const REFRESH_MS = 30000;
let since = new URLSearchParams(location.search).get("since") || "24h";

function el(tag, attrs, ...children) {
  const node = tag.startsWith("svg:")
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

const int = (n) => Math.round(n).toLocaleString("en-US");
const compact = (n) =>
  n >= 1e6 ? (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + "M"
  : n >= 1e4 ? (n / 1e3).toFixed(0) + "k"
  : int(n);
const usd = (n) => "$" + n.toFixed(n >= 100 ? 0 : n >= 1 ? 2 : 4);
const ms = (n) => (n === null || n === undefined ? "–" : n >= 1000 ? (n / 1000).toFixed(2) + " s" : int(n) + " ms");
const pct = (n) => (n === null || n === undefined ? "–" : Math.round(n * 100) + "%");
const when = (epoch) => new Date(epoch * 1000).toLocaleString([], {
  month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
});

function inHowLong(epoch) {
  const s = epoch - Date.now() / 1000;
  if (s <= 0) return "reset";
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h >= 24 ? `in ${Math.floor(h / 24)} d ${h % 24} h` : h ? `in ${h} h ${m} min` : `in ${m} min`;
}

function gauge(name, w) {
  // A 240° arc: the track, then the used share over it.
  const r = 52, cx = 70, cy = 70, sweep = 240, start = 150;
  const point = (deg) => {
    const a = (deg * Math.PI) / 180;
    return [cx + r * Math.cos(a), cy + r * Math.sin(a)];
  };
  const arc = (from, to) => {
    const [x1, y1] = point(from), [x2, y2] = point(to);
    return `M ${x1} ${y1} A ${r} ${r} 0 ${to - from > 180 ? 1 : 0} 1 ${x2} ${y2}`;
  };
  const used = Math.max(0, Math.min(1, w.utilization));
  const svg = el("svg:svg", { viewBox: "0 0 140 120", width: 170, role: "img",
    "aria-label": `${name} ${Math.round(used * 100)}% used` },
    el("svg:path", { d: arc(start, start + sweep), class: "track", fill: "none", "stroke-width": 12, "stroke-linecap": "round" }));
  if (used > 0.001) {
    svg.append(el("svg:path", { d: arc(start, start + sweep * used), class: "used", fill: "none", "stroke-width": 12, "stroke-linecap": "round" }));
  }
  svg.append(el("svg:text", { x: cx, y: cy + 8, "text-anchor": "middle" }, Math.round(used * 100) + "%"));
  const label = name.replaceAll("_", " ").replace("five hour", "5-hour").replace("seven day", "7-day");
  const level = used >= 0.9 || w.status === "rejected" ? "full" : used >= 0.7 || w.status === "allowed_warning" ? "warn" : "";
  return el("div", { class: `gauge ${level}`, "data-window": name },
    svg,
    el("div", { class: "name" }, label),
    el("div", { class: "resets" }, w.resets_at ? `resets ${inHowLong(w.resets_at)} (${when(w.resets_at)})` : ""));
}

function drawPlan(plan) {
  const box = document.getElementById("plan");
  box.replaceChildren();
  const windows = plan ? Object.entries(plan.windows) : [];
  if (!windows.length) {
    box.append(el("p", { class: "muted" }, "No plan reading yet."));
    return;
  }
  for (const [name, w] of windows) box.append(gauge(name, w));
  const note = `read ${when(plan.observed_at)}` + (plan.using_overage ? " · using overage" : "");
  box.append(el("p", { class: "muted", id: "plan-read" }, note));
}

function drawTotals(t) {
  const tiles = [
    ["requests", "Requests", int(t.requests)],
    ["errors", "Errors", int(t.errors)],
    ["input_tokens", "Input tokens", int(t.input_tokens)],
    ["output_tokens", "Output tokens", int(t.output_tokens)],
    ["cache_read_tokens", "Cache read", int(t.cache_read_tokens)],
    ["cache_write_tokens", "Cache write", int(t.cache_write_tokens)],
    ["cost_usd", "List-price cost", usd(t.cost_usd)],
    ["ttft_p50_ms", "TTFT p50", ms(t.ttft_p50_ms)],
    ["ttft_p95_ms", "TTFT p95", ms(t.ttft_p95_ms)],
    ["duration_p95_ms", "Duration p95", ms(t.duration_p95_ms)],
    ["warm_hit_rate", "Warm hits", pct(t.warm_hit_rate)],
  ];
  document.getElementById("totals").replaceChildren(...tiles.map(([key, label, value]) =>
    el("div", { class: "tile" }, el("div", { class: "label" }, label),
      el("div", { class: "value", "data-figure": key }, value))));
}

function bars(container, points, layers, label) {
  // Stacked bars, one per bucket; `layers`: [[field, class], ...] bottom first.
  const W = 600, H = 180, left = 44, bottom = 20, top = 8;
  const totals = points.map((p) => layers.reduce((s, [f]) => s + p[f], 0));
  const max = Math.max(1, ...totals);
  const slot = (W - left) / Math.max(1, points.length);
  const svg = el("svg:svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img", "aria-label": label });
  for (const frac of [0, 0.5, 1]) {
    const y = top + (H - top - bottom) * (1 - frac);
    svg.append(el("svg:line", { x1: left, x2: W, y1: y, y2: y, class: "grid" }));
    svg.append(el("svg:text", { x: left - 4, y: y + 3, "text-anchor": "end", class: "axis" }, compact(max * frac)));
  }
  points.forEach((p, i) => {
    let y = H - bottom;
    for (const [field, cls] of layers) {
      const h = ((H - top - bottom) * p[field]) / max;
      if (h > 0) {
        y -= h;
        svg.append(el("svg:rect", { x: left + i * slot + slot * 0.12, y, width: Math.max(1, slot * 0.76), height: h, class: cls },
          el("svg:title", {}, `${p.key}: ${int(p[field])} ${field.replace(/_/g, " ")}`)));
      }
    }
  });
  const every = Math.ceil(points.length / 6);
  points.forEach((p, i) => {
    if (i % every === 0) {
      const text = p.key.length > 10 ? p.key.slice(5) : p.key;
      svg.append(el("svg:text", { x: left + i * slot + slot / 2, y: H - 5, "text-anchor": "middle", class: "axis" }, text));
    }
  });
  container.replaceChildren(svg);
}

function share(value, max) {
  const w = max ? (80 * value) / max : 0;
  return el("td", { class: "share" }, el("svg:svg", { viewBox: "0 0 80 10" },
    el("svg:rect", { x: 0, y: 0, width: 80, height: 10, class: "track" }),
    el("svg:rect", { x: 0, y: 0, width: w, height: 10, class: "bar" })));
}

function drawGroups(id, groups, what) {
  const max = Math.max(0, ...groups.map((g) => g.requests));
  const head = el("tr", {}, ...[what, "", "Requests", "Errors", "Tokens in", "Tokens out", "Cost", "TTFT p50", "TTFT p95", "Warm"].map((h) => el("th", {}, h)));
  const rows = groups.map((g) => el("tr", { "data-key": g.key },
    el("td", {}, g.key), share(g.requests, max), el("td", {}, int(g.requests)), el("td", {}, int(g.errors)),
    el("td", {}, int(g.input_tokens)), el("td", {}, int(g.output_tokens)), el("td", {}, usd(g.cost_usd)),
    el("td", {}, ms(g.ttft_p50_ms)), el("td", {}, ms(g.ttft_p95_ms)), el("td", {}, pct(g.warm_hit_rate))));
  const table = document.getElementById(id);
  table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
  if (!rows.length) table.append(el("tbody", {}, el("tr", {}, el("td", { class: "muted" }, "No requests in this period."))));
}

function drawErrors(errors) {
  const table = document.getElementById("errors");
  if (!errors.length) {
    table.replaceChildren(el("tbody", {}, el("tr", {}, el("td", { class: "muted" }, "No errors in this period."))));
    return;
  }
  table.replaceChildren(
    el("thead", {}, el("tr", {}, ...["When", "Status", "Kind", "Reason", "Client", "Model", "Endpoint"].map((h) => el("th", h === "Reason" ? { class: "msg" } : {}, h)))),
    el("tbody", {}, ...errors.map((e) => el("tr", { class: "error-row" },
      el("td", {}, when(e.at)), el("td", {}, e.status), el("td", {}, e.error || ""),
      el("td", { class: "msg" }, e.message || ""), el("td", {}, e.client), el("td", {}, e.model || ""),
      el("td", {}, e.endpoint)))));
}

function draw(data) {
  drawPlan(data.plan);
  drawTotals(data.total);
  const unit = `per ${data.series.unit}`;
  for (const span of document.querySelectorAll("[data-unit]")) span.textContent = unit;
  bars(document.getElementById("requests-chart"), data.series.points,
    [["requests", "bar"]], "Requests " + unit);
  bars(document.getElementById("tokens-chart"), data.series.points,
    [["input_tokens", "in"], ["output_tokens", "out"], ["cache_read_tokens", "cache"]], "Tokens " + unit);
  drawGroups("clients", data.clients, "Client");
  drawGroups("models", data.models, "Model");
  drawErrors(data.recent_errors);
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
}

async function load() {
  const failure = document.getElementById("failure");
  try {
    const response = await fetch(`/v1/claude-max/stats?since=${encodeURIComponent(since)}`,
      { credentials: "same-origin", cache: "no-store" });
    const data = await response.json();
    if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
    draw(data);
    failure.hidden = true;
    document.body.dataset.state = "ready";
  } catch (error) {
    failure.textContent = `Could not load the figures: ${error.message}`;
    failure.hidden = false;
    document.body.dataset.state = "failed";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("#periods button")) {
    button.classList.toggle("on", button.dataset.since === since);
    button.addEventListener("click", () => {
      since = button.dataset.since;
      for (const b of document.querySelectorAll("#periods button")) b.classList.toggle("on", b === button);
      history.replaceState(null, "", `?since=${since}`);
      load();
    });
  }
  load();
  setInterval(load, REFRESH_MS);
});
