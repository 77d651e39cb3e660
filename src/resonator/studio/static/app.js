"use strict";
// resonator studio: the page. Talks to the studio server (resonator/studio/server.py) with the
// run's token on every request; everything it needs ships in this folder.

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);

async function api(method, url, body) {
  const opts = { method, headers: { "X-Studio-Token": TOKEN } };
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  let r;
  try { r = await fetch(url, opts); }
  catch (e) { throw new Error("the studio server does not answer (was it stopped? start resonator studio again)"); }
  let data;
  try { data = await r.json(); } catch (e) { data = { error: `${r.status} ${r.statusText}` }; }
  if (!r.ok) { const err = new Error(data.error || r.statusText); err.status = r.status; err.data = data; throw err; }
  return data;
}

function status(text, isError) {
  const s = $("status"); s.textContent = text || ""; s.title = text || "";
  s.classList.toggle("error", !!isError);
}

const studio = {
  file: null,          // {path, sha256, shipped}
  savedText: "",
  diagnostics: [],
  lastDiagnose: null,  // the server's last answer (test hook)
  diagnoseCount: 0,
  plan: null,
  series: null,
  report: null,
  spans: [],
  seq: 0,
  view: null,
  timeline: null,
};
window.studio = studio;

// ------------------------------------------------------------------ editor
let schema = null;

function tableAt(state, pos) {
  // the [[table]] or [table] the cursor is in, and the layer kind given there
  const doc = state.doc, lineNo = doc.lineAt(pos).number;
  let table = null, kind = null;
  for (let n = lineNo; n >= 1; n--) {
    const text = doc.line(n).text;
    const m = text.match(/^\s*\[\[?\s*([A-Za-z_.]+)\s*\]\]?/);
    if (m) { table = m[1]; break; }
  }
  if (table === "layer") {
    for (let n = lineNo; n <= doc.lines; n++) {
      const text = doc.line(n).text;
      if (n > lineNo && /^\s*\[/.test(text)) break;
      const k = text.match(/^\s*kind\s*=\s*"([^"]*)"/);
      if (k) { kind = k[1]; break; }
    }
    if (!kind) for (let n = lineNo - 1; n >= 1; n--) {
      const text = doc.line(n).text;
      if (/^\s*\[/.test(text)) break;
      const k = text.match(/^\s*kind\s*=\s*"([^"]*)"/);
      if (k) { kind = k[1]; break; }
    }
  }
  return { table, kind };
}

function keysFor(table, kind) {
  if (!schema) return [];
  const p = schema.properties;
  const doc = (o) => (o && o.description) || "";
  if (!table) return Object.entries(p).filter(([k]) => !["phase", "layer", "target"].includes(k)).map(([k, v]) => [k, doc(v)]);
  if (table === "temperature") return Object.entries(p.temperature.properties).map(([k, v]) => [k, doc(v)]);
  if (table === "phase") return Object.entries(p.phase.items.properties).map(([k, v]) => [k, doc(v)]);
  if (table === "target") return Object.entries(p.target.items.properties).map(([k, v]) => [k, doc(v)]);
  if (table === "layer") {
    const layer = p.layer.items;
    const branch = (layer.allOf || []).find((b) => b.if.properties.kind.const === kind);
    const props = branch ? branch.then.properties : layer.properties;
    return Object.entries(props).map(([k, v]) => [k, doc(v)]);
  }
  return [];
}

function complete(context) {
  const line = context.state.doc.lineAt(context.pos);
  const before = line.text.slice(0, context.pos - line.from);
  const kindValue = before.match(/^\s*kind\s*=\s*"([A-Za-z0-9_-]*)$/);
  if (kindValue && schema) {
    const { table } = tableAt(context.state, context.pos);
    if (table === "layer") {
      return { from: context.pos - kindValue[1].length,
               options: schema.properties.layer.items.properties.kind.enum.map((k) => ({ label: k, type: "enum" })) };
    }
  }
  const word = before.match(/^\s*([A-Za-z_]*)$/);
  if (!word || (!word[1] && !context.explicit)) return null;
  const { table, kind } = tableAt(context.state, context.pos);
  const options = keysFor(table, kind).map(([k, d]) => ({ label: k, type: "property", info: d, apply: `${k} = ` }));
  return { from: context.pos - word[1].length, options };
}

function makeEditor() {
  const view = new CM.EditorView({
    parent: $("editor"),
    state: editorState("", "\n"),
  });
  studio.view = view;
}

function editorState(text, sep) {
  return CM.EditorState.create({
    doc: text,
    extensions: [
      CM.EditorState.lineSeparator.of(sep),
      CM.lineNumbers(), CM.highlightActiveLineGutter(), CM.highlightActiveLine(),
      CM.EditorView.lineWrapping,
      CM.history(), CM.drawSelection(), CM.bracketMatching(), CM.highlightSelectionMatches(),
      CM.StreamLanguage.define(CM.toml), CM.syntaxHighlighting(CM.defaultHighlightStyle),
      CM.lintGutter(), CM.search(), CM.autocompletion({ override: [complete] }),
      CM.keymap.of([{ key: "Mod-s", preventDefault: true, run: () => { save(); return true; } },
                    ...CM.completionKeymap, ...CM.searchKeymap, ...CM.historyKeymap,
                    ...CM.lintKeymap, ...CM.defaultKeymap, CM.indentWithTab]),
      CM.EditorView.updateListener.of((u) => { if (u.docChanged) changed(); }),
    ],
  });
}

function text() { return studio.view.state.doc.toString(); }
function dirty() { return studio.file && text() !== studio.savedText; }

function changed() {
  $("file-name").classList.toggle("dirty", !!dirty());
  scheduleDiagnose();
}

// ------------------------------------------------------------------ diagnostics
let fastTimer = null, buildTimer = null;

function scheduleDiagnose() {
  clearTimeout(fastTimer); clearTimeout(buildTimer);
  fastTimer = setTimeout(() => diagnoseNow(false), 120);
}

async function diagnoseNow(build) {
  if (!studio.file) return;
  const seq = ++studio.seq;
  let res;
  const sent = text();
  try {
    res = await api("POST", "/api/diagnose", { path: studio.file.path, text: sent, build, seq });
  } catch (e) { status(e.message, true); return; }
  if (seq !== studio.seq) return;  // a newer request is on its way
  studio.lastDiagnose = res; studio.lastDiagnosedText = sent; studio.diagnoseCount++;
  showDiagnostics(res.diagnostics);
  studio.timeline.setStale(!res.ok);
  if (res.ok && res.series) {
    studio.plan = res.plan; studio.series = res.series;
    res.series.title = res.plan.title;
    studio.timeline.setSeries(res.series);
  }
  document.body.dataset.diagnosed = String(studio.diagnoseCount);
  if (!build && res.ok) buildTimer = setTimeout(() => diagnoseNow(true), 500);
}

function showDiagnostics(list) {
  studio.diagnostics = list;
  const doc = studio.view.state.doc;
  const cmDiags = list.map((d) => {
    const line = doc.line(Math.min(Math.max(d.line || 1, 1), doc.lines));
    return { from: line.from, to: Math.max(line.to, line.from), severity: d.severity, message: d.message, source: d.source };
  });
  studio.view.dispatch(CM.setDiagnostics(studio.view.state, cmDiags));
  const box = $("diagnostics");
  box.textContent = "";
  if (!list.length) {
    const ok = document.createElement("div"); ok.className = "ok";
    ok.textContent = "✓ valid: no errors or warnings"; box.appendChild(ok);
  }
  for (const d of list) {
    const div = document.createElement("div");
    div.className = d.severity;
    div.dataset.line = d.line || "";
    div.textContent = `${d.severity === "error" ? "error" : "warning"}: ${d.message}`;
    div.onclick = () => {
      if (!d.line) return;
      const line = studio.view.state.doc.line(Math.min(d.line, studio.view.state.doc.lines));
      studio.view.dispatch({ selection: { anchor: line.from }, scrollIntoView: true });
      studio.view.focus();
    };
    box.appendChild(div);
  }
}

// lines of the editor that carry a diagnostic marker (test hook)
studio.lintLines = () => {
  const out = [];
  CM.forEachDiagnostic(studio.view.state, (d, from) => out.push({ line: studio.view.state.doc.lineAt(from).number, severity: d.severity, message: d.message }));
  return out;
};

// ------------------------------------------------------------------ files
async function refreshFiles() {
  const res = await api("GET", "/api/files");
  studio.files = res.files; studio.audioFiles = res.audio;
  const nav = $("files"); nav.textContent = "";
  const group = (title, list, note) => {
    if (!list.length) return;
    const h = document.createElement("h4"); h.textContent = title; if (note) h.title = note;
    nav.appendChild(h);
    for (const f of list) {
      const a = document.createElement("a");
      a.textContent = f.path; a.title = f.path + (note ? ` (${note})` : ""); a.dataset.path = f.path;
      a.href = "#"; a.className = (f.shipped ? "shipped " : "") + (f.kind === "sbg" ? "sbg " : "") +
        (studio.file && studio.file.path === f.path ? "current" : "");
      a.onclick = (e) => { e.preventDefault(); openFile(f.path); };
      nav.appendChild(a);
    }
  };
  group(studio.state && studio.state.shipped ? "your recipes" : "recipes", res.files.filter((f) => !f.shipped));
  group("shipped", res.files.filter((f) => f.shipped), "read-only: saving makes your copy");
  if (!res.files.length) {
    const p = document.createElement("p"); p.className = "note"; p.textContent = "no recipes here yet: New… makes one";
    nav.appendChild(p);
  }
  const sel = $("check-file"), keep = sel.value;
  sel.textContent = "";
  for (const p of res.audio) { const o = document.createElement("option"); o.value = o.textContent = p; sel.appendChild(o); }
  if (!res.audio.length) {
    const o = document.createElement("option"); o.value = ""; o.textContent = "no audio yet: Render first"; sel.appendChild(o);
  }
  if (res.audio.includes(keep)) sel.value = keep;
  sel.disabled = $("check-btn").disabled = !res.audio.length;
}

async function openFile(path, discard) {
  if (!discard && dirty() && !confirm(`${studio.file.path} has unsaved changes. Discard them?`)) return;
  let f;
  try { f = await api("GET", `/api/file?path=${encodeURIComponent(path)}`); }
  catch (e) { status(e.message, true); return; }
  if (window.studioAudio) studioAudio.stop();
  studio.file = f; studio.savedText = f.text;
  studio.series = null; studio.plan = null;
  studio.timeline.full = null; studio.timeline.setChecks([]); studio.timeline.setPlayhead(null);
  const sep = f.text.includes("\r\n") ? "\r\n" : "\n";
  studio.view.setState(editorState(f.text, sep));
  $("file-name").textContent = f.path + (f.shipped ? " (shipped: saving makes your copy)" : "");
  $("file-name").classList.remove("dirty");
  $("import-btn").hidden = !f.path.toLowerCase().endsWith(".sbg");
  history.replaceState(null, "", `?token=${encodeURIComponent(TOKEN)}&file=${encodeURIComponent(path)}`);
  status(`opened ${f.path}`);
  await refreshFiles();
  diagnoseNow(false);
}

async function save() {
  if (!studio.file) return;
  const body = { path: studio.file.path, text: text(), base_sha256: studio.file.sha256 };
  let res;
  try { res = await api("POST", "/api/save", body); }
  catch (e) {
    if (e.status === 409 && e.data && e.data.changed_on_disk) {
      if (!confirm(`${e.message}\n\nOverwrite the file on disk with your text?`)) { status(e.message, true); return; }
      delete body.base_sha256;
      try { res = await api("POST", "/api/save", body); } catch (e2) { status(e2.message, true); return; }
    } else { status(e.message, true); return; }
  }
  studio.savedText = body.text;
  studio.file.sha256 = res.sha256; studio.file.shipped = false;
  $("file-name").textContent = studio.file.path;
  $("file-name").classList.remove("dirty");
  status(`saved ${res.path}` + (res.copied.length ? ` (with what it needs from the shipped recipes: ${res.copied.join(", ")})` : ""));
  await refreshFiles();
}

// New…: a name and what to start from (the starter, or any recipe of the list), in a dialog
function newFile() {
  const sel = $("new-template");
  sel.textContent = "";
  const starter = document.createElement("option");
  starter.value = ""; starter.textContent = "the starter recipe (a short example)";
  sel.appendChild(starter);
  for (const f of studio.files || []) {
    if (f.kind !== "recipe") continue;
    const o = document.createElement("option");
    o.value = f.path; o.textContent = f.path + (f.shipped ? " (shipped)" : "");
    sel.appendChild(o);
  }
  $("new-error").textContent = "";
  $("new-name").value = "";
  $("new-dialog").showModal();
  $("new-name").focus();
}

async function createFile(e) {
  e.preventDefault();
  const name = $("new-name").value.trim(), template = $("new-template").value || null;
  if (!name) { $("new-error").textContent = "give the new recipe a name"; return; }
  if (dirty() && !confirm(`${studio.file.path} has unsaved changes. Discard them?`)) return;
  let res;
  try { res = await api("POST", "/api/new", { name, template }); }
  catch (err) { $("new-error").textContent = err.message; return; }
  $("new-dialog").close();
  await openFile(res.path, true);
  status(`created ${res.path}` + (template ? ` from ${template}` : "") +
         (res.copied && res.copied.length ? ` (also copied ${res.copied.join(", ")})` : ""));
}

async function importSbg() {
  try {
    const res = await api("POST", "/api/import", { path: studio.file.path });
    await refreshFiles(); await openFile(res.path);
    if (res.messages.length) status(res.messages.join(" · "));
  } catch (e) { status(e.message, true); }
}

// ------------------------------------------------------------------ render and check
let currentJob = null;

async function runJob(start) {
  let job;
  try { job = await start(); } catch (e) { status(e.message, true); return null; }
  currentJob = job;
  $("job-progress").hidden = false; $("cancel-btn").hidden = false;
  $("render-btn").disabled = $("check-btn").disabled = true;
  try {
    while (job.state === "running") {
      $("job-progress").value = job.fraction;
      $("job-label").textContent = `${job.kind}: ${job.stage} ${(job.fraction * 100).toFixed(0)} %`;
      await new Promise((r) => setTimeout(r, 250));
      job = await api("GET", `/api/jobs/${job.id}`);
    }
  } catch (e) { status(e.message, true); }
  currentJob = null;
  $("job-progress").hidden = true; $("cancel-btn").hidden = true;
  $("render-btn").disabled = false; $("check-file").disabled = $("check-btn").disabled = !(studio.audioFiles || []).length;
  $("job-label").textContent = $("job-label").title =
    job.state === "done" ? `${job.kind} done in ${job.elapsed_s} s` : `${job.kind} ${job.state}`;
  if (job.state === "failed") status(job.error, true);
  return job;
}

async function render() {
  if (!studio.file) return;
  if (dirty() && !confirm("The render comes from the saved file. Save your changes first?")) return;
  if (dirty()) await save();
  const body = { path: studio.file.path, text: text(), format: $("render-format").value };
  const tl = studio.timeline;
  if ($("render-view").checked && (tl.v0 > 0 || tl.v1 < tl.duration())) body.window = [tl.v0, tl.v1];
  const job = await runJob(async () => {
    try { return await api("POST", "/api/render", body); }
    catch (e) {
      if (e.status === 409 && e.data && e.data.exists && confirm(`${e.message}`)) {
        return await api("POST", "/api/render", { ...body, overwrite: true });
      }
      throw e;
    }
  });
  if (job && job.state === "done") {
    const r = job.result;
    status(`rendered ${r.path}: peak ${r.peak_dbfs === null ? "–" : r.peak_dbfs.toFixed(1)} dBFS` +
           (r.gain_db !== null && r.gain_db !== undefined ? `, gain ${r.gain_db.toFixed(1)} dB` : "") + ` (${r.seconds} s)`);
    await refreshFiles();
    $("check-file").value = r.path;
  }
}

async function check() {
  const audio = $("check-file").value;
  if (!audio) return;
  const recipe = studio.file && studio.file.path;
  const job = await runJob(() => api("POST", "/api/check", { audio, recipe }));
  if (job && job.state === "done") showReport(job.result);
}

const VERDICT = { pass: "PASS", fail: "FAIL", inconclusive: "INCONCLUSIVE", skip: "SKIPPED" };

function showReport(result) {
  studio.report = result.report; studio.spans = result.spans;
  studio.timeline.setChecks(result.spans);
  const rep = result.report, box = $("results");
  box.textContent = "";
  const table = document.createElement("table");
  const cap = document.createElement("caption");
  const count = (st) => result.spans.filter((s) => s.status === st).length;
  const n = rep.results.length, unsure = count("inconclusive");
  cap.textContent = `${rep.passed ? "PASS" : "FAIL"}: ${count("pass")} of ${n} targets passed` +
    (unsure ? `, ${unsure} inconclusive` : "") + (rep.skipped.length ? `, ${rep.skipped.length} skipped` : "") +
    ` (${rep.file})`;
  cap.className = rep.passed ? "pass" : "fail";
  table.appendChild(cap);
  const head = table.insertRow();
  for (const h of ["", "target", "window", "pass rule", "measured"]) { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); }
  for (const s of result.spans) {
    const row = table.insertRow(); row.className = s.status;
    const measured = s.status === "skip" ? s.reason :
      fmtVal(s.measured, s.unit) + (s.status === "inconclusive" ? ` (${s.reason})` : "");
    const cells = [VERDICT[s.status] || s.status, spanName(s), `${fmtTime(s.start_s)}–${fmtTime(s.end_s)}`,
      s.status === "skip" ? "" : (s.rule || `within ${expectedText(s)}`), measured];
    for (const c of cells) row.insertCell().textContent = c;
    row.tabIndex = 0;
    row.onclick = row.onkeydown = (e) => {
      if (e.type === "keydown" && e.key !== "Enter") return;
      studio.timeline.setView(s.start_s - (s.end_s - s.start_s) * 0.2, s.end_s + (s.end_s - s.start_s) * 0.2);
    };
  }
  box.appendChild(table);
  $("json-btn").hidden = false;
}

function downloadJson() {
  if (!studio.report) return;
  const blob = new Blob([JSON.stringify(studio.report, null, 2) + "\n"], { type: "application/json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = (studio.report.file || "check").replace(/^.*\//, "").replace(/\.[^.]*$/, "") + "-check.json";
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// ------------------------------------------------------------------ start
async function start() {
  makeEditor();
  studio.timeline = new Timeline($("timeline"), $("tooltip"), {
    onSeek: (t) => { studio.timeline.setPlayhead(t); $("clock").textContent = fmtTime(t); if (window.studioAudio) studioAudio.seek(t); },
    onWindow: async (a, b) => {
      if (!studio.file || !studio.series) return;
      const whole = a <= 0 && b >= studio.series.duration_s;
      if (whole) { studio.timeline.setDetail(null); return; }
      try {
        const res = await api("POST", "/api/diagnose", { path: studio.file.path, text: text(), window: [a, b], points: 800 });
        if (res.ok && res.series) studio.timeline.setDetail(res.series);
      } catch (e) { /* the next edit reports it */ }
    },
  });
  $("save-btn").onclick = save;
  $("new-btn").onclick = newFile;
  $("new-form").onsubmit = createFile;
  $("new-cancel").onclick = () => $("new-dialog").close();
  // keys outside the editor: Space plays or pauses, Ctrl-S saves
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented) return;  // (the editor's own Ctrl-S)
    const inEditor = e.target.closest && e.target.closest(".cm-editor, input, select, textarea, button, dialog");
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") { e.preventDefault(); save(); return; }
    if (e.key === " " && !inEditor && !e.ctrlKey && !e.altKey && window.studioAudio && studioAudio.available) {
      e.preventDefault(); studioAudio.toggle();
    }
  });
  $("import-btn").onclick = importSbg;
  $("render-btn").onclick = render;
  $("check-btn").onclick = check;
  $("json-btn").onclick = downloadJson;
  $("cancel-btn").onclick = () => { if (currentJob) api("DELETE", `/api/jobs/${currentJob.id}`); };
  window.addEventListener("beforeunload", (e) => { if (dirty()) { e.preventDefault(); e.returnValue = ""; } });
  let state;
  try { state = await api("GET", "/api/state"); schema = await api("GET", "/api/schema"); }
  catch (e) { status(e.message, true); return; }
  studio.state = state;
  if (window.StudioAudio) window.studioAudio = new StudioAudio(studio, state);
  await refreshFiles();
  const want = new URLSearchParams(location.search).get("file") || state.open ||
    (state.files.find((f) => f.kind === "recipe") || state.files[0] || {}).path;
  if (want) await openFile(want);
  else status("no recipes in this folder: New… makes one");
  document.body.dataset.ready = "1";
}

document.addEventListener("DOMContentLoaded", start);
