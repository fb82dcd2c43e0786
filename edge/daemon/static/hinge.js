// The live model shared by the dashboard and the display: one EventSource on /api/events,
// the daemon's `snapshot` first (again after every reconnect), then the same payloads as
// MQTT (`status`, `state`, `rep`, `rep_update`, `set`) and a `ping` after every quiet
// `every_s` seconds. No build step, no dependency: a plain ES module.

const STALE_PINGS = 2.5; // no message for this many ping intervals: the data is stale
const RECONNECT_PINGS = 5; // ... this many: the stream is presumed dead, open a new one

export const EXERCISES = {
  rdl: 'RDL',
  deadlift: 'Deadlift',
  good_morning: 'Good morning',
  swing: 'Kettlebell swing',
  single_leg_rdl: 'Single-leg RDL',
  squat: 'Squat',
};

export const FAULTS = {
  knee_dominant: 'knees forward',
  spine_flexion: 'rounded back',
  head_extension: 'head up',
  chest_first: 'chest first',
  hips_rise_first: 'hips rise first',
  incomplete_lockout: 'no full lockout',
  hyperextension: 'leaning back',
  partial_rep: 'partial rep',
  rushed_eccentric: 'rushed lowering',
};

export const PHASES = {
  absent: 'nobody on the platform',
  top: 'standing tall',
  descending: 'lowering',
  bottom: 'at the bottom',
  ascending: 'rising',
  locking: 'locking out',
  floor: 'bar on the floor',
};

const DOWN_WORDS = {
  stalled: 'stalled: no frames, reconnecting',
  offline: 'offline: cannot open the stream, retrying',
  ended: 'the video ended',
  stopped: 'stopped',
};

/** The last level of a set id (`<camera>-<run>-<n>`) as a number, or null. */
export function setNumber(setId) {
  if (!setId) return null;
  const n = Number(setId.slice(setId.lastIndexOf('-') + 1));
  return Number.isFinite(n) ? n : null;
}

/** `good` (85+), `fair` (60+), `poor`, or `none` (not scored), as the replay report; of the
 *  score as shown (rounded), so that an 84.7 shown as 85 is not coloured as an 84. */
export function scoreClass(score) {
  if (score === null || score === undefined) return 'none';
  const shown = Math.round(score);
  return shown >= 85 ? 'good' : shown >= 60 ? 'fair' : 'poor';
}

export function fmt(value, digits = 0, suffix = '') {
  return value === null || value === undefined ? '–' : value.toFixed(digits) + suffix;
}

export function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], {hour12: false}) : '–';
}

export function exerciseName(code) {
  return code ? EXERCISES[code] || code : 'exercise not yet known';
}

/** Creates an element: h('div', {class: 'x', 'data-k': 1}, child, 'text', ...). */
export function h(tag, attrs = {}, ...children) {
  const ns = tag === 'svg' || attrs.svg ? 'http://www.w3.org/2000/svg' : null;
  const el = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key !== 'svg' && value !== null && value !== undefined && value !== false) {
      el.setAttribute(key, value === true ? '' : value);
    }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return el;
}

export function setText(el, text) {
  const value = text === null || text === undefined ? '' : String(text);
  if (el.textContent !== value) el.textContent = value;
}

/** The live picture of every camera, fed by the event stream. */
export class Live {
  /** `onchange(live)` is called after every message and once a second (for ages). */
  constructor(onchange) {
    this.onchange = onchange;
    this.cameras = new Map();
    this.runId = null;
    this.version = null;
    this.connection = 'connecting'; // connecting | live | stale | lost
    this.lastMessageMs = 0;
    this.everyS = 5;
    this.connects = 0; // snapshots applied: 1 + the reconnects
    this.counts = {}; // messages received, by kind
    this.source = null;
  }

  start() {
    this.open();
    setInterval(() => this.tick(), 1000);
    return this;
  }

  open() {
    if (this.source) this.source.close();
    const source = new EventSource('/api/events');
    this.source = source;
    source.onerror = () => {
      // The browser reconnects by itself (the daemon asks for 2 s); until a snapshot
      // arrives again nothing on the page is current.
      if (this.source !== source) return;
      this.setConnection('lost');
      if (source.readyState === EventSource.CLOSED) {
        // It gives up on an HTTP error (a proxy's 502, say): try again ourselves, unless
        // the login ended (401): then the sign-in page (a display's link signs it in again).
        fetch('/api/state', { method: 'HEAD', cache: 'no-store' }).then((r) => {
          if (r.status === 401) {
            location.href = '/login?next=' + encodeURIComponent(location.pathname);
          }
        }, () => {});
        setTimeout(() => { if (this.source === source) this.open(); }, 2000);
      }
    };
    const on = (kind, fn) => source.addEventListener(kind, (msg) => {
      if (this.source !== source) return;
      this.lastMessageMs = Date.now();
      this.counts[kind] = (this.counts[kind] || 0) + 1;
      if (this.connection === 'stale') this.connection = 'live';
      fn(JSON.parse(msg.data));
      this.onchange(this);
    });
    on('snapshot', (snap) => this.applySnapshot(snap));
    on('status', (status) => { this.camera(status.camera).status = status; });
    on('state', (state) => { this.camera(state.camera).state = state; });
    on('rep', (rep) => this.addRep(rep));
    on('rep_update', (update) => this.updateRep(update));
    on('set', (set) => { this.camera(set.camera).lastSet = set; });
    on('ping', (ping) => { this.everyS = ping.every_s || this.everyS; });
  }

  setConnection(connection) {
    if (this.connection !== connection) {
      this.connection = connection;
      this.onchange(this);
    }
  }

  tick() {
    const silentS = (Date.now() - this.lastMessageMs) / 1000;
    if (this.connection === 'live' && silentS > STALE_PINGS * this.everyS) {
      this.connection = 'stale';
    }
    if (this.connection === 'stale' && silentS > RECONNECT_PINGS * this.everyS) {
      // An open but silent stream (a frozen daemon, a dead network path) never errors.
      this.connection = 'lost';
      this.open();
    }
    this.onchange(this);
  }

  silentS() {
    return this.lastMessageMs ? (Date.now() - this.lastMessageMs) / 1000 : null;
  }

  camera(id) {
    if (!this.cameras.has(id)) {
      this.cameras.set(id, {id, status: null, state: null, reps: [], images: false,
                            lastSet: null, known: false});
    }
    return this.cameras.get(id);
  }

  applySnapshot(snap) {
    const sameRun = snap.run_id === this.runId;
    const previous = this.cameras;
    this.cameras = new Map();
    for (const [id, cam] of Object.entries(snap.cameras)) {
      const old = sameRun ? previous.get(id) : null;
      this.cameras.set(id, {
        id,
        status: cam.status,
        state: cam.state,
        reps: cam.reps.slice(),
        images: cam.images,
        lastSet: old ? old.lastSet : null,
        known: true,
      });
      // Scores a `rep_update` improved are not in the snapshot: keep what we saw.
      if (old) {
        for (const rep of this.cameras.get(id).reps) {
          const seen = old.reps.find((r) => r.id === rep.id);
          if (seen && seen.updated) Object.assign(rep, {score: seen.score, updated: true});
        }
      }
    }
    this.runId = snap.run_id;
    this.version = snap.version;
    this.connection = 'live';
    this.connects += 1;
  }

  addRep(rep) {
    const cam = this.camera(rep.camera);
    if (cam.reps.some((r) => r.id === rep.id)) return; // delivered twice: keep the first
    cam.reps.push(rep);
    if (cam.reps.length > 200) cam.reps.shift();
  }

  updateRep(update) {
    const rep = this.camera(update.camera).reps.find((r) => r.id === update.rep_id);
    if (!rep) return;
    rep.score = update.score;
    rep.metrics = {...rep.metrics, ...Object.fromEntries(
      Object.entries(update.metrics || {}).filter(([, v]) => v !== null))};
    const codes = new Set(rep.faults.map((f) => f.code));
    rep.faults = rep.faults.concat((update.faults || []).filter((f) => !codes.has(f.code)));
    rep.updated = true;
  }
}

/** What a page shows for one camera, derived from the live model. */
export function cameraView(live, cam) {
  const status = cam.status || {};
  const state = cam.state || {};
  const lastRep = cam.reps.length ? cam.reps[cam.reps.length - 1] : null;
  const inSet = Boolean(state.set_id);
  const setId = inSet ? state.set_id : lastRep ? lastRep.set_id : null;
  const setReps = cam.reps.filter((r) => r.set_id === setId);
  const repCount = inSet ? state.reps_in_set : setReps.reduce((n, r) => Math.max(n, r.rep), 0);
  let health = 'ok';
  let downReason = null;
  if (live.connection === 'lost' || live.connection === 'connecting') {
    health = 'down';
    downReason = 'no connection to hinge-edge: reconnecting';
  } else if (!cam.known) {
    health = 'down';
    downReason = 'not a camera of this daemon';
  } else if (status.state === 'connecting') {
    health = 'wait';
  } else if (status.state !== 'online') {
    health = 'down';
    downReason = DOWN_WORDS[status.state] || status.state || 'no status';
    if (status.last_error && status.state === 'offline') downReason += ` (${status.last_error})`;
  }
  return {
    cam,
    status,
    state,
    health,
    downReason,
    stale: live.connection === 'stale',
    present: Boolean(state.athlete_present) && health !== 'down',
    phase: state.phase || 'absent',
    inSet,
    setId,
    setNo: setNumber(setId),
    exercise: state.exercise || (lastRep ? lastRep.exercise : null),
    repCount: setId ? repCount : null,
    setReps,
    lastRep,
    stillUrl: cam.images && lastRep
      ? `/api/still/${encodeURIComponent(cam.id)}?rep=${encodeURIComponent(lastRep.id)}`
      : null,
  };
}

/** One line on the connection: `Live`, `Stale: no update for 14 s`, ... */
export function connectionText(live) {
  switch (live.connection) {
    case 'live': return 'Live';
    case 'stale': return `Stale: no update for ${Math.round(live.silentS())} s`;
    case 'lost': return 'Connection lost: reconnecting';
    default: return 'Connecting';
  }
}

/** The scores of a set as a small inline SVG bar chart (0-100, bands at 60 and 85). */
export function scoreChart(reps, width = 320, height = 120) {
  const pad = {left: 26, right: 6, top: 14, bottom: 18};
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const y = (v) => pad.top + plotH * (1 - v / 100);
  const svg = h('svg', {class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img',
                        'aria-label': 'Scores of the set, rep by rep'});
  for (const level of [0, 60, 85, 100]) {
    svg.append(h('line', {svg: true, class: 'grid', x1: pad.left, x2: width - pad.right,
                          y1: y(level), y2: y(level)}));
    svg.append(h('text', {svg: true, class: 'axis', x: pad.left - 4, y: y(level) + 3,
                          'text-anchor': 'end'}, level));
  }
  const n = Math.max(reps.length, 1);
  const slot = plotW / Math.max(n, 5);
  reps.forEach((rep, i) => {
    const x = pad.left + i * slot + slot * 0.15;
    const w = slot * 0.7;
    const score = rep.score;
    const top = score === null ? y(0) - 2 : y(score);
    const bar = h('rect', {svg: true, class: `bar ${scoreClass(score)}`, x, y: top, width: w,
                           height: Math.max(y(0) - top, 2), 'data-rep': rep.rep},
                  h('title', {svg: true}, `rep ${rep.rep}: ${score === null ? 'not scored'
                                                                           : score}`));
    svg.append(bar);
    svg.append(h('text', {svg: true, class: 'value', x: x + w / 2, y: top - 3,
                          'text-anchor': 'middle'}, score === null ? '–' : Math.round(score)));
    svg.append(h('text', {svg: true, class: 'axis', x: x + w / 2, y: height - 5,
                          'text-anchor': 'middle'}, rep.rep));
  });
  if (!reps.length) {
    svg.append(h('text', {svg: true, class: 'axis', x: pad.left + plotW / 2, y: pad.top + plotH / 2,
                          'text-anchor': 'middle'}, 'no reps yet'));
  }
  return svg;
}
