"use strict";
// The studio's audio output: plays the blocks the page receives from the server, in order,
// and reports what it played (for the playhead and the server's flow control). Every stop and
// start is a 10 ms raised ramp (no clicks): a jump (seek) fades out what is playing before the
// new blocks fade in; pause fades out and holds the position; resume fades in.
class StudioPlayer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.queue = []; this.offset = 0; this.played = 0; this.generation = -1; this.t = null;
    this.pending = null;        // a reset waiting for the fade-out: {generation, at_s, queue}
    this.gain = 0; this.target = 1; this.step = 1 / (0.01 * sampleRate);
    this.holding = false; this.pauseWhenSilent = false;
    this.lastReport = 0; this.underruns = 0;
    this.port.onmessage = (e) => this.message(e.data);
  }

  message(m) {
    if (m.type === "block") {
      if (m.generation === this.generation && !this.pending) this.queue.push(m);
      else if (this.pending && m.generation === this.pending.generation) this.pending.queue.push(m);
    } else if (m.type === "reset") {
      const p = { generation: m.generation, at_s: m.at_s, queue: [] };
      if (this.generation < 0 || this.holding || this.gain === 0 || !this.queue.length) this.swap(p);
      else { this.pending = p; this.target = 0; }
    } else if (m.type === "pause") {
      this.target = 0; this.pauseWhenSilent = true;
    } else if (m.type === "resume") {
      this.holding = false; this.pauseWhenSilent = false; this.target = 1;
    }
  }

  swap(p) {
    this.queue = p.queue; this.offset = 0; this.played = 0; this.generation = p.generation;
    this.t = p.at_s; this.pending = null; this.gain = 0;
    this.target = this.pauseWhenSilent || this.holding ? 0 : 1;
  }

  process(inputs, outputs) {
    const out = outputs[0], L = out[0], R = out[1] || out[0], n = L.length;
    for (let i = 0; i < n; i++) {
      if (this.holding || !this.queue.length) {
        if (!this.holding && this.played > 0) this.underruns++;
        L[i] = 0; R[i] = 0;
        continue;
      }
      const b = this.queue[0], o = 2 * this.offset;
      if (this.gain < this.target) this.gain = Math.min(this.target, this.gain + this.step);
      else if (this.gain > this.target) this.gain = Math.max(this.target, this.gain - this.step);
      const g = 0.5 - 0.5 * Math.cos(Math.PI * this.gain);
      L[i] = b.data[o] * g; R[i] = b.data[o + 1] * g;
      this.offset++; this.played++;
      this.t = b.t + this.offset / sampleRate;
      if (this.offset >= b.frames) { this.queue.shift(); this.offset = 0; }
      if (this.gain === 0 && this.target === 0) {
        if (this.pending) this.swap(this.pending);
        else if (this.pauseWhenSilent) { this.holding = true; this.pauseWhenSilent = false; }
      }
    }
    if (currentFrame - this.lastReport >= 2048) {
      this.lastReport = currentFrame;
      this.port.postMessage({ type: "played", frames: this.played, t: this.t,
                              generation: this.generation, underruns: this.underruns,
                              holding: this.holding });
    }
    return true;
  }
}
registerProcessor("studio-player", StudioPlayer);
