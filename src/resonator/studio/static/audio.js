"use strict";
// Live audio in the page: a WebSocket to the studio server (resonator/studio/audio.py) brings
// the session's blocks from any time; an AudioWorklet plays them. A click on the timeline plays
// from there; the temperature slider shifts the planned temperature while it plays.

class StudioAudio {
  constructor(studio, state) {
    this.studio = studio; this.available = !!state.live_audio;
    this.ctx = null; this.node = null; this.ws = null; this.generation = 0;
    this.playing = false; this.paused = false; this.position = 0; this.sr = null;
    this.capture = null;   // the PCM received in the current generation (test hook)
    this.captureLimit = 30;  // seconds kept
    const btn = document.getElementById("play-btn");
    btn.onclick = () => this.toggle();
    const slider = document.getElementById("temp-slider");
    this.offset = 0;
    slider.oninput = () => this.sendTemperature();
    slider.ondblclick = () => { slider.value = 0; this.sendTemperature(); };
    if (!this.available) {
      btn.disabled = true; slider.disabled = true;
      this.note(state.live_audio_reason || "live audio is not available");
    }
  }

  note(text) { document.getElementById("audio-note").textContent = text || ""; }

  // the temperature slider: an offset to the planned temperature (as in resonator play)
  sendTemperature() {
    const value = Number(document.getElementById("temp-slider").value);
    document.getElementById("temp-value").textContent = (value > 0 ? "+" : "") + value.toFixed(2);
    this.offset = value;
    this.send({ type: "temperature", offset: value });
  }

  send(msg) { if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg)); }

  async ensureContext(sr) {
    if (this.ctx && this.ctx.sampleRate === sr) { if (this.ctx.state !== "running") await this.ctx.resume(); return; }
    if (this.ctx) await this.ctx.close();
    this.ctx = new AudioContext({ sampleRate: sr, latencyHint: "playback" });
    await this.ctx.audioWorklet.addModule(`/static/player-worklet.js?token=${encodeURIComponent(TOKEN)}`);
    this.node = new AudioWorkletNode(this.ctx, "studio-player", { outputChannelCount: [2] });
    this.node.connect(this.ctx.destination);
    this.node.port.onmessage = (e) => this.played(e.data);
    if (this.ctx.state !== "running") await this.ctx.resume();
  }

  connect() {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${location.host}/ws/play?token=${encodeURIComponent(TOKEN)}`);
      ws.binaryType = "arraybuffer";
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("the audio connection failed"));
      ws.onclose = () => { if (this.playing) this.stopped("the audio connection closed"); };
      ws.onmessage = (e) => this.message(e.data);
      this.ws = ws;
    });
  }

  message(data) {
    if (typeof data === "string") {
      const m = JSON.parse(data);
      if (m.type === "started") {
        this.generation = m.generation; this.sr = m.sr;
        this.node.port.postMessage({ type: "reset", generation: m.generation, at_s: m.at_s });
        this.capture = { generation: m.generation, at_s: m.at_s, chunks: [], frames: 0 };
        this.note("");
      } else if (m.type === "status") {
        this.heard = m;
        this.studio.timeline.setHeard(m.heard);
        document.getElementById("temp-heard").textContent =
          `T ${m.heard.toFixed(2)}` + (Math.abs(m.heard - m.planned) > 0.005 ? ` (plan ${m.planned.toFixed(2)})` : "");
      } else if (m.type === "ended") {
        this.note("end of the session");
      } else if (m.type === "error") {
        this.note(m.message); status(m.message, true);
      }
      return;
    }
    const view = new DataView(data);
    const t = view.getFloat64(0, true), generation = view.getUint32(8, true), frames = view.getUint32(12, true);
    if (generation !== this.generation) return;  // from before a seek
    const samples = new Float32Array(data, 16, frames * 2);
    const c = this.capture;
    if (c && c.generation === generation) {
      c.chunks.push({ t, samples: samples.slice() }); c.frames += frames;
      while (c.frames - c.chunks[0].samples.length / 2 > this.captureLimit * this.sr) {
        c.frames -= c.chunks[0].samples.length / 2; c.chunks.shift();
      }
    }
    this.node.port.postMessage({ type: "block", t, generation, frames, data: samples }, [samples.buffer]);
  }

  played(m) {
    if (m.generation !== this.generation || m.t === null) return;
    this.send({ type: "ack", frames: m.frames, generation: m.generation });
    if (!this.playing || this.paused) return;
    this.position = m.t;
    this.studio.timeline.setPlayhead(m.t);
    document.getElementById("clock").textContent = fmtTime(m.t);
  }

  async start(at) {
    const st = this.studio;
    if (!st.file || !st.plan) { status("the recipe must be valid to play", true); return; }
    try {
      await this.ensureContext(st.plan.sample_rate);
      await this.connect();
    } catch (e) { status(e.message, true); return; }
    this.playing = true; this.paused = false;
    this.node.port.postMessage({ type: "resume" });
    document.getElementById("play-btn").textContent = "❚❚ Pause";
    this.text = st.view.state.doc.toString();
    this.send({ type: "play", path: st.file.path, text: this.text, at_s: at });
    if (this.offset) this.sendTemperature();
  }

  async toggle() {
    if (!this.playing) return this.start(this.studio.timeline.playhead || 0);
    this.paused = !this.paused;
    this.node.port.postMessage({ type: this.paused ? "pause" : "resume" });
    this.send({ type: this.paused ? "pause" : "resume" });
    document.getElementById("play-btn").textContent = this.paused ? "▶ Play" : "❚❚ Pause";
  }

  // the timeline was clicked: play from there (after an edit: the edited recipe)
  seek(t) {
    this.position = t;
    if (!this.available) return;
    const edited = this.studio.view.state.doc.toString() !== this.text;
    if (!this.playing || (edited && this.studio.lastDiagnose && this.studio.lastDiagnose.ok)) {
      this.start(t);
      return;
    }
    this.send({ type: "seek", at_s: t });
    if (this.paused) this.toggle();
  }

  // another file opens: silence, and forget the stream
  stop() {
    if (!this.playing) return;
    this.node.port.postMessage({ type: "pause" });
    this.send({ type: "stop" });
    this.stopped("");
  }

  stopped(why) {
    this.playing = false; this.paused = false;
    this.studio.timeline.setHeard(null);
    document.getElementById("play-btn").textContent = "▶ Play";
    if (why) this.note(why);
  }

  // test hook: the PCM received since the last start or seek, as base64 float32 interleaved
  captured() {
    const c = this.capture;
    if (!c || !c.chunks.length) return null;
    const all = new Float32Array(c.frames * 2);
    let o = 0;
    for (const ch of c.chunks) { all.set(ch.samples, o); o += ch.samples.length; }
    const bytes = new Uint8Array(all.buffer);
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return { at_s: c.at_s, t0: c.chunks[0].t, sr: this.sr, frames: c.frames, generation: c.generation, data: btoa(bin) };
  }
}

window.StudioAudio = StudioAudio;
