// The migration dashboard in the browser: renders the state the gateway sends over server-sent
// events (one card per route, the change feed), draws uPlot charts of each route's points, and sends
// the buttons' actions to the gateway's audited admin write API. Text from the gateway is only ever
// set as text (textContent), never parsed as HTML.
(() => {
  const page = location.pathname.replace(/\/+$/, '');
  const path = document.body.dataset.path || '/dashboard';
  // The admin prefix: the page's path without the dashboard's own path.
  const prefix = page.toLowerCase().endsWith(path) ? page.slice(0, page.length - path.length) : '';
  const cards = new Map();
  /** When each change was first shown: those that arrived live stay marked for a few seconds. */
  const seenEvents = new Map();
  let firstRender = true;
  let current = null;

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else if (k.startsWith('data-')) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const child of children) node.append(child);
    return node;
  };
  const pct = (x) => (x === null || x === undefined ? '–' : `${(Math.round(x * 1000) / 10).toFixed(1)}%`);
  const ms = (x) => (x === null || x === undefined ? '–' : `${Math.round(x * 10) / 10} ms`);
  const num = (x) => (x === null || x === undefined ? '–' : String(x));
  const step = (s) => (s ? (s.mode === 'split' ? `split ${s.weight}%` : s.mode) : '–');
  const clock = (iso) => {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString();
  };
  const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

  function toast(text) {
    const t = $('toast');
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => {
      t.hidden = true;
    }, 4000);
  }

  // ------------------------------------------------------------------------------------------
  // Actions, through the admin write API (audited by the gateway)
  // ------------------------------------------------------------------------------------------

  async function act(action, route, mode, buttons) {
    for (const b of buttons) b.disabled = true;
    try {
      const res = await fetch(`${prefix}/migration/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, application/problem+json' },
        credentials: 'same-origin',
        body: JSON.stringify({ route, expect: mode, reason: `dashboard: ${action}` }),
      });
      const body = await res.json().catch(() => ({}));
      if (res.ok) {
        const change = body.change || {};
        toast(`${action} ${route}: ${step(change.from)} → ${step(change.to)}`);
      } else {
        toast(`${action} ${route} refused (${res.status}): ${body.detail || body.title || 'no detail'}`);
      }
    } catch (error) {
      toast(`${action} ${route} failed: ${error.message}`);
    } finally {
      if (current) render(current);
    }
  }

  // ------------------------------------------------------------------------------------------
  // A route's card
  // ------------------------------------------------------------------------------------------

  function chart(target, label, unit, series) {
    if (typeof uPlot !== 'function') return null;
    const local = css('--local');
    const remote = css('--remote');
    const muted = css('--muted');
    const line = css('--line');
    const axis = { stroke: muted, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } };
    const opts = {
      width: Math.max(240, target.clientWidth || 320),
      height: 140,
      scales: { x: { time: true } },
      hooks: {
        // The span shown, in seconds, on the chart's element: what a test (or a curious person) reads.
        setScale: [
          (u, key) => {
            if (key === 'x' && u.scales.x.min !== null && u.scales.x.max !== null)
              target.dataset.xSpan = String(Math.round((u.scales.x.max - u.scales.x.min) * 1000) / 1000);
          },
        ],
      },
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      series: [
        {},
        ...series.map(([name, side, dash]) => ({
          label: name,
          stroke: side === 'local' ? local : remote,
          width: 1.5,
          dash: dash ? [4, 3] : undefined,
          spanGaps: false,
          value: (_u, v) => (v === null || v === undefined ? '–' : `${Math.round(v * 100) / 100}${unit}`),
        })),
      ],
      axes: [
        axis,
        { ...axis, size: 52, label, labelSize: 14, values: (_u, vals) => vals.map((v) => `${v}${unit}`) },
      ],
    };
    return new uPlot(opts, [[], ...series.map(() => [])], target);
  }

  /**
   * A chart's points, drawn. uPlot spans the time axis of a single point 86400 / 1e-3 s (its day in
   * milliseconds, read as seconds: almost three years); that point sits between the sample periods
   * before and after it instead. More points span exactly their times.
   */
  function draw(u, data) {
    if (!u) return;
    u.setData(data);
    const xs = data[0];
    if (xs.length > 0 && xs[0] === xs[xs.length - 1]) {
      const pad = (current?.sampleMs ?? 5000) / 1000;
      u.setScale('x', { min: xs[0] - pad, max: xs[0] + pad });
    }
  }

  function makeCard(name) {
    const f = (field, tag = 'span', cls) => el(tag, { 'data-field': field, class: cls || '' });
    const parts = {
      title: el('h2', {}, name),
      mode: f('mode', 'span', 'badge mode'),
      verdict: f('verdict', 'span', 'badge'),
      status: f('status', 'span', 'badge'),
      sub: el('p', { class: 'sub' }),
      bar: el('div', { class: 'split' }, el('span', { class: 'l' }), el('span', { class: 'r' })),
      shareLocal: f('share-local', 'span', 'lc'),
      shareRemote: f('share-remote', 'span', 'rc'),
      table: el('table'),
      diff: el('p', { class: 'kv' }),
      fields: el('ul', { class: 'fields' }),
      contract: el('p', { class: 'kv' }),
      contractFields: el('ul', { class: 'fields' }),
      promotion: el('p', { class: 'kv' }),
      gates: el('ul', { class: 'gates' }),
      latencyChart: el('div', { class: 'chart' }),
      errorChart: el('div', { class: 'chart' }),
      promote: el('button', { type: 'button', class: 'primary', 'data-action': 'promote' }, 'Promote'),
      rollback: el('button', { type: 'button', 'data-action': 'rollback' }, 'Roll back'),
      rearm: el('button', { type: 'button', 'data-action': 'rearm' }, 'Re-arm'),
    };
    const thead = el(
      'thead',
      {},
      el('tr', {}, el('th', {}, 'this stage'), el('th', {}, 'local'), el('th', {}, 'remote')),
    );
    const row = (label, key) =>
      el('tr', {}, el('th', { scope: 'row' }, label), f(`${key}-local`, 'td'), f(`${key}-remote`, 'td'));
    parts.table.append(
      thead,
      el(
        'tbody',
        {},
        row('requests', 'requests'),
        row('errors', 'errors'),
        row('error rate', 'error-rate'),
        row('p50', 'p50'),
        row('p99', 'p99'),
        row('requests, all stages', 'total'),
      ),
    );
    const card = el(
      'article',
      { class: 'card', 'data-route': name },
      el('div', { class: 'card-head' }, parts.title, parts.mode, parts.verdict, parts.status),
      parts.sub,
      parts.bar,
      el('div', { class: 'legend' }, parts.shareLocal, parts.shareRemote),
      parts.table,
      el('h3', {}, 'Shadow diff'),
      parts.diff,
      parts.fields,
      el('h3', {}, 'Contract (OpenAPI)'),
      parts.contract,
      parts.contractFields,
      el('h3', {}, 'Promotion'),
      parts.promotion,
      parts.gates,
      el('h3', {}, 'Latency over time'),
      parts.latencyChart,
      el('h3', {}, 'Errors over time'),
      parts.errorChart,
      el('div', { class: 'buttons' }, parts.promote, parts.rollback, parts.rearm),
    );
    const buttons = [parts.promote, parts.rollback, parts.rearm];
    for (const b of buttons) {
      b.addEventListener('click', () => {
        const route = current?.routes.find((r) => r.name === name);
        if (route) act(b.dataset.action, name, route.mode, buttons);
      });
    }
    const entry = { card, parts, charts: null };
    cards.set(name, entry);
    return entry;
  }

  function renderCard(entry, r, state) {
    const p = entry.parts;
    const f = (field) => entry.card.querySelector(`[data-field="${field}"]`);
    p.mode.textContent = r.mode === 'split' ? `split ${r.weight}%` : r.mode;
    const verdict = r.promotion?.verdict;
    p.verdict.hidden = !verdict;
    if (verdict) {
      p.verdict.textContent = `verdict ${verdict.verdict}${verdict.score === null ? '' : ` · ${verdict.score}`}`;
      p.verdict.className = `badge ${verdict.verdict}`;
    }
    p.status.hidden = !r.promotion;
    if (r.promotion) {
      p.status.textContent = r.promotion.status;
      p.status.className = `badge ${r.promotion.status}`;
    }
    p.sub.textContent = `${r.service || 'no service'} · ${r.paths.join(', ')} · stage since ${clock(r.since)}`;
    const share = r.share || { local: 0, remote: 0 };
    p.bar.children[0].style.width = `${share.local * 100}%`;
    p.bar.children[1].style.width = `${share.remote * 100}%`;
    p.shareLocal.textContent = `local ${pct(share.local)}`;
    p.shareRemote.textContent = `remote ${pct(share.remote)}`;
    for (const side of ['local', 'remote']) {
      const s = r[side].stage;
      f(`requests-${side}`).textContent = num(s.requests);
      f(`errors-${side}`).textContent = num(s.errors);
      f(`error-rate-${side}`).textContent = s.requests ? pct(s.errorRate) : '–';
      f(`p50-${side}`).textContent = s.latency.samples ? ms(s.latency.p50Ms) : '–';
      f(`p99-${side}`).textContent = s.latency.samples ? ms(s.latency.p99Ms) : '–';
      f(`total-${side}`).textContent = num(r[side].total.requests);
    }

    // Diff rate against the noise baseline, and the fields that differ most with an example.
    const d = r.diff;
    const baseline = d.baseline || { pairs: d.noiseSamples, different: 0, rate: 0 };
    p.diff.replaceChildren(
      'diff ',
      el('b', { 'data-field': 'diff-rate' }, pct(d.stage.rate)),
      ` (${d.stage.different}/${d.stage.compared} compared) · noise baseline `,
      el('b', { 'data-field': 'noise-rate' }, pct(baseline.rate)),
      ` (${baseline.different}/${baseline.pairs} local pairs) · ${Object.keys(d.noise).length} noisy fields ignored`,
    );
    const fields = Object.entries(d.stage.fields || {})
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5);
    p.fields.replaceChildren(
      ...(fields.length === 0
        ? [el('li', {}, d.stage.compared ? 'no field differs' : 'nothing compared in this stage')]
        : fields.map(([field, count]) => {
            const example = (r.latest || [])
              .flatMap((rec) => rec.differences || [])
              .find((x) => x.field === field);
            const li = el('li', { 'data-diff-field': field }, el('b', {}, field), ` differs in ${count}`);
            if (example) {
              const shown =
                'local' in example || 'remote' in example
                  ? `${example.kind}: ${JSON.stringify(example.local)} → ${JSON.stringify(example.remote)}`
                  : `${example.kind} (values hidden: admin.reveal.requestData)`;
              li.append(el('span', { class: 'ex' }, `e.g. ${shown}`.slice(0, 300)));
            }
            return li;
          })),
    );

    // Contract violations of the service's answers (the OpenAPI contract guard).
    const c = r.contract;
    p.contract.replaceChildren(
      el('b', { 'data-field': 'contract-violations' }, `${c.stage.violations}`),
      ` violations of ${c.stage.checked} answers checked in this stage (${c.total.violations} of ${c.total.checked} in all)`,
    );
    const cf = Object.entries(c.fields || {}).slice(0, 5);
    p.contractFields.replaceChildren(
      ...cf.map(([field, count]) => el('li', {}, el('b', {}, field), ` ${count}`)),
    );

    // The gate and promotion verdict, with the numbers behind it.
    const pr = r.promotion;
    if (pr) {
      const held = Math.min(pr.heldMs, pr.holdMs);
      p.promotion.replaceChildren(
        `${pr.status} · next `,
        el('b', {}, step(pr.next)),
        ` · held ${Math.round(held / 1000)} of ${Math.round(pr.holdMs / 1000)} s`,
        pr.halted ? ` · halted: ${pr.halted.reason}` : '',
      );
      const gates = pr.verdict?.gates || [];
      p.gates.replaceChildren(
        ...gates.map((g) =>
          el(
            'li',
            { 'data-gate': g.gate },
            el(
              'span',
              { class: `badge ${g.class}` },
              `${g.gate} ${g.class}${g.critical ? ' · critical' : ''}`,
            ),
            ' ',
            g.summary,
          ),
        ),
        ...(pr.verdict?.notes || []).map((n) => el('li', { class: 'ex' }, n)),
      );
    } else {
      const g = r.gates || {};
      const limits = Object.entries(g)
        .filter(([k]) => k.startsWith('max'))
        .map(([k, v]) => `${k} ${v}`);
      p.promotion.textContent = `manual (no promotion configured) · gates: ${limits.length ? limits.join(', ') : 'none'}`;
      p.gates.replaceChildren();
    }

    // Charts over time.
    const points = state.series?.[r.name] || [];
    if (!entry.charts) {
      entry.charts = {
        latency: chart(p.latencyChart, '', ' ms', [
          ['local p50', 'local', true],
          ['remote p50', 'remote', true],
          ['local p99', 'local', false],
          ['remote p99', 'remote', false],
        ]),
        errors: chart(p.errorChart, '', '%', [
          ['local errors', 'local', false],
          ['remote errors', 'remote', false],
        ]),
      };
    }
    const xs = points.map((pt) => pt.t / 1000);
    const pick = (side, key, scale = 1) =>
      points.map((pt) => (pt[side][key] === null ? null : pt[side][key] * scale));
    draw(entry.charts.latency, [
      xs,
      pick('local', 'p50Ms'),
      pick('remote', 'p50Ms'),
      pick('local', 'p99Ms'),
      pick('remote', 'p99Ms'),
    ]);
    draw(entry.charts.errors, [xs, pick('local', 'errorRate', 100), pick('remote', 'errorRate', 100)]);

    // Buttons: the admin write API, when the gateway has it.
    p.promote.disabled = !state.actions.promote || r.mode === 'remote';
    p.rollback.disabled = !state.actions.rollback || r.mode === 'local';
    p.rearm.disabled = !state.actions.rearm;
    const why = state.actions.promote ? '' : 'The gateway has no admin write API (/migration/promote)';
    for (const b of [p.promote, p.rollback, p.rearm]) b.title = why;
  }

  // ------------------------------------------------------------------------------------------
  // The change feed: the audited history, else each route's latest changes
  // ------------------------------------------------------------------------------------------

  function describe(e) {
    const move = e.from && e.to ? ` ${step(e.from)} → ${step(e.to)}` : '';
    const who = e.who ? ` by ${e.who}` : e.by ? ` by ${e.by}` : '';
    const action =
      e.action || (e.by === 'gate' ? (e.reason === 'promotion' ? 'promote' : 'rollback') : e.by || 'change');
    return `${action}${e.route ? ` ${e.route}` : ''}${move}${who}${e.reason ? ` — ${e.reason}` : ''}`;
  }

  function renderFeed(state) {
    let entries = state.history;
    if (!entries || entries.length === 0) {
      entries = state.routes.flatMap((r) => r.changes || []).sort((a, b) => (a.at < b.at ? 1 : -1));
    }
    const items = entries.slice(0, 50).map((e) => {
      const key = `${e.at}|${e.route}|${e.action || e.by}|${step(e.to)}`;
      const li = el(
        'li',
        { 'data-event': e.action || e.by || 'change' },
        el('time', {}, clock(e.at)),
        describe(e),
      );
      if (!seenEvents.has(key)) seenEvents.set(key, firstRender ? 0 : Date.now());
      if (Date.now() - seenEvents.get(key) < 6000) li.classList.add('new');
      return li;
    });
    $('events').replaceChildren(...(items.length ? items : [el('li', {}, 'no changes yet')]));
  }

  function render(state) {
    current = state;
    $('updated').textContent = `updated ${clock(state.at)}`;
    $('empty').hidden = state.routes.length > 0;
    const names = new Set(state.routes.map((r) => r.name));
    for (const [name, entry] of cards) {
      if (names.has(name)) continue;
      entry.card.remove();
      cards.delete(name);
    }
    const container = $('routes');
    for (const r of state.routes) {
      const entry = cards.get(r.name) || makeCard(r.name);
      if (!entry.card.isConnected) container.append(entry.card);
      renderCard(entry, r, state);
    }
    renderFeed(state);
    firstRender = false;
  }

  // Charts follow their cards' width (a phone turned, a window resized).
  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(() => {
      for (const entry of cards.values()) {
        if (!entry.charts) continue;
        const width = Math.max(240, entry.parts.latencyChart.clientWidth);
        entry.charts.latency?.setSize({ width, height: 140 });
        entry.charts.errors?.setSize({ width, height: 140 });
      }
    }).observe($('routes'));
  }

  // ------------------------------------------------------------------------------------------
  // Live updates: server-sent events (the browser reconnects by itself)
  // ------------------------------------------------------------------------------------------

  function live(on, text) {
    $('live').className = `dot ${on ? 'on' : 'off'}`;
    $('live-text').textContent = text;
  }

  const events = new EventSource(`${page}/events`);
  events.addEventListener('state', (message) => {
    live(true, 'live');
    render(JSON.parse(message.data));
  });
  events.addEventListener('open', () => live(true, 'live'));
  events.addEventListener('error', () => live(false, 'reconnecting…'));
})();
