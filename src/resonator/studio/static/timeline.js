"use strict";
// The studio's timeline, drawn on a canvas from the plan data the server sends
// (resonator.recipe.plan.plan_series): phases, the temperature, one lane per layer (where it
// sounds, its parameters over time with units), check results as spans, the playhead.

const TL = {
  gutter: 150, right: 10, axisH: 22, phaseH: 20, tempH: 54, laneMin: 54, lineH: 13,
  colors: { pass: "#2e9d46", fail: "#d62d20", skip: "#9a9a9a", inconclusive: "#e0a100", temp: "#e07b00",
            playhead: "#3d6fb6", grid: "#e9e6de", text: "#222", muted: "#777" },
  params: ["#3d6fb6", "#a05a00", "#7a4cb0", "#1f8a8a", "#b03a6a", "#5a7a1f"],
  lanes: ["#6d93c9", "#d9a05b", "#9b7fc7", "#63b3a8", "#d17f9f", "#9cb86a"],
};

// m:ss (h:mm:ss) with `decimals` digits of seconds (true: 1)
function fmtTime(s, decimals) {
  const neg = s < 0; s = Math.abs(s);
  const d = decimals === true ? 1 : (decimals || 0);
  if (d) s = Math.round(s * 10 ** d) / 10 ** d;
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  let sec = s % 60;
  sec = d ? sec.toFixed(d).padStart(3 + d, "0") : String(Math.floor(sec)).padStart(2, "0");
  return (neg ? "-" : "") + (h ? `${h}:${String(m).padStart(2, "0")}` : `${m}`) + `:${sec}`;
}

function fmtVal(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  const n = Math.abs(v) >= 1000 ? Math.round(v) : Number(v.toPrecision(4));
  return unit ? (unit === "/min" ? `${n}/min` : `${n} ${unit}`) : `${n}`;
}

// a check span's target ("kind "name" (layer)") and expectation ("5 Hz ± 0.05")
function spanName(s) { return `${s.kind}${s.name ? ` "${s.name}"` : ""}${s.layer ? ` (${s.layer})` : ""}`; }
function expectedText(s) {
  const e = typeof s.expected === "number" ? fmtVal(s.expected, s.unit) : String(s.expected);
  return s.tolerance ? `${e} ± ${fmtVal(s.tolerance, "")}` : e;
}

// a layer setting as lane text: scalars, lists of them, "{…}" for tables (music playlists)
function showSetting(v) {
  if (Array.isArray(v)) return v.map(showSetting).join(",");
  return v !== null && typeof v === "object" ? "{…}" : String(v);
}

// text cut to fit `width` pixels with an ellipsis (labels in the lanes' column)
function fitText(g, text, width) {
  if (g.measureText(text).width <= width) return text;
  while (text.length > 1 && g.measureText(text + "…").width > width) text = text.slice(0, -1);
  return text + "…";
}

// linear interpolation of samples (ts ascending) at t
function sampleAt(ts, vs, t) {
  if (!ts.length) return null;
  if (t <= ts[0]) return vs[0];
  const n = ts.length - 1;
  if (t >= ts[n]) return vs[n];
  let lo = 0, hi = n;
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (ts[mid] <= t) lo = mid; else hi = mid; }
  const f = (t - ts[lo]) / (ts[hi] - ts[lo] || 1);
  return vs[lo] + f * (vs[hi] - vs[lo]);
}

class Timeline {
  constructor(canvas, tooltip, { onSeek, onWindow } = {}) {
    this.canvas = canvas; this.tooltip = tooltip;
    this.onSeek = onSeek || (() => {}); this.onWindow = onWindow || (() => {});
    this.full = null; this.detail = null; this.spans = []; this.playhead = null; this.heard = null;
    this.v0 = 0; this.v1 = 1; this.hover = null; this.drag = null;
    this.ctx = canvas.getContext("2d");
    canvas.addEventListener("wheel", (e) => this._wheel(e), { passive: false });
    canvas.addEventListener("mousedown", (e) => this._down(e));
    window.addEventListener("mousemove", (e) => this._move(e));
    window.addEventListener("mouseup", (e) => this._up(e));
    canvas.addEventListener("mouseleave", () => { this.hover = null; this._tip(null); this.draw(); });
    canvas.addEventListener("dblclick", () => this.setView(0, this.duration()));
    canvas.addEventListener("keydown", (e) => this._key(e));
    new ResizeObserver(() => this.draw()).observe(canvas.parentElement);
  }

  duration() { return this.full ? this.full.duration_s : 1; }

  // new plan data for the whole session (keeps the view when the length is unchanged)
  setSeries(series) {
    const sameLength = this.full && Math.abs(this.full.duration_s - series.duration_s) < 1e-9;
    this.full = series; this.detail = null;
    if (!sameLength) { this.v0 = 0; this.v1 = series.duration_s; }
    else if (this.v0 > 0 || this.v1 < series.duration_s) this.onWindow(this.v0, this.v1);
    this.draw();
  }

  // finer data for the current view (answers to onWindow)
  setDetail(series) { this.detail = series; this.draw(); }

  setChecks(spans) { this.spans = spans || []; this.draw(); }

  setPlayhead(t) { this.playhead = t; this.draw(); }

  // the temperature heard while playing (planned + the slider's offset): a dot at the playhead
  setHeard(value) { if (this.heard !== value) { this.heard = value; this.draw(); } }

  setStale(stale) { if (this.stale !== stale) { this.stale = stale; this.draw(); } }

  setView(a, b) {
    const d = this.duration(), minSpan = Math.min(d, 2);
    if (b - a < minSpan) { const c = (a + b) / 2; a = c - minSpan / 2; b = c + minSpan / 2; }
    if (b - a > d) { a = 0; b = d; }
    if (a < 0) { b -= a; a = 0; }
    if (b > d) { a -= b - d; b = d; }
    this.v0 = Math.max(0, a); this.v1 = b;
    this.draw();
    clearTimeout(this._wt);
    this._wt = setTimeout(() => this.onWindow(this.v0, this.v1), 150);
  }

  plotWidth() { return Math.max(10, this.canvas.clientWidth - TL.gutter - TL.right); }
  timeToX(t) { return TL.gutter + (t - this.v0) / (this.v1 - this.v0) * this.plotWidth(); }
  xToTime(x) { return this.v0 + (x - TL.gutter) / this.plotWidth() * (this.v1 - this.v0); }

  // the data to draw: the detail series when it covers the view
  data() {
    const d = this.detail;
    if (d && d.t.length && d.t[0] <= this.v0 + 1e-6 && d.t[d.t.length - 1] >= this.v1 - 1e-6 &&
        d.layers.length === this.full.layers.length) return d;
    return this.full;
  }

  checkRows() {
    const rows = [];
    const sorted = [...this.spans].sort((a, b) => a.start_s - b.start_s);
    for (const s of sorted) {
      let r = rows.findIndex((row) => row[row.length - 1].end_s <= s.start_s);
      if (r < 0) { rows.push([]); r = rows.length - 1; }
      rows[r].push(s); s._row = r;
    }
    return rows.length;
  }

  // the lanes from top to bottom; the temperature and layer lanes grow into free room
  layout() {
    const lanes = [{ kind: "axis", h: TL.axisH }, { kind: "phases", h: TL.phaseH },
                   { kind: "temperature", h: TL.tempH, grow: 96 }];
    if (this.full) {
      this.full.layers.forEach((layer, i) => {
        const lines = 1 + layer.params.length + Object.keys(layer.settings || {}).length;
        lanes.push({ kind: "layer", index: i, h: Math.max(TL.laneMin, 8 + TL.lineH * lines), grow: 140 });
      });
    }
    if (this.spans.length) {
      const rows = this.checkRows();
      lanes.push({ kind: "checks", h: 20 + rows * 12, rows });
    }
    let room = this.canvas.parentElement.clientHeight - 4 - lanes.reduce((a, l) => a + l.h, 0);
    for (let growing = lanes.filter((l) => l.grow && l.h < l.grow); room >= 1 && growing.length;
         growing = growing.filter((l) => l.h < l.grow)) {
      const share = room / growing.length;
      for (const l of growing) { const add = Math.min(share, l.grow - l.h); l.h += add; room -= add; }
    }
    let y = 0;
    for (const l of lanes) { l.h = Math.floor(l.h); l.y = y; y += l.h; delete l.grow; }
    return { lanes, height: y + 4 };
  }

  draw() {
    const cv = this.canvas, dpr = window.devicePixelRatio || 1;
    const { lanes, height } = this.layout();
    this.lanes = lanes;
    const w = cv.parentElement.clientWidth;
    if (cv.width !== Math.round(w * dpr) || cv.height !== Math.round(height * dpr)) {
      cv.width = Math.round(w * dpr); cv.height = Math.round(height * dpr);
      cv.style.height = height + "px";
    }
    const g = this.ctx;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, height);
    g.fillStyle = "#fff"; g.fillRect(0, 0, w, height);
    if (!this.full) {
      g.fillStyle = TL.colors.muted; g.font = "13px system-ui";
      g.fillText("The timeline appears when the recipe is valid.", TL.gutter, 40);
      return;
    }
    const data = this.data();
    const x0 = TL.gutter, x1 = TL.gutter + this.plotWidth();
    g.save();
    // phase bands across every lane
    this.full.phases.forEach((p, i) => {
      const a = Math.max(x0, this.timeToX(p.start_s)), b = Math.min(x1, this.timeToX(p.end_s));
      if (b <= a) return;
      g.fillStyle = i % 2 ? "#f6f4ee" : "#fbfaf6";
      g.fillRect(a, TL.axisH, b - a, height - TL.axisH);
    });
    for (const lane of lanes) this["_" + lane.kind](g, lane, data, x0, x1);
    // phase boundaries
    g.strokeStyle = "#c9c4b6"; g.setLineDash([3, 3]); g.lineWidth = 1;
    for (const p of this.full.phases.slice(1)) {
      const x = this.timeToX(p.start_s);
      if (x > x0 && x < x1) { g.beginPath(); g.moveTo(x + 0.5, TL.axisH); g.lineTo(x + 0.5, height); g.stroke(); }
    }
    g.setLineDash([]);
    // lane separators and labels column
    g.strokeStyle = TL.colors.grid;
    for (const lane of lanes) { g.beginPath(); g.moveTo(0, lane.y + 0.5); g.lineTo(w, lane.y + 0.5); g.stroke(); }
    g.beginPath(); g.moveTo(x0 - 0.5, 0); g.lineTo(x0 - 0.5, height); g.stroke();
    if (this.playhead !== null && this.playhead >= this.v0 && this.playhead <= this.v1) {
      const x = this.timeToX(this.playhead);
      g.strokeStyle = TL.colors.playhead; g.lineWidth = 2;
      g.beginPath(); g.moveTo(x, 0); g.lineTo(x, height); g.stroke();
    }
    if (this.stale) {  // the text has errors: this is the last valid plan
      g.fillStyle = "rgba(255,255,255,.7)"; g.fillRect(0, TL.axisH, w, height - TL.axisH);
      const note = "the recipe has errors: showing its last valid plan";
      g.font = "12px system-ui"; g.textBaseline = "middle";
      const nw = g.measureText(note).width + 16, ny = TL.axisH + TL.phaseH + 4;
      g.fillStyle = "#fff4d6"; g.strokeStyle = "#e0b44a";
      g.fillRect(x0 + 8, ny, nw, 20); g.strokeRect(x0 + 8.5, ny + 0.5, nw - 1, 19);
      g.fillStyle = "#7a5200"; g.fillText(note, x0 + 16, ny + 10);
    }
    if (this.hover) {
      g.strokeStyle = "rgba(0,0,0,.35)"; g.lineWidth = 1;
      g.beginPath(); g.moveTo(this.hover.x + 0.5, TL.axisH); g.lineTo(this.hover.x + 0.5, height); g.stroke();
    }
    g.restore();
  }

  _axis(g, lane, data, x0, x1) {
    const span = this.v1 - this.v0, px = this.plotWidth();
    const steps = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
    const step = steps.find((s) => s / span * px >= 70) || 7200;
    g.fillStyle = TL.colors.muted; g.font = "11px system-ui"; g.textBaseline = "middle";
    g.strokeStyle = TL.colors.grid;
    for (let t = Math.ceil(this.v0 / step) * step; t <= this.v1 + 1e-9; t += step) {
      const x = this.timeToX(t);
      g.beginPath(); g.moveTo(x + 0.5, lane.h - 5); g.lineTo(x + 0.5, lane.h); g.stroke();
      const label = fmtTime(t, step < 1);
      if (x + 3 + g.measureText(label).width <= x1 + TL.right) g.fillText(label, x + 3, lane.h / 2);
    }
    g.fillStyle = TL.colors.text; g.font = "600 11px system-ui";
    g.fillText(fitText(g, this.full.title || "", TL.gutter - 10), 6, lane.h / 2);
  }

  _phases(g, lane) {
    g.font = "11px system-ui"; g.textBaseline = "middle"; g.fillStyle = TL.colors.text;
    g.fillText("phases", 6, lane.y + lane.h / 2);
    for (const p of this.full.phases) {
      const a = Math.max(TL.gutter, this.timeToX(p.start_s)), b = Math.min(TL.gutter + this.plotWidth(), this.timeToX(p.end_s));
      if (b - a < 12) continue;
      g.save(); g.beginPath(); g.rect(a, lane.y, b - a, lane.h); g.clip();
      g.fillText(p.name, a + 4, lane.y + lane.h / 2); g.restore();
    }
  }

  _curve(g, ts, vs, lane, lo, hi, color, fill) {
    const pad = 6, top = lane.y + pad, h = lane.h - 2 * pad;
    const yOf = (v) => top + h - (hi > lo ? (v - lo) / (hi - lo) : 0.5) * h;
    g.beginPath();
    let started = false;
    for (let i = 0; i < ts.length; i++) {
      const x = this.timeToX(ts[i]), y = yOf(vs[i]);
      if (!started) { g.moveTo(x, y); started = true; } else g.lineTo(x, y);
    }
    if (fill) {
      g.lineTo(this.timeToX(ts[ts.length - 1]), top + h); g.lineTo(this.timeToX(ts[0]), top + h);
      g.closePath(); g.fillStyle = fill; g.fill();
    } else { g.strokeStyle = color; g.lineWidth = 1.5; g.stroke(); }
  }

  _clip(g, lane) {
    g.save(); g.beginPath(); g.rect(TL.gutter, lane.y, this.plotWidth(), lane.h); g.clip();
  }

  _temperature(g, lane, data) {
    g.font = "11px system-ui"; g.textBaseline = "top"; g.fillStyle = TL.colors.temp;
    g.fillText("temperature", 6, lane.y + 5);
    g.fillStyle = TL.colors.muted; g.fillText("0 (cold) … 1 (hot)", 6, lane.y + 19);
    this._clip(g, lane);
    this._curve(g, data.t, data.temperature, lane, 0, 1, null, "rgba(224,123,0,.12)");
    this._curve(g, data.t, data.temperature, lane, 0, 1, TL.colors.temp);
    if (this.heard !== null && this.heard !== undefined && this.playhead !== null) {
      const x = this.timeToX(this.playhead), y = lane.y + 6 + (1 - this.heard) * (lane.h - 12);
      g.beginPath(); g.arc(x, y, 5, 0, 2 * Math.PI);
      g.fillStyle = TL.colors.temp; g.fill();
      g.lineWidth = 1.5; g.strokeStyle = "#5a3100"; g.stroke();
    }
    g.restore();
  }

  _layer(g, lane, data) {
    const full = this.full.layers[lane.index], layer = data.layers[lane.index] || full;
    const color = TL.lanes[lane.index % TL.lanes.length];
    g.textBaseline = "top"; g.font = "600 11px system-ui"; g.fillStyle = TL.colors.text;
    let y = lane.y + 4;
    g.fillText(fitText(g, `${full.name} (${full.kind})`, TL.gutter - 10), 6, y);
    g.font = "11px system-ui";
    let ci = 0;
    for (const p of full.params) {
      y += TL.lineH;
      let text;
      if (p.varies) { g.fillStyle = TL.params[ci++ % TL.params.length]; text = `${p.name} ${fmtVal(p.min, "")} … ${fmtVal(p.max, p.unit)}`; }
      else { g.fillStyle = TL.colors.muted; text = `${p.name} ${fmtVal(p.value, p.unit)}`; }
      g.fillText(fitText(g, text, TL.gutter - 10), 6, y);
    }
    g.fillStyle = TL.colors.muted;
    for (const [k, v] of Object.entries(full.settings || {})) {
      y += TL.lineH; g.fillText(fitText(g, `${k} ${showSetting(v)}`, TL.gutter - 10), 6, y);
    }
    this._clip(g, lane);
    // where it sounds: the envelope as a filled band
    this._curve(g, data.t, layer.envelope, lane, 0, 1, null, color + "40");
    g.fillStyle = color;
    for (const [a, b] of full.sounding) {
      const xa = this.timeToX(a), xb = this.timeToX(b);
      g.fillRect(xa, lane.y + lane.h - 3, xb - xa, 3);
    }
    // parameters: faint where the layer is silent, solid where it sounds
    const lines = (alpha) => {
      let c = 0;
      g.globalAlpha = alpha;
      layer.params.forEach((p, i) => {
        if (!p.varies) return;
        const f = full.params[i];
        this._curve(g, data.t, p.values, lane, f.min, f.max, TL.params[c++ % TL.params.length]);
      });
      g.globalAlpha = 1;
    };
    lines(0.25);
    g.beginPath();
    for (const [a, b] of full.sounding) g.rect(this.timeToX(a), lane.y, this.timeToX(b) - this.timeToX(a), lane.h);
    g.clip();
    lines(1);
    g.restore();
  }

  _checks(g, lane) {
    g.textBaseline = "top"; g.font = "600 11px system-ui"; g.fillStyle = TL.colors.text;
    const count = (st) => this.spans.filter((s) => s.status === st).length;
    const measured = this.spans.length - count("skip");
    g.fillText(`checks: ${count("pass")}/${measured} pass`, 6, lane.y + 5);
    g.font = "11px system-ui"; g.fillStyle = TL.colors.muted;
    g.fillText(fitText(g, [count("fail") && `${count("fail")} fail`, count("inconclusive") && `${count("inconclusive")} inconclusive`,
                count("skip") && `${count("skip")} skipped`].filter(Boolean).join(", "), TL.gutter - 10), 6, lane.y + 19);
    this._clip(g, lane);
    for (const s of this.spans) {
      const xa = this.timeToX(s.start_s), xb = Math.max(xa + 2, this.timeToX(s.end_s));
      g.fillStyle = TL.colors[s.status] || TL.colors.skip;
      g.fillRect(xa, lane.y + 8 + s._row * 12, xb - xa, 9);
    }
    g.restore();
  }

  // what lies under (x, y): lane and check spans
  hit(x, y) {
    const lane = (this.lanes || []).find((l) => y >= l.y && y < l.y + l.h);
    const t = this.xToTime(x);
    let spans = [];
    if (lane && lane.kind === "checks") {
      const row = Math.floor((y - lane.y - 8) / 12);
      spans = this.spans.filter((s) => s._row === row && s.start_s <= t && t <= s.end_s);
    }
    return { lane, t, spans };
  }

  // text of the hover tooltip at time t over a lane
  describe(t, lane, spans) {
    const data = this.data(), full = this.full;
    const phase = full.phases.find((p) => t < p.end_s) || full.phases[full.phases.length - 1];
    const span = this.v1 - this.v0, digits = span < 20 ? 3 : span < 1200 ? 1 : 0;
    const lines = [`${fmtTime(t, digits)}  ${phase.name}`,
                   `temperature ${sampleAt(data.t, data.temperature, t).toFixed(3)}`];
    if (lane && lane.kind === "layer") {
      const f = full.layers[lane.index], d = data.layers[lane.index] || f;
      const env = sampleAt(data.t, d.envelope, t);
      lines.push(`${f.name} (${f.kind}): ${env > 0 ? (env >= 0.9995 ? "sounding" : `fading ${(env * 100).toFixed(0)} %`) : "silent"}`);
      d.params.forEach((p) => {
        const v = p.varies ? sampleAt(data.t, p.values, t) : p.value;
        lines.push(`  ${p.name} ${fmtVal(v, p.unit)}`);
      });
    }
    for (const s of spans) {
      if (s.status === "skip") { lines.push(`skipped ${spanName(s)}: ${s.reason}`); continue; }
      lines.push(`${s.status.toUpperCase()} ${spanName(s)}: ` +
                 `measured ${fmtVal(s.measured, s.unit)}, expected ${expectedText(s)}`);
      if (s.rule) lines.push(`  rule: ${s.rule}`);
      if (s.status === "inconclusive") lines.push(`  ${s.reason}`);
    }
    return lines.join("\n");
  }

  _tip(info) {
    const tip = this.tooltip;
    if (!info || !this.full) { tip.hidden = true; return; }
    tip.textContent = this.describe(info.t, info.lane, info.spans);
    tip.hidden = false;
    const wrap = this.canvas.parentElement;
    let left = info.x + 14, top = info.y + 14 - wrap.scrollTop + wrap.scrollTop;
    if (left + tip.offsetWidth > wrap.clientWidth) left = info.x - tip.offsetWidth - 10;
    tip.style.left = `${Math.max(0, left)}px`; tip.style.top = `${top}px`;
  }

  _local(e) {
    const r = this.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  // keys on the focused timeline: ← → pan, + − zoom (around the playhead when in view),
  // 0 or Home: all, Enter: play from the playhead (or the view's start)
  _key(e) {
    if (!this.full || e.ctrlKey || e.altKey || e.metaKey) return;
    const span = this.v1 - this.v0;
    const c = this.playhead !== null && this.playhead >= this.v0 && this.playhead <= this.v1 ? this.playhead : (this.v0 + this.v1) / 2;
    const zoom = (k) => this.setView(c - (c - this.v0) * k, c + (this.v1 - c) * k);
    const pan = (f) => this.setView(this.v0 + f * span, this.v1 + f * span);
    const keys = {
      ArrowLeft: () => pan(e.shiftKey ? -0.5 : -0.1), ArrowRight: () => pan(e.shiftKey ? 0.5 : 0.1),
      "+": () => zoom(0.5), "=": () => zoom(0.5), "-": () => zoom(2), "0": () => this.setView(0, this.duration()),
      Home: () => this.setView(0, this.duration()),
      Enter: () => this.onSeek(this.playhead !== null ? this.playhead : this.v0),
    };
    if (!keys[e.key]) return;
    e.preventDefault();
    keys[e.key]();
  }

  _wheel(e) {
    if (!this.full) return;
    e.preventDefault();
    const { x } = this._local(e);
    const t = this.xToTime(Math.max(TL.gutter, x));
    const k = Math.pow(1.2, e.deltaY / 100);
    this.setView(t - (t - this.v0) * k, t + (this.v1 - t) * k);
  }

  _down(e) {
    if (!this.full || e.button !== 0) return;
    const p = this._local(e);
    this.drag = { x: p.x, v0: this.v0, v1: this.v1, moved: false };
  }

  _move(e) {
    if (!this.full) return;
    const p = this._local(e);
    if (this.drag) {
      const dx = p.x - this.drag.x;
      if (Math.abs(dx) > 3) this.drag.moved = true;
      if (this.drag.moved) {
        const dt = dx / this.plotWidth() * (this.drag.v1 - this.drag.v0);
        this.setView(this.drag.v0 - dt, this.drag.v1 - dt);
      }
    }
    const inside = p.x >= TL.gutter && p.x <= TL.gutter + this.plotWidth() && p.y >= 0 &&
      p.y <= this.canvas.clientHeight && e.target === this.canvas;
    if (!inside) { if (this.hover) { this.hover = null; this._tip(null); this.draw(); } return; }
    const h = this.hit(p.x, p.y);
    this.hover = { x: p.x, y: p.y, ...h };
    this._tip(this.hover);
    this.draw();
  }

  _up(e) {
    if (!this.drag) return;
    const d = this.drag; this.drag = null;
    const p = this._local(e);
    if (!d.moved && p.x >= TL.gutter && e.target === this.canvas) {
      this.onSeek(Math.min(Math.max(this.xToTime(p.x), 0), this.duration()));
    }
  }
}

window.Timeline = Timeline;
window.fmtTime = fmtTime;
