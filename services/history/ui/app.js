// The history page: reads the JSON API (GET only) and draws the incident list, a chart and one incident's story.
// Plain browser JavaScript, no build step and nothing fetched from outside this server.
'use strict';

(function () {
  const FILTERS = ['status', 'source', 'severity', 'channel', 'alias', 'from', 'to', 'q'];
  const SVG = 'http://www.w3.org/2000/svg';
  const params = new URLSearchParams(location.search);

  /** h('td', {class: 'x'}, 'text', child): elements from data without innerHTML, so nothing in an event can run. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function svg(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  }

  // Off loopback the API wants a token even to read: asked for once, kept for this tab only, sent as a bearer.
  const TOKEN_KEY = 'alertbus-history-token';
  const storedToken = () => sessionStorage.getItem(TOKEN_KEY);

  function askForToken(reason) {
    const form = document.getElementById('token-form');
    document.getElementById('token-reason').textContent = reason;
    form.hidden = false;
  }

  function setUpToken() {
    const form = document.getElementById('token-form');
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, form.elements.token.value.trim());
      location.reload();
    });
    const forget = document.getElementById('forget-token');
    forget.hidden = !storedToken();
    forget.addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      location.reload();
    });
  }

  async function getJson(path) {
    const token = storedToken();
    const headers = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(path, { headers });
    const body = await res.json().catch(() => ({}));
    if (res.status === 401) askForToken(body.message || 'This history service needs a token.');
    if (!res.ok) throw new Error(body.message || `${res.status} ${res.statusText}`);
    return body;
  }

  const fmtTime = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '');
  function fmtDuration(fromIso, toIso) {
    if (!fromIso || !toIso) return '';
    let s = Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000));
    const d = Math.floor(s / 86400); s -= d * 86400;
    const hh = Math.floor(s / 3600); s -= hh * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    return [d && `${d}d`, hh && `${hh}h`, m && `${m}m`, (s || !(d || hh || m)) && `${s}s`].filter(Boolean).join(' ');
  }
  /**
   * Where the durations start and end: when the sender says the incident started and ended (started_at, ended_at), else
   * when alertbus opened and resolved it, as the API's stats measure them.
   */
  const startOf = (i) => i.started_at || i.opened_at;
  const endOf = (i) => i.ended_at || i.resolved_at;
  /** The sender's time, when it differs from alertbus's by more than a few seconds (the CLI shows the same). */
  const SHOWN_DIFFERENCE_MS = 5000;
  const differs = (sender, ours) => Boolean(sender && ours && Math.abs(Date.parse(sender) - Date.parse(ours)) > SHOWN_DIFFERENCE_MS);
  /** A day picked in the form (YYYY-MM-DD) as the API's instant: the start of that UTC day. */
  const dayStart = (day) => `${day}T00:00:00Z`;
  const nextDay = (day) => new Date(Date.parse(dayStart(day)) + 86400000).toISOString().slice(0, 10);

  function apiFilters() {
    const q = new URLSearchParams();
    for (const name of FILTERS) {
      const v = (params.get(name) || '').trim();
      if (!v) continue;
      if (name === 'from') q.set('from', dayStart(v));
      else if (name === 'to') q.set('to', dayStart(nextDay(v))); // the "to" day is included
      else q.set(name, v);
    }
    return q;
  }

  /**
   * Who acknowledged or resolved, as people know them: their name when the history has one, else their id (a Slack user
   * id); the id stays one hover away (title), as names change and ids do not.
   */
  function who(name, id) {
    if (!name && !id) return '?';
    return h('span', { class: 'who', 'data-id': id, title: name && id && name !== id ? id : null }, name || id);
  }
  /** The same in a timeline line: "Alice Martin (U0ALICE01)", or the id alone. */
  const whoText = (name, id) => (name && id && name !== id ? `${name} (${id})` : name || id);

  // ------------------------------------------------------------------ list

  function badge(status) {
    return h('span', { class: `badge ${status}` }, status);
  }

  function incidentRow(i) {
    const link = h('a', { href: `/?incident=${encodeURIComponent(i.incident_id)}`, class: 'title' }, i.title);
    return h('tr', { 'data-incident': i.incident_id },
      h('td', { class: 'time' }, fmtTime(i.opened_at),
        differs(i.started_at, i.opened_at) ? h('div', { class: 'started', title: "when the sender says it started (its startsAt)" }, `started ${fmtTime(i.started_at)}`) : null),
      h('td', {}, badge(i.status)),
      h('td', {}, h('span', { class: `sev sev-${i.severity}` }, i.severity)),
      h('td', {}, link),
      h('td', {}, i.source),
      h('td', { class: 'mono' }, i.alias),
      h('td', { class: 'num' }, i.count),
      h('td', { class: 'nowrap' }, i.slack_target_channel || i.slack_channel || ''),
      h('td', { class: 'nowrap' }, i.acknowledged_at ? [who(i.acknowledged_by_name, i.acknowledged_by), ` after ${fmtDuration(startOf(i), i.acknowledged_at)}`] : ''),
      h('td', { class: 'nowrap' }, i.resolved_at ? `after ${fmtDuration(startOf(i), endOf(i))}` : ''),
    );
  }

  async function showList() {
    document.getElementById('list-view').hidden = false;
    const form = document.getElementById('filters');
    for (const name of FILTERS) if (params.get(name)) form.elements[name].value = params.get(name);
    const status = document.getElementById('list-status');
    const tbody = document.querySelector('#incidents tbody');
    const more = document.getElementById('more');
    const filters = apiFilters();
    let cursor = null;

    async function page() {
      const q = new URLSearchParams(filters);
      q.set('limit', '50');
      if (cursor) q.set('cursor', cursor);
      status.textContent = 'Loading…';
      try {
        const body = await getJson(`/api/incidents?${q}`);
        tbody.append(...body.incidents.map(incidentRow));
        cursor = body.next_cursor;
        more.hidden = !cursor;
        const n = tbody.children.length;
        status.textContent = n === 0 ? 'No incidents match these filters.' : `${n} incident${n === 1 ? '' : 's'}${cursor ? ' (more below)' : ''}`;
      } catch (err) {
        status.textContent = `Could not load incidents: ${err.message}`;
        status.classList.add('error');
      }
    }
    more.addEventListener('click', page);
    await Promise.all([page(), drawChart(filters)]);
  }

  async function drawChart(filters) {
    const q = new URLSearchParams();
    if (filters.get('from')) q.set('from', filters.get('from'));
    if (filters.get('to')) q.set('to', filters.get('to'));
    const box = document.getElementById('chart');
    let stats;
    try {
      stats = await getJson(`/api/stats?${q}`);
    } catch (err) {
      box.textContent = `Could not load statistics: ${err.message}`;
      return;
    }
    const counts = new Map(stats.incidents_per_day.map((d) => [d.day, d.count]));
    const pages = new Map(stats.pages_per_day.map((d) => [d.day, d.pages + d.dry_run]));
    const days = [];
    const last = stats.to.slice(0, 10);
    for (let d = stats.from.slice(0, 10); d <= last && days.length < 400; d = nextDay(d)) {
      if (d === last && stats.to.slice(10) === 'T00:00:00.000Z') break;
      days.push(d);
    }
    const max = Math.max(1, ...days.map((d) => counts.get(d) || 0));
    const W = 900, H = 160, left = 32, bottom = 22, top = 8;
    const bw = (W - left) / Math.max(1, days.length);
    const y = (v) => top + (H - top - bottom) * (1 - v / max);
    const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'bars', preserveAspectRatio: 'none' });
    chart.append(svg('line', { x1: left, y1: H - bottom, x2: W, y2: H - bottom, class: 'axis' }));
    chart.append(svg('text', { x: left - 6, y: y(max) + 4, class: 'tick', 'text-anchor': 'end' }, max));
    chart.append(svg('text', { x: left - 6, y: H - bottom + 4, class: 'tick', 'text-anchor': 'end' }, 0));
    days.forEach((d, i) => {
      const v = counts.get(d) || 0;
      const x = left + i * bw;
      const bar = svg('rect', { x: x + bw * 0.15, y: y(v), width: Math.max(1, bw * 0.7), height: H - bottom - y(v), class: 'bar' });
      bar.append(svg('title', {}, `${d}: ${v} incident${v === 1 ? '' : 's'}, ${pages.get(d) || 0} paged`));
      chart.append(bar);
      const every = Math.ceil(days.length / 10);
      if (i % every === 0) chart.append(svg('text', { x: x + bw / 2, y: H - 6, class: 'tick', 'text-anchor': 'middle' }, d.slice(5)));
    });
    box.replaceChildren(chart);
    const tta = stats.time_to_acknowledge, ttr = stats.time_to_resolve;
    const secs = (v) => (v === null ? '–' : fmtDuration('1970-01-01T00:00:00Z', new Date(v * 1000).toISOString()));
    document.getElementById('chart-caption').textContent =
      `Incidents opened per day, ${stats.from.slice(0, 10)} to ${stats.to.slice(0, 10)}: ${stats.incidents.total} incidents; ` +
      `time to acknowledge median ${secs(tta.median_seconds)} (p90 ${secs(tta.p90_seconds)}), ` +
      `to resolve median ${secs(ttr.median_seconds)} (p90 ${secs(ttr.p90_seconds)})`;
  }

  // ------------------------------------------------------------------ one incident

  const ruleText = (r) => (r ? `rule ${r.name ? `"${r.name}" ` : ''}(${r.path}, rules ${r.rulesVersion.slice(0, 15)})` : '');

  /** Thousands grouped with commas, as ingest writes its cut marks (never the browser's locale). */
  const grouped = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

  /** What ingest cut of an alert's texts (AlertReceived.cut): " — cut by ingest: description 12,345 characters", or ''. */
  function cutText(cut) {
    if (!Array.isArray(cut) || cut.length === 0) return '';
    // The description is taken from an annotation, so the two are cut alike: one loss, named once.
    const d = cut.find((c) => c && c.field === 'description');
    cut = cut.filter((c) => !(d && c !== d && String(c && c.field).startsWith('annotations.') && c.characters === d.characters));
    const named = cut.slice(0, 6).map((c) => {
      const field = String(c && c.field).slice(0, 40);
      if (typeof c.omittedBytes === 'number') return `${field} left out (${grouped(c.omittedBytes)} bytes)`;
      return typeof c.characters === 'number' ? `${field} ${grouped(c.characters)} characters` : field;
    });
    return ` — cut by ingest: ${named.join(', ')}${cut.length > 6 ? `, and ${cut.length - 6} more` : ''}`;
  }

  /** The pagers by name, as the router's thread notes call them. */
  const PAGERS = { opsgenie: 'Opsgenie', jsm: 'Jira Service Management' };

  /** One line saying what the event means: who, what, and why. */
  function describe(e) {
    const d = e.data || {};
    const dry = d.dryRun ? ' (dry run: recorded, not sent)' : '';
    switch (e.type) {
      case 'AlertReceived': return `${d.source} alert ${d.status}: ${d.title}${cutText(d.cut)}`;
      // The router's ticks: time as a recorded input (the input of an incident opened when its silence or inhibition ended).
      case 'SilenceEndedTick': return `silence ${d.silenceId} ended: the firing kept under it decided again`;
      case 'InhibitionEndedTick': return `${d.inhibitedBy} no longer inhibits it: the firing kept while inhibited decided again`;
      case 'StormSummaryTick': return `storm in ${d.channel} since ${d.since} quiet: its summary brought up to date`;
      case 'IncidentOpened': return `opened incident #${d.occurrence}${d.slack ? `; Slack ${d.slack.channel}` : ''}${d.pager ? `; page ${d.pager.priority}` : ''}`;
      case 'IncidentReopened': return `reopened as occurrence #${d.occurrence}`;
      case 'IncidentRepeated': return `fired again (count ${d.count})${d.notified ? ', re-notified' : ', not re-notified'}`;
      case 'IncidentUpdated': return `updated: ${Object.keys(d.changes || {}).join(', ')}`;
      case 'IncidentAcknowledged': return `acknowledged${d.by ? ` by ${whoText(d.byName, d.by)}` : ''}`;
      case 'IncidentUnacknowledged': return `Unacknowledged in ${PAGERS[d.provider] || d.provider} by ${d.by || 'someone'}`;
      case 'IncidentResolved': return `resolved${d.by ? ` by ${whoText(d.byName, d.by)}` : ''}`;
      case 'EventSuppressed': return `${d.inputType} suppressed`;
      case 'PostSlackMessage': return `post the ${d.purpose} message to ${d.channel}`;
      case 'UpdateSlackMessage': return 'update the root message';
      case 'CreatePagerAlert': return `page ${d.priority}${(d.responders || []).length ? ` → ${d.responders.map((r) => r.name || r.username || r.id).join(', ')}` : ''}: ${d.message}`;
      case 'ClosePagerAlert': return `close the pager alert${d.note ? `: ${d.note}` : ''}`;
      case 'AcknowledgePagerAlert': return `acknowledge the pager alert${d.user ? ` as ${d.user}` : ''}`;
      case 'AddPagerNote': return `note on the pager alert: ${d.note}`;
      case 'UpdatePagerPriority': return `raise the pager alert's priority${d.from ? ` from ${d.from}` : ''} to ${d.priority}`;
      case 'SlackMessagePosted': return `posted in ${d.channel} (ts ${d.ts})${d.purpose === 'reply' ? ' in the thread' : ''}${dry}`;
      case 'SlackMessageUpdated': return `root message updated in ${d.channel}${dry}`;
      case 'PagerAlertCreated': return `${d.provider} alert ${d.alertId || ''} created${dry}`;
      case 'PagerAlertClosed': return `${d.provider} alert closed${dry}`;
      case 'PagerAlertAcknowledged': return `${d.provider} alert acknowledged${dry}`;
      case 'PagerNoteAdded': return `note added to the ${d.provider} alert${dry}`;
      case 'PagerPriorityUpdated': return d.changed ? `${d.provider} alert now ${d.priority}${dry}` : `${d.provider} alert's priority left as it was (asked ${d.priority})${dry}`;
      case 'SlackMessageReceived': return `${d.kind} from ${d.user || d.botId || '?'} in ${d.channel}: ${d.text}`;
      case 'SlackActionReceived': return `${d.actionId} clicked by ${(d.user && (d.user.name || d.user.id)) || '?'}`;
      case 'ReplyWithOnCall': return `find the on-call of ${d.schedule} and answer in the thread`;
      case 'PostSlackReply': return `reply in the thread: ${d.text}`;
      case 'ClearOnCallCache': return 'clear the on-call cache';
      case 'SlackReplyPosted': return `replied in ${d.channel} (ts ${d.ts})${dry}`;
      case 'OnCallReplyPosted': return d.outcome === 'mentioned' ? `told the on-call: ${(d.emails || []).join(', ')}${dry}` : `on-call answer: ${d.outcome}${d.error ? ` (${d.error})` : ''}`;
      case 'OnCallCacheCleared': return `on-call cache cleared${dry}`;
      case 'DeliveryDelayed': return `${d.commandType} delayed: attempt ${d.attempts} failed (${d.lastError}), next try at ${d.nextAttemptAt}`;
      case 'DeliveryFailed': return `${d.commandType} failed after ${d.attempts} attempt(s): ${d.error}${d.httpStatus ? ` (HTTP ${d.httpStatus})` : ''}${d.permanent ? ', permanent' : ''}`;
      default: return e.type;
    }
  }

  function milestones(inc) {
    const t = inc.timeline;
    const first = (pred) => t.find(pred);
    const received = first((e) => e.stage === 'received');
    const decided = first((e) => e.stage === 'decided');
    const posted = first((e) => e.type === 'SlackMessagePosted');
    const paged = first((e) => e.type === 'PagerAlertCreated');
    return [
      ['received', received && received.recorded_at, received && received.source],
      ['decided', decided && decided.recorded_at, decided && decided.reason],
      ['posted', posted && posted.recorded_at, posted && posted.data.channel],
      ['paged', paged && paged.recorded_at, paged && (paged.data.alertId || paged.data.provider)],
      ['acknowledged', inc.acknowledged_at, inc.acknowledged_by && who(inc.acknowledged_by_name, inc.acknowledged_by)],
      ['resolved', inc.resolved_at, inc.resolved_by && who(inc.resolved_by_name, inc.resolved_by)],
    ];
  }

  async function showIncident(id) {
    document.getElementById('detail-view').hidden = false;
    const box = document.getElementById('detail');
    let inc;
    try {
      inc = await getJson(`/api/incidents/${encodeURIComponent(id)}`);
    } catch (err) {
      box.replaceChildren(h('p', { class: 'status error' }, `Could not load incident ${id}: ${err.message}`));
      return;
    }
    document.title = `${inc.title} — alertbus`;
    const facts = [
      ['Alias', inc.alias], ['Incident', `${inc.incident_id} (occurrence ${inc.occurrence})`],
      ['Source', inc.source], ['Severity', inc.severity], ['Count', inc.count],
      ...(differs(inc.started_at, inc.opened_at)
        ? [['Started', `${fmtTime(inc.started_at)} as the sender says (${fmtDuration(inc.started_at, inc.opened_at)} before alertbus opened it)`]]
        : []),
      ['Opened', fmtTime(inc.opened_at)],
      ['Acknowledged', inc.acknowledged_at
        ? [`${fmtTime(inc.acknowledged_at)} by `, who(inc.acknowledged_by_name, inc.acknowledged_by), ` (after ${fmtDuration(startOf(inc), inc.acknowledged_at)})`]
        : '–'],
      ['Resolved', inc.resolved_at
        ? [fmtTime(inc.resolved_at), inc.resolved_by ? [' by ', who(inc.resolved_by_name, inc.resolved_by)] : '', ` (after ${fmtDuration(startOf(inc), endOf(inc))})`]
        : '–'],
      ...(differs(inc.ended_at, inc.resolved_at)
        ? [['Ended', `${fmtTime(inc.ended_at)} as the sender says (${fmtDuration(inc.ended_at, inc.resolved_at)} before alertbus resolved it)`]]
        : []),
      ['Slack', inc.slack_root_ts ? `${inc.slack_channel} thread ${inc.slack_root_ts}` : inc.slack_target_channel || '–'],
      ['Pager', inc.pager_alert_id ? `${inc.pager_alert_id} (${inc.pager_priority || ''})` : inc.pager_priority ? `${inc.pager_priority}, no alert id` : '–'],
      ['Why', ruleText(inc.rule)],
    ];
    const steps = h('ol', { class: 'steps' }, milestones(inc).map(([name, at, by]) =>
      h('li', { class: at ? 'done' : 'todo' }, h('strong', {}, name), h('span', {}, at ? fmtTime(at) : 'not yet'), by ? h('em', {}, by instanceof Node ? by : String(by)) : null)));
    const rows = inc.timeline.map((e) => h('li', { class: `event stage-${e.stage}`, 'data-type': e.type },
      h('div', { class: 'when' }, fmtTime(e.recorded_at)),
      h('div', { class: 'what' },
        h('span', { class: `stage ${e.stage}` }, e.stage),
        h('strong', {}, e.type), ' ', describe(e),
        e.reason || e.rule ? h('div', { class: 'why' }, `why: ${[e.reason, ruleText(e.rule)].filter(Boolean).join(' — ')}`) : null,
        h('div', { class: 'where' }, `${e.source} · ${e.topic}[${e.partition}] @ ${e.offset} · ${e.event_id}`)),
    ));
    box.replaceChildren(
      h('h1', {}, badge(inc.status), ' ', inc.title),
      inc.description ? h('p', { class: 'description' }, inc.description) : null,
      steps,
      h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      h('h2', {}, `Timeline (${inc.timeline.length} events)`),
      h('ol', { class: 'timeline', id: 'timeline' }, rows),
    );
  }

  // ------------------------------------------------------------------ notifications

  /** The latest notifications (POST /notify, alertbus notify / run), with the channel, time and text filters of the list. */
  async function showNotifications() {
    const status = document.getElementById('notifications-status');
    const tbody = document.querySelector('#notifications tbody');
    const q = new URLSearchParams();
    const filters = apiFilters();
    for (const name of ['channel', 'from', 'to', 'q']) if (filters.get(name)) q.set(name, filters.get(name));
    q.set('limit', '50');
    try {
      const body = await getJson(`/api/notifications?${q}`);
      tbody.replaceChildren(...body.notifications.map((n) => h('tr', { 'data-notification': n.notification_id },
        h('td', { class: 'time' }, fmtTime(n.requested_at)),
        h('td', {}, h('span', { class: `sev sev-${n.level}` }, n.level || '')),
        h('td', {}, n.tag || (n.kind === 'direct' ? '(direct)' : '')),
        h('td', { class: 'nowrap' }, n.channel || ''),
        h('td', {}, n.title || ''),
        h('td', { class: 'text' }, (n.text || '').length > 300 ? `${n.text.slice(0, 299)}…` : n.text || ''),
        h('td', { class: 'nowrap' }, n.slack_ts ? fmtTime(n.delivered_at) : n.reason === 'duplicate' ? 'duplicate: not posted' : 'not yet'),
      )));
      const n = body.notifications.length;
      status.textContent = n === 0 ? 'No notifications match these filters.' : `${n} latest notification${n === 1 ? '' : 's'}`;
    } catch (err) {
      status.textContent = `Could not load notifications: ${err.message}`;
      status.classList.add('error');
    }
  }

  // ------------------------------------------------------------------ kept quiet

  /**
   * What suppressed a decision, in a few words, as `alertbus suppressed` says it: the silence or maintenance window (who,
   * why), the inhibiting incident or alert (and what keeps that one quiet) with the inhibit rule, the storm, the drop rule.
   */
  function suppressedByText(s) {
    const by = s.suppressed_by && typeof s.suppressed_by === 'object' ? s.suppressed_by : {};
    const clip = (t, n) => (t.length > n ? `${t.slice(0, n - 1)}…` : t);
    switch (by.kind) {
      case 'silence': {
        const what = by.silenceKind === 'maintenance' ? 'maintenance window' : 'silence';
        const why = typeof by.comment === 'string' && by.comment !== '' ? ` ("${clip(by.comment, 60)}")` : '';
        return `${what} ${by.silenceId || ''}${by.createdBy ? ` by ${by.createdBy}` : ''}${why}`;
      }
      case 'inhibition': {
        const src = by.source && typeof by.source === 'object' ? by.source : null;
        const quiet = src ? ` (itself ${src.reason}${src.silenceId ? ` by silence ${src.silenceId}` : ''}${src.dropRule ? ` by rule "${src.dropRule}"` : ''})` : '';
        const inhibitor = by.incidentId ? `incident ${by.incidentId} (${by.alias || '?'})` : `${by.alias || 'an alert'}${quiet}`;
        return `inhibited by ${inhibitor}${by.inhibitRule ? `, inhibit rule "${by.inhibitRule}"` : ''}`;
      }
      case 'storm': {
        // Where the storm is: its summary message and its page (the summary's own incident id opens nothing here).
        const st = s.storm_summary && typeof s.storm_summary === 'object' ? s.storm_summary : {};
        const message = st.slack_ts ? `: summary message ${st.slack_channel || by.channel || '?'} ${st.slack_ts}` : st.alias ? ` (${st.alias})` : '';
        const paged = by.pageGrouped ? `, paged with the storm${st.pager_alert_id ? ` (${st.pager_alert_id})` : ''}` : '';
        return `storm in ${by.channel || '?'}${message}${paged}`;
      }
    }
    if (s.reason === 'dropped-by-rule' && s.rule) return `rule "${s.rule.name || s.rule.path}"`;
    return '';
  }

  /**
   * What alertbus kept quiet (silenced, inhibited, dropped by a rule, gathered into a storm…) over the list's dates, or
   * the last 24 hours without them; filtered by the list's alias. Newest first, with the counts by reason.
   */
  async function showSuppressed() {
    const status = document.getElementById('suppressed-status');
    const tbody = document.querySelector('#suppressed tbody');
    const q = new URLSearchParams();
    const filters = apiFilters();
    for (const name of ['from', 'to', 'alias']) if (filters.get(name)) q.set(name, filters.get(name));
    q.set('limit', '50');
    try {
      const body = await getJson(`/api/suppressed?${q}`);
      tbody.replaceChildren(...body.suppressed.map((s) => h('tr', { 'data-event': s.event_id },
        h('td', { class: 'time' }, fmtTime(s.recorded_at)),
        h('td', { class: 'nowrap' }, s.reason),
        h('td', {}, suppressedByText(s)),
        h('td', {}, s.severity ? h('span', { class: `sev sev-${s.severity}` }, s.severity) : ''),
        h('td', {}, s.title || (s.input_type && s.input_type !== 'AlertReceived' ? s.input_type : '')),
        h('td', { class: 'nowrap' }, s.alias),
        h('td', {}, s.incident_id ? h('a', { href: `/?incident=${encodeURIComponent(s.incident_id)}` }, s.incident_id) : ''),
      )));
      const window = `${fmtTime(body.from)} – ${fmtTime(body.to)}`;
      const counts = (body.counts || []).map((c) => `${c.reason} ${c.count}`).join(', ');
      // Decisions, not alerts: an alert sent again while silenced is kept quiet again. The channel filter does not apply.
      const notes = [
        body.next_cursor ? `the latest ${body.suppressed.length} shown (\`alertbus suppressed\` lists them all)` : '',
        filters.get('channel') ? 'not filtered by channel' : '',
      ].filter(Boolean);
      status.textContent = body.total === 0
        ? `Nothing was kept quiet between ${window}.`
        : `${body.total} decision${body.total === 1 ? '' : 's'} kept quiet between ${window}${counts ? ` (${counts})` : ''}${notes.length ? `; ${notes.join('; ')}` : ''}.`;
    } catch (err) {
      status.textContent = `Could not load what was kept quiet: ${err.message}`;
      status.classList.add('error');
    }
  }

  setUpToken();
  const incident = params.get('incident');
  if (incident) showIncident(incident);
  else {
    showList();
    showNotifications();
    showSuppressed();
  }
})();
