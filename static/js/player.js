// The one animation player every lab shares: play / pause, step back / forward, speed, and a
// scrub slider over frames 0..n-1. It owns no data: it reports the current frame to onFrame(k).
//
//   const player = new Player(document.querySelector("#player"), {
//     label: "Step", fps: 60, onFrame: (k) => drawFrame(k) });
//   player.setFrames(501);          // keeps the current frame where it can
//
// Keyboard: every control is a native button / range / select. With focus inside the player,
// Space or K plays/pauses, ← / → (or J / L) step, Home / End jump to the ends.
// prefers-reduced-motion: the player starts paused (on the last frame unless told otherwise).

const SPEEDS = [0.25, 0.5, 1, 2, 4, 8];
// Inline SVG: the media-control characters (⏮ ⏸) are missing from many system fonts.
const svg = (d) => `<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false"><path d="${d}" fill="currentColor"/></svg>`;
const ICONS = {
  play: svg("M4 2.5v11l9-5.5z"),
  pause: svg("M3.5 2.5h3v11h-3zM9.5 2.5h3v11h-3z"),
  back: svg("M3 2.5h2v11H3zM13 2.5v11L6 8z"),
  fwd: svg("M11 2.5h2v11h-2zM3 2.5v11L10 8z"),
};
let uid = 0;

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    e.setAttribute(k, v === true ? "" : v);
  }
  if (text != null) e.textContent = text;
  return e;
}

export function prefersReducedMotion() {
  return typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;
}

export class Player {
  /**
   * @param {HTMLElement} container  where the controls are built
   * @param {object} o
   * @param {(k:number)=>void} o.onFrame  called with the frame index whenever it changes
   * @param {number} [o.fps=30]    frames per second at 1× (may exceed 60: frames are skipped)
   * @param {string} [o.label="Step"]  what a frame is called ("Step", "Epoch", ...)
   * @param {boolean} [o.autoplay=true]  start playing on the first setFrames (never with reduced motion)
   * @param {boolean} [o.loop=false]
   */
  constructor(container, { onFrame = () => {}, fps = 30, label = "Step", autoplay = true, loop = false } = {}) {
    this.container = container;
    this.onFrame = onFrame;
    this.fps = fps;
    this.label = label;
    this.loop = loop;
    this.reduced = prefersReducedMotion();
    this.autoplay = autoplay && !this.reduced;
    this.n = 0;
    this.k = 0;
    this.speed = 1;
    this.playing = false;
    this._raf = 0;
    this._acc = 0;
    this._last = 0;
    this._first = true;
    this._build();
  }

  _build() {
    const id = `player${++uid}`;
    const c = this.container;
    c.classList.add("player");
    c.setAttribute("role", "group");
    if (!c.getAttribute("aria-label")) c.setAttribute("aria-label", "Animation player");
    c.replaceChildren();
    this.back = el("button", { type: "button", class: "pl-back", "aria-label": `${this.label} back`, title: `${this.label} back (←)` });
    this.playBtn = el("button", { type: "button", class: "pl-play primary", "aria-label": "Play", title: "Play / pause (Space)" });
    this.fwd = el("button", { type: "button", class: "pl-fwd", "aria-label": `${this.label} forward`, title: `${this.label} forward (→)` });
    this.back.innerHTML = ICONS.back;
    this.fwd.innerHTML = ICONS.fwd;
    this.slider = el("input", { type: "range", id: `${id}-k`, class: "pl-scrub", min: 0, max: 0, step: 1, value: 0, "aria-label": `${this.label} (scrub)` });
    this.out = el("output", { for: `${id}-k`, class: "pl-out", "aria-live": "off" });
    const spLabel = el("label", { for: `${id}-speed`, class: "pl-speed-label" }, "Speed");
    this.speedSel = el("select", { id: `${id}-speed`, class: "pl-speed" });
    for (const s of SPEEDS) {
      const o = el("option", { value: String(s) }, `${s}×`);
      if (s === 1) o.selected = true;
      this.speedSel.append(o);
    }
    c.append(this.back, this.playBtn, this.fwd, this.slider, this.out, spLabel, this.speedSel);

    this.back.addEventListener("click", () => { this.pause(); this.step(-1); });
    this.fwd.addEventListener("click", () => { this.pause(); this.step(1); });
    this.playBtn.addEventListener("click", () => this.toggle());
    this.slider.addEventListener("input", () => { this.pause(); this.seek(Number(this.slider.value)); });
    this.speedSel.addEventListener("change", () => { this.speed = Number(this.speedSel.value) || 1; });
    c.addEventListener("keydown", (e) => this._key(e));
    this._sync();
  }

  _key(e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target;
    const onSlider = t === this.slider;
    const onSelect = t === this.speedSel;
    if (onSelect) return; // arrows choose the speed there
    let handled = true;
    switch (e.key) {
      case " ":
      case "k":
      case "K":
        if (t.tagName === "BUTTON" && e.key === " ") { handled = false; break; } // the button's own click
        this.toggle();
        break;
      case "ArrowLeft":
      case "j":
      case "J":
        if (onSlider) { handled = false; break; } // the range handles its own arrows
        this.pause(); this.step(-1);
        break;
      case "ArrowRight":
      case "l":
      case "L":
        if (onSlider) { handled = false; break; }
        this.pause(); this.step(1);
        break;
      case "Home":
        if (onSlider) { handled = false; break; }
        this.pause(); this.seek(0);
        break;
      case "End":
        if (onSlider) { handled = false; break; }
        this.pause(); this.seek(this.n - 1);
        break;
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  }

  /** Sets the number of frames. The first call starts at 0 and plays (or, with reduced motion,
   *  shows the last frame, paused). Later calls keep the frame, or stay at the end if there. */
  setFrames(n, { restart = false } = {}) {
    n = Math.max(1, Math.floor(n));
    const wasAtEnd = this.n > 0 && this.k >= this.n - 1;
    const first = this._first;
    this._first = false;
    this.n = n;
    let k;
    if (first || restart) k = this.autoplay ? 0 : n - 1;
    else if (wasAtEnd && !this.playing) k = n - 1;
    else k = Math.min(this.k, n - 1);
    this.k = k;
    this._sync();
    this.onFrame(this.k);
    if ((first || restart) && this.autoplay && n > 1) this.play();
  }

  get index() {
    return this.k;
  }

  seek(k) {
    k = Math.max(0, Math.min(this.n - 1, Math.round(k)));
    if (k === this.k) { this._sync(); return; }
    this.k = k;
    this._sync();
    this.onFrame(k);
  }

  step(d) {
    this.seek(this.k + d);
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  play() {
    if (this.n <= 1) return;
    if (this.k >= this.n - 1) this.seek(0); // play from the start again
    this.playing = true;
    this._acc = 0;
    this._last = 0;
    this._sync();
    cancelAnimationFrame(this._raf);
    this._raf = requestAnimationFrame((t) => this._tick(t));
  }

  pause() {
    if (!this.playing) return;
    this.playing = false;
    cancelAnimationFrame(this._raf);
    this._sync();
  }

  _tick(t) {
    if (!this.playing) return;
    if (!this._last) this._last = t;
    const dt = Math.min(0.25, (t - this._last) / 1000); // a hidden tab does not jump ahead
    this._last = t;
    this._acc += dt * this.fps * this.speed;
    const adv = Math.floor(this._acc);
    if (adv > 0) {
      this._acc -= adv;
      let k = this.k + adv;
      if (k >= this.n - 1) {
        if (this.loop) k = k % this.n;
        else {
          k = this.n - 1;
          this.playing = false;
        }
      }
      this.k = k;
      this._sync();
      this.onFrame(k);
    }
    if (this.playing) this._raf = requestAnimationFrame((tt) => this._tick(tt));
    else this._sync();
  }

  _sync() {
    const last = Math.max(0, this.n - 1);
    this.slider.max = String(last);
    this.slider.value = String(this.k);
    this.slider.setAttribute("aria-valuetext", `${this.label} ${this.k} of ${last}`);
    this.out.textContent = `${this.label} ${this.k} / ${last}`;
    const icon = this.playing ? "pause" : "play";
    if (this.playBtn.dataset.icon !== icon) {
      this.playBtn.innerHTML = ICONS[icon];
      this.playBtn.dataset.icon = icon;
    }
    this.playBtn.setAttribute("aria-label", this.playing ? "Pause" : "Play");
    // Not disabled at the ends: a disabled button would drop the keyboard focus.
    this.back.setAttribute("aria-disabled", this.k <= 0 ? "true" : "false");
    this.fwd.setAttribute("aria-disabled", this.k >= last ? "true" : "false");
    this.container.dataset.frame = String(this.k);
    this.container.dataset.playing = this.playing ? "1" : "0";
  }

  destroy() {
    this.pause();
    this.container.replaceChildren();
  }
}
