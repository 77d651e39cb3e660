"use strict";
// The studio's audio output: plays the blocks the page receives from the server, in order,
// and reports what it played (for the playhead and the server's flow control).
class StudioPlayer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = []; this.offset = 0; this.played = 0; this.generation = -1;
    this.t = null; this.lastReport = 0; this.underruns = 0;
    this.port.onmessage = (e) => {
      const m = e.data;
      if (m.type === "block") { if (m.generation === this.generation) this.queue.push(m); }
      else if (m.type === "reset") {
        this.queue = []; this.offset = 0; this.played = 0; this.generation = m.generation;
        this.t = m.at_s; this.underruns = 0;
      }
    };
  }

  process(inputs, outputs) {
    const out = outputs[0], L = out[0], R = out[1] || out[0], n = L.length;
    let i = 0;
    while (i < n && this.queue.length) {
      const b = this.queue[0], take = Math.min(n - i, b.frames - this.offset);
      const d = b.data, o = 2 * this.offset;
      for (let k = 0; k < take; k++) { L[i + k] = d[o + 2 * k]; R[i + k] = d[o + 2 * k + 1]; }
      i += take; this.offset += take; this.played += take;
      this.t = b.t + this.offset / sampleRate;
      if (this.offset >= b.frames) { this.queue.shift(); this.offset = 0; }
    }
    if (i < n && this.generation >= 0 && this.played > 0) this.underruns++;
    for (; i < n; i++) { L[i] = 0; R[i] = 0; }
    if (currentFrame - this.lastReport >= 2048) {
      this.lastReport = currentFrame;
      this.port.postMessage({ type: "played", frames: this.played, t: this.t,
                              generation: this.generation, underruns: this.underruns });
    }
    return true;
  }
}
registerProcessor("studio-player", StudioPlayer);
