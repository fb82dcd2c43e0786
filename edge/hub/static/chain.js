// The chain dashboard's three pages, one per path: the chain overview (/), a gym's floor
// (/gym/<gym>) and a platform's history (/platform/<gym>/<camera>). Each asks its /api/... view again every
// `refresh_s` seconds (the hub's tables are what is live here) and redraws; the charts
// are inline SVG drawn here. No build step, no dependency: a plain ES module.

import {FAULTS, PHASES, clock, exerciseName, fmt, h, scoreClass, setText} from '/hinge.js';

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;
const BADGE = {up: 'up', wait: 'wait', down: 'down'};
const BOX_WORDS = {online: 'online', degraded: 'degraded', stopped: 'stopped',
                   offline: 'offline'};

/** What a test (or a curious person) can read: polls done, the last document, the link. */
window.hubPage = {polls: 0, doc: null, connection: 'connecting'};

function setConnection(state, text) {
  window.hubPage.connection = state;
  const el = $('connection');
  el.className = `connection ${state}`;
  setText(el, text);
}

function showError(text) {
  $('error').hidden = !text;
  setText($('error'), text || '');
}

/** Fetches `url` now and every `refresh_s` seconds after, handing each view to `render`. */
function poll(url, render) {
  let everyS = 5;
  const once = async () => {
    try {
      const response = await fetch(url, {cache: 'no-store', credentials: 'same-origin'});
      if (response.status === 401) {
        location.href = `/login?next=${enc(location.pathname + location.search)}`;
        return;
      }
      const doc = response.headers.get('Content-Type') === 'application/json'
        ? await response.json() : {error: (await response.text()).trim()};
      everyS = doc.refresh_s || everyS;
      if (response.ok || response.status === 404) {
        showError(response.ok ? '' : 'Nothing heard from it yet: unknown here.');
        window.hubPage.doc = doc;
        render(doc);
        setConnection('live', `Live · ${clock(doc.now)}`);
      } else {
        showError(doc.error || `HTTP ${response.status}`);
        setConnection('lost', 'Hub not answering: retrying');
      }
    } catch (err) {
      setConnection('lost', 'Connection lost: retrying');
    }
    window.hubPage.polls += 1;
    setTimeout(once, everyS * 1000);
  };
  once();
}

// ------------------------------------------------------------------ shared parts
function badge(health, words = {up: 'up', wait: 'waiting', down: 'down'}) {
  return h('span', {class: `badge ${BADGE[health] || 'wait'}`}, words[health] || health);
}

function liveLine(cam) {
  if (cam.health === 'down') return '';
  const presence = cam.athlete_present ? '● athlete' : '○ no athlete';
  const phase = cam.athlete_present && cam.phase ? ` · ${PHASES[cam.phase] || cam.phase}` : '';
  const set = cam.set_id ? ` · set: ${cam.reps_in_set} reps` : '';
  return presence + phase + set;
}

function qualityLine(cam) {
  if (!cam.quality) return cam.reason || 'no status yet';
  return `${cam.stream} · quality ${cam.quality} · ${fmt(cam.fps, 1)} fps`;
}

function faultChips(codes) {
  if (!codes.length) return [h('span', {class: 'chip ok'}, 'no fault')];
  return codes.map((c) => h('span', {class: 'chip', 'data-code': c}, FAULTS[c] || c));
}

function platformLink(cam, text) {
  return h('a', {href: `/platform/${enc(cam.gym)}/${enc(cam.camera)}`}, text);
}

function ago(seconds) {
  if (seconds < 120) return `${fmt(seconds, 0)} s`;
  return seconds < 7200 ? `${fmt(seconds / 60, 0)} min` : `${fmt(seconds / 3600, 0)} h`;
}

function seen(box) {
  if (box.silent_s === null) return 'never heard from';
  return `seen ${ago(box.silent_s)} ago${box.version ? ` · v${box.version}` : ''}`;
}

function boxBadge(box) {
  if (box.health === 'down') {
    const word = box.status in BOX_WORDS && box.status !== 'online' && box.status !== 'degraded'
      ? box.status : 'silent';
    return h('span', {class: 'badge down'}, box.silent_s === null ? 'unknown' : word);
  }
  return h('span', {class: `badge ${box.status === 'degraded' ? 'degraded' : 'up'}`},
           BOX_WORDS[box.status] || box.status);
}

function totalsText(t) {
  return `${t.cameras} cameras · ${t.up} up · ${t.down} down`
    + (t.wait ? ` · ${t.wait} waiting` : '') + ` · ${t.reps_today} reps today`;
}

// ------------------------------------------------------------------ chain overview
function cameraCell(cam) {
  return h('article', {class: `cam ${cam.health}`, 'data-gym': cam.gym, 'data-box': cam.box,
                       'data-camera': cam.camera, 'data-health': cam.health},
    h('div', {class: 'name'}, platformLink(cam, cam.camera), badge(cam.health)),
    cam.health === 'down' ? h('div', {class: 'down-reason'}, cam.reason) : null,
    h('div', {class: 'small quality'}, cam.health === 'down' ? '' : qualityLine(cam)),
    h('div', {class: `small live ${cam.athlete_present ? 'good' : ''}`}, liveLine(cam)),
    h('div', {class: 'small today'}, `${cam.today.reps} reps · ${cam.today.sets} sets today`));
}

function boxCard(box) {
  return h('div', {class: `box ${box.health}`, 'data-gym': box.gym, 'data-box': box.box,
                   'data-health': box.health},
    h('div', {class: 'head'}, h('h3', {}, `box ${box.box}`), boxBadge(box),
      h('span', {class: 'small'}, seen(box))),
    box.health === 'down' ? h('div', {class: 'reason'}, `DOWN: ${box.reason}`) : null,
    box.problem ? h('div', {class: 'small'}, box.problem) : null,
    box.missing_events ? h('div', {class: 'reason missing'},
      `${box.missing_events} event${box.missing_events === 1 ? '' : 's'} missing `
      + `(of numbers up to ${box.last_seq}): lost, or still on the way`) : null,
    h('div', {class: 'cams'}, box.cameras.length ? box.cameras.map(cameraCell)
      : h('span', {class: 'small'}, 'no camera reported')));
}

function renderChain(doc) {
  setText($('meta'), `${doc.totals.gyms} gyms · ${doc.totals.boxes} boxes · `
    + totalsText(doc.totals));
  $('gyms').replaceChildren(...(doc.gyms.length ? doc.gyms.map((gym) =>
    h('section', {class: 'gym', 'data-gym': gym.gym},
      h('h2', {}, h('a', {href: `/gym/${enc(gym.gym)}`}, `gym ${gym.gym}`),
        h('span', {class: 'counts'}, totalsText(gym.totals))),
      h('div', {class: 'boxes'}, gym.boxes.map(boxCard))))
    : [h('p', {class: 'muted'}, 'No box has reported to this hub yet.')]));
}

// ------------------------------------------------------------------ gym floor
function repRows(reps) {
  if (!reps.length) return h('p', {class: 'small'}, 'No rep today yet.');
  return h('table', {class: 'latest'},
    h('thead', {}, h('tr', {}, ['time', 'rep', 'score', 'faults'].map((t) => h('th', {}, t)))),
    h('tbody', {}, reps.map((r) => h('tr', {class: 'rep-row', 'data-rep': r.id},
      h('td', {}, clock(r.ts)), h('td', {class: 'n'}, r.rep ?? '–'),
      h('td', {class: `n ${scoreClass(r.score)}`}, r.score === null ? 'n/s' : fmt(r.score)),
      h('td', {}, h('div', {class: 'chips'}, faultChips(r.faults)))))));
}

function floorTile(cam) {
  const last = cam.last_rep || (cam.latest_reps.length ? cam.latest_reps[0] : null);
  const score = last ? last.score : null;
  return h('article', {class: `tile ${cam.health}`, 'data-camera': cam.camera,
                       'data-box': cam.box, 'data-health': cam.health},
    h('div', {class: 'head'}, h('h2', {}, platformLink(cam, cam.camera)),
      h('span', {class: 'small'}, `box ${cam.box}`), badge(cam.health)),
    cam.health === 'down' ? h('div', {class: 'down-reason'}, `DOWN: ${cam.reason}`) : null,
    h('div', {class: 'main'},
      h('div', {}, h('div', {class: 'reps num'}, cam.set_id ? cam.reps_in_set : '0'),
        h('div', {class: 'small'}, 'reps in set')),
      h('div', {}, h('div', {class: `score num ${scoreClass(score)}`},
                     last ? (score === null ? 'n/s' : fmt(score)) : '–'),
        h('div', {class: 'small'}, 'last score')),
      h('div', {class: `small live ${cam.athlete_present ? 'good' : ''}`}, liveLine(cam))),
    h('div', {class: 'small'}, `${exerciseName(cam.exercise)} · ${cam.today.reps} reps, `
      + `${cam.today.sets} sets today · ${cam.health === 'down' ? '' : qualityLine(cam)}`),
    last && last.cue ? h('div', {class: 'cue'}, last.cue) : null,
    repRows(cam.latest_reps));
}

function renderGym(doc) {
  setText($('title').firstChild, `hinge-edge · gym ${doc.gym}`);
  setText($('meta'), totalsText(doc.totals));
  $('boxes').replaceChildren(h('p', {}, 'Boxes: ', doc.boxes.flatMap((b, i) => [i ? ' · ' : '',
    h('span', {class: b.health === 'down' ? 'poor' : 'good', 'data-box': b.box},
      `${b.box} ${b.health === 'down' ? `DOWN (${b.reason})` : b.status}`)])));
  $('tiles').replaceChildren(...doc.cameras.map(floorTile));
}

// ------------------------------------------------------------------ platform history
const W = 440;
const H = 170;
const PAD = {left: 30, right: 8, top: 14, bottom: 22};

function frame(label) {
  return h('svg', {class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label});
}

function axisY(svg, top, step) {
  const y = (v) => PAD.top + (H - PAD.top - PAD.bottom) * (1 - v / top);
  for (let v = 0; v <= top; v += step) {
    svg.append(h('line', {svg: true, class: 'grid', x1: PAD.left, x2: W - PAD.right,
                          y1: y(v), y2: y(v)}),
               h('text', {svg: true, class: 'axis', x: PAD.left - 4, y: y(v) + 3,
                          'text-anchor': 'end'}, v));
  }
  return y;
}

function dayLabels(svg, days, x, slot) {
  const every = Math.ceil(days.length / 10);
  days.forEach((d, i) => {
    if ((days.length - 1 - i) % every) return;
    svg.append(h('text', {svg: true, class: 'axis', x: x(i) + slot / 2, y: H - 6,
                          'text-anchor': 'middle'}, d.day.slice(5)));
  });
}

function niceTop(max) {
  const top = Math.max(max, 1);
  const step = 10 ** Math.floor(Math.log10(top));
  return Math.ceil(top / step) * step;
}

/** Bars of `key` per day (reps, minutes). */
function barChart(days, key, cls, label) {
  const svg = frame(label);
  const top = niceTop(Math.max(...days.map((d) => d[key])));
  const y = axisY(svg, top, top / 4);
  const slot = (W - PAD.left - PAD.right) / days.length;
  const x = (i) => PAD.left + i * slot;
  days.forEach((d, i) => {
    const bar = h('rect', {svg: true, class: `bar ${cls}`, x: x(i) + slot * 0.15, y: y(d[key]),
                           width: slot * 0.7, height: Math.max(y(0) - y(d[key]), 0),
                           'data-day': d.day, 'data-value': d[key]},
                  h('title', {svg: true}, `${d.day}: ${d[key]}`));
    svg.append(bar);
    if (d[key] && days.length <= 31) {
      svg.append(h('text', {svg: true, class: 'label', x: x(i) + slot / 2, y: y(d[key]) - 3,
                            'text-anchor': 'middle'}, Math.round(d[key])));
    }
  });
  dayLabels(svg, days, x, slot);
  return svg;
}

/** The mean score per day as a line (days without a scored rep leave a gap). */
function scoreTrend(days) {
  const svg = frame('Mean score per day');
  const y = axisY(svg, 100, 25);
  const slot = (W - PAD.left - PAD.right) / days.length;
  const x = (i) => PAD.left + i * slot;
  let path = '';
  let pen = 'M';
  days.forEach((d, i) => {
    if (d.mean_score === null) { pen = 'M'; return; }
    const cx = x(i) + slot / 2;
    path += `${pen}${cx.toFixed(1)},${y(d.mean_score).toFixed(1)} `;
    pen = 'L';
    svg.append(h('circle', {svg: true, class: `point ${scoreClass(d.mean_score)}`, cx,
                            cy: y(d.mean_score), r: 3, 'data-day': d.day,
                            'data-value': d.mean_score},
                  h('title', {svg: true}, `${d.day}: mean score ${d.mean_score}`)));
  });
  svg.prepend(h('path', {svg: true, class: 'line', d: path.trim() || 'M0,0'}));
  dayLabels(svg, days, x, slot);
  return svg;
}

/** Share of reps with each fault over the window, largest first. */
function faultMix(rates) {
  const codes = Object.keys(rates);
  const rowH = 22;
  const height = Math.max(codes.length, 1) * rowH + 10;
  const svg = h('svg', {class: 'chart', viewBox: `0 0 ${W} ${height}`, role: 'img',
                        'aria-label': 'Fault mix'});
  const left = 130;
  const width = (W - left - 50) / Math.max(...Object.values(rates), 0.01); // largest: full
  codes.forEach((code, i) => {
    const yy = 5 + i * rowH;
    svg.append(
      h('text', {svg: true, class: 'axis', x: left - 6, y: yy + 14, 'text-anchor': 'end'},
        FAULTS[code] || code),
      h('rect', {svg: true, class: 'bar fault', x: left, y: yy + 3, height: rowH - 8,
                 width: Math.max(rates[code] * width, 1), 'data-code': code,
                 'data-value': rates[code]}),
      h('text', {svg: true, class: 'label', x: left + rates[code] * width + 5, y: yy + 14},
        `${fmt(rates[code] * 100)}%`));
  });
  if (!codes.length) {
    svg.append(h('text', {svg: true, class: 'axis', x: W / 2, y: 20, 'text-anchor': 'middle'},
                 'no fault in this window'));
  }
  return svg;
}

function figure(value, label, cls = '') {
  return h('div', {class: 'figure'}, h('div', {class: `value num ${cls}`}, value),
           h('div', {class: 'label'}, label));
}

function todayTable(reps) {
  if (!reps.length) return h('p', {class: 'small'}, 'No rep today yet.');
  return h('table', {class: 'today-reps'},
    h('thead', {}, h('tr', {}, ['time', 'set', 'rep', 'exercise', 'score', 'faults', 'cue',
                                'box'].map((t) => h('th', {}, t)))),
    h('tbody', {}, reps.map((r) => h('tr', {class: 'rep-row', 'data-rep': r.id},
      h('td', {}, clock(r.ts)), h('td', {class: 'n'}, r.set_id.slice(r.set_id.lastIndexOf('-') + 1)),
      h('td', {class: 'n'}, r.rep ?? '–'), h('td', {}, exerciseName(r.exercise)),
      h('td', {class: `n ${scoreClass(r.score)}`}, r.score === null ? 'n/s' : fmt(r.score)),
      h('td', {}, h('div', {class: 'chips'}, faultChips(r.faults))), h('td', {}, r.cue || ''),
      h('td', {}, r.box)))));
}

function panel(title, ...body) {
  return h('div', {class: 'panel'}, h('h2', {}, title), ...body);
}

function renderPlatform(doc, days) {
  setText($('title').firstChild, `hinge-edge · ${doc.gym} / ${doc.camera}`);
  const live = doc.live;
  setText($('meta'), live ? `box ${live.box} · ${live.health === 'down' ? `DOWN: ${live.reason}`
    : qualityLine(live)}` : 'no live state');
  const w = doc.window;
  const choice = [7, 14, 30, 90].map((n) => h('a', {href: `?days=${n}`,
                                                     class: n === days ? 'on' : ''}, `${n} days`));
  $('platform').replaceChildren(
    h('p', {}, h('a', {href: `/gym/${enc(doc.gym)}`}, `← gym ${doc.gym}`), ' · ',
      live ? badge(live.health) : '', ' ', live ? liveLine(live) : ''),
    h('div', {class: 'days-choice small'}, 'Show: ', choice),
    h('div', {class: 'figures'},
      figure(doc.today.reps, 'reps today', 'today-count'),
      figure(w.reps, `reps, ${doc.days.length} days`), figure(w.sets, 'sets'),
      figure(fmt(w.minutes, 0), 'minutes in use'),
      figure(fmt(w.mean_score, 0), 'mean score', scoreClass(w.mean_score))),
    h('div', {class: 'charts'},
      panel('Reps per day', barChart(doc.days, 'reps', 'reps', 'Reps per day')),
      panel('Mean score per day', scoreTrend(doc.days)),
      panel('Fault mix (share of reps)', faultMix(w.fault_rates)),
      panel('Minutes in use per day', barChart(doc.days, 'minutes', 'reps minutes',
                                               'Minutes in use per day'))),
    panel(`Today's reps (${doc.today.reps})`, todayTable(doc.today.reps_list)));
}

// ------------------------------------------------------------------ start
const parts = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
const page = parts[0] || 'chain';
document.body.dataset.page = page;
if (page === 'gym') {
  $('content').append(h('div', {id: 'boxes', class: 'small'}), h('div', {id: 'tiles',
                                                                          class: 'tiles'}));
  poll(`/api/gym/${enc(parts[1])}`, renderGym);
} else if (page === 'platform') {
  $('content').append(h('div', {id: 'platform'}));
  const days = Number(new URLSearchParams(location.search).get('days')) || 0;
  const query = days ? `?days=${days}` : '';
  poll(`/api/platform/${enc(parts[1])}/${enc(parts[2])}${query}`,
       (doc) => renderPlatform(doc, doc.days.length));
} else {
  $('content').append(h('div', {id: 'gyms'}));
  poll('/api/chain', renderChain);
}
