// sesflow dashboards: plain ES module, no framework. Every piece of data reaches the page through textContent or
// an attribute set on a created node, never through innerHTML: mail text (subjects, diagnostic codes, links, user
// agents) is attacker-controlled.

import { rateChart, sparkline } from './charts.js';
import { createSession } from './session.js';

const session = await createSession();
const app = document.getElementById('app');
const who = document.getElementById('who');
let me = null;

// ---------------------------------------------------------------------------------------------- DOM helpers

/** Creates an element: `attrs` are properties/attributes (`class`, `on*` handlers), children are nodes or text. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const fmtInt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
const fmtPct = (r) => (r === null || r === undefined || Number.isNaN(r) ? '–' : `${(Number(r) * 100).toFixed(2)} %`);
const fmtTime = (iso) => (iso ? `${String(iso).replace('T', ' ').slice(0, 19)} UTC` : '–');
const badge = (state) => el('span', { class: `badge badge-${state}`, 'data-state': state }, state);
const readinessBadge = (verdict) =>
  el('span', { class: `badge badge-${verdict.replace(/ /g, '-')}`, 'data-readiness': verdict }, verdict);

/** A table with one header row: `heads` are texts (each a plain `th`) or cells made here (null skipped). */
const table = (attrs, heads, rows) =>
  el(
    'table',
    attrs,
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        heads.map((h) => (typeof h === 'string' ? el('th', {}, h) : h)),
      ),
    ),
    el('tbody', {}, rows),
  );

/** The readiness cell of the tenant list: the verdict, and its first reason (all of them on hover). */
function readinessCell(r) {
  if (!r) return el('td', {}, el('span', { class: 'muted' }, 'not checked'));
  const [first, ...more] = r.reasons;
  return el(
    'td',
    { class: 'readiness', title: r.reasons.join('\n') },
    readinessBadge(r.verdict),
    first
      ? el('div', { class: 'readiness-reasons muted' }, `${first}${more.length ? ` (+${more.length} more)` : ''}`)
      : null,
  );
}

const CHECK_COLUMNS = ['Check', 'Result', 'Found', 'What to fix'];

/**
 * Sender readiness: the verdict and every reason, the complaint rate against Gmail's 0.3 % beside the policy's own
 * thresholds, and each domain's checks with what to fix. `client`: the tenant's own view, worded for them.
 */
function readinessCard(r, th, complaintRate7d, client = false) {
  if (!r) {
    return el(
      'div',
      { class: 'card', id: 'readiness' },
      el('h2', {}, 'Sender readiness'),
      el('p', { class: 'muted' }, 'Not checked yet.'),
    );
  }
  const outcome = (o) => el('span', { class: `badge outcome-${o}` }, o);
  return el(
    'div',
    { class: 'card', id: 'readiness' },
    el('h2', {}, client ? 'Your sending domains' : 'Sender readiness (Gmail and Yahoo bulk-sender rules)'),
    el('p', {}, readinessBadge(r.verdict), ` checked ${fmtTime(r.checkedAt)}`),
    r.reasons.length
      ? el(
          'ul',
          { class: 'reasons' },
          r.reasons.map((x) => el('li', {}, x)),
        )
      : null,
    el(
      'p',
      { class: 'sub', id: 'complaint-vs-gmail' },
      `Complaint rate 7 d ${fmtPct(complaintRate7d ?? r.complaintRate)} · Gmail's limit ${fmtPct(r.gmailSpamRateLimit)}`,
      th ? ` · our warning ${fmtPct(th.complaintWarning)}, pause ${fmtPct(th.complaintPause)}` : '',
    ),
    r.domains.map((d) =>
      el(
        'div',
        { class: 'domain-checks', 'data-domain': d.domain },
        el('h3', {}, d.domain, ' ', readinessBadge(d.verdict)),
        table(
          {},
          CHECK_COLUMNS,
          d.checks.map((c) =>
            el(
              'tr',
              {},
              el('td', {}, c.id),
              el('td', {}, outcome(c.outcome)),
              el('td', { class: 'text' }, c.detail),
              el('td', { class: 'text' }, c.outcome === 'pass' ? '' : (c.fix ?? '')),
            ),
          ),
        ),
      ),
    ),
  );
}

function rateCell(rate, warning, pause) {
  const cls = rate >= pause ? 'num over-pause' : rate >= warning ? 'num over-warning' : 'num';
  return el('td', { class: cls }, fmtPct(rate), el('span', { class: 'limit' }, `/ ${fmtPct(pause)}`));
}

/** A page's head: the link back as [href, text] (none for null), the title (an `h1`) and the line under it. */
const pageHead = (back, title, ...sub) => [
  back ? el('p', {}, el('a', { href: back[0] }, back[1])) : null,
  title,
  el('p', { class: 'sub' }, ...sub),
];

/** Replaces the page content; children as for `el` (nested arrays, null skipped). */
function mount(...children) {
  app.replaceChildren(...children.flat(2).filter((c) => c !== null && c !== undefined && c !== false));
}

function showError(message) {
  const old = app.querySelector('.error');
  if (old) old.remove();
  app.prepend(el('p', { class: 'error', role: 'alert' }, message));
}

// ---------------------------------------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, options = {}, retried = false) {
  const res = await fetch(path, {
    ...options,
    headers: { ...(await session.headers()), accept: 'application/json', ...(options.headers ?? {}) },
  });
  // An ID token that lapsed between the check and the request: refreshed once, then the request again.
  if (res.status === 401 && !retried && (await session.refresh())) return api(path, options, true);
  if (!res.ok) {
    let message = `request failed (${res.status})`;
    try {
      message = (await res.json()).error ?? message;
    } catch {
      // the body was not JSON: keep the status line
    }
    if (res.status === 401) {
      session.clear();
      me = null;
    }
    throw new ApiError(res.status, message);
  }
  return res;
}

const getJson = async (path) => (await api(path)).json();

const postJson = (path, body) =>
  api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function downloadCsv(report, params) {
  const res = await api(`/v1/reports/${encodeURIComponent(report)}?${params}`, { headers: { accept: 'text/csv' } });
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `${report}.csv`;
  const url = URL.createObjectURL(await res.blob());
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---------------------------------------------------------------------------------------------- login

function renderLogin(message) {
  who.replaceChildren();
  if (session.mode === 'cognito') {
    const button = el(
      'button',
      { class: 'primary', type: 'button', id: 'sign-in', onclick: () => session.signIn() },
      'Sign in',
    );
    mount(
      el(
        'div',
        { class: 'card login' },
        el('h1', {}, 'Sign in'),
        el('p', { class: 'sub' }, 'Sign in with your organisation account.'),
        message ? el('p', { class: 'error', role: 'alert' }, message) : null,
        button,
      ),
    );
    button.focus();
    return;
  }
  const input = el('input', { type: 'password', id: 'api-key', autocomplete: 'off', placeholder: 'API key' });
  const form = el(
    'form',
    {
      class: 'card login',
      onsubmit: (e) => {
        e.preventDefault();
        session.useKey(input.value.trim());
        route();
      },
    },
    el('h1', {}, 'Sign in'),
    el('p', { class: 'sub' }, 'Enter your API key. It is kept for this browser tab only.'),
    message ? el('p', { class: 'error', role: 'alert' }, message) : null,
    input,
    el('button', { class: 'primary', type: 'submit' }, 'Continue'),
  );
  mount(form);
  input.focus();
}

function renderWho() {
  const signOut = el(
    'button',
    {
      type: 'button',
      id: 'sign-out',
      onclick: () => {
        me = null;
        // Cognito: the browser leaves for the provider's sign-out and comes back to the sign-in page.
        if (!session.signOut()) route();
      },
    },
    'Sign out',
  );
  const label = me.role === 'client' ? `${me.tenantId} · client` : me.role;
  who.replaceChildren(el('span', { id: 'who-role' }, label), signOut);
}

// ---------------------------------------------------------------------------------------------- compliance

async function renderTenantList() {
  const data = await getJson('/v1/tenants');
  const t = data.thresholds;
  const rows = data.tenants.map((x) =>
    el(
      'tr',
      {
        class: 'row-link',
        'data-tenant': x.tenantId,
        onclick: () => {
          location.hash = `#/tenants/${encodeURIComponent(x.tenantId)}`;
        },
      },
      el('td', {}, el('a', { href: `#/tenants/${encodeURIComponent(x.tenantId)}` }, x.tenantId)),
      el('td', {}, badge(x.state)),
      el(
        'td',
        {},
        x.awsVerdict ? el('span', { class: 'badge badge-muted' }, x.awsVerdict) : el('span', { class: 'muted' }, '–'),
      ),
      el('td', { class: 'num' }, fmtInt(x.sent24h)),
      el('td', { class: 'num' }, fmtInt(x.sent7d)),
      rateCell(x.bounceRate7d, (x.thresholds ?? t).bounceWarning, (x.thresholds ?? t).bouncePause),
      rateCell(x.complaintRate7d, (x.thresholds ?? t).complaintWarning, (x.thresholds ?? t).complaintPause),
      el(
        'td',
        {},
        sparkline(
          x.trend.map((d) => d.bounceRate),
          { limit: (x.thresholds ?? t).bouncePause },
        ),
      ),
      el('td', { class: 'text muted' }, x.summary ?? ''),
      readinessCell(x.readiness),
    ),
  );
  mount(
    pageHead(
      null,
      el('h1', {}, 'Tenants by risk'),
      `Paused and warned tenants first, then by how close the worse 7-day rate is to its own policy's pause threshold (the rate's 95 % lower bound must reach it). Standard policy: pause at bounce ${fmtPct(t.bouncePause)}, complaint ${fmtPct(t.complaintPause)}; each row shows its tenant's own.`,
    ),
    el(
      'div',
      { class: 'card' },
      table(
        { id: 'tenant-table' },
        [
          'Tenant',
          'State',
          'AWS verdict',
          ...['Sent 24 h', 'Sent 7 d', 'Bounce 7 d', 'Complaint 7 d'].map((h) => el('th', { class: 'num' }, h)),
          'Bounce trend',
          'Decision',
          'Sender readiness',
        ],
        rows,
      ),
    ),
  );
}

function evidenceCard(ev) {
  if (!ev)
    return el('div', { class: 'card' }, el('h2', {}, 'Evidence'), el('p', { class: 'muted' }, 'No decision recorded.'));
  return el(
    'div',
    { class: 'card', id: 'evidence' },
    el('h2', {}, ev.kind === 'manual' ? 'Evidence of the manual pause' : 'Evidence of the decision'),
    evidenceBody(ev),
    ev.earlier
      ? el('div', { id: 'evidence-earlier' }, el('h3', {}, 'Earlier decision'), evidenceBody(ev.earlier))
      : null,
  );
}

function evidenceBody(ev) {
  const tops = (title, list) =>
    list?.length
      ? [el('dt', {}, title), el('dd', {}, list.map((x) => `${x.name} (${fmtInt(x.count)})`).join(', '))]
      : [];
  return el(
    'div',
    {},
    ev.summary ? el('p', {}, ev.summary) : null,
    el(
      'dl',
      { class: 'evidence' },
      el('dt', {}, 'Decided'),
      el('dd', {}, fmtTime(ev.decidedAt)),
      el('dt', {}, 'Window'),
      el('dd', {}, `${fmtTime(ev.window.from)} → ${fmtTime(ev.window.to)}`),
      el('dt', {}, 'Sent / delivered'),
      el('dd', {}, `${fmtInt(ev.counts.sent)} / ${fmtInt(ev.counts.delivered)}`),
      el('dt', {}, 'Hard bounces'),
      el(
        'dd',
        {},
        `${fmtInt(ev.counts.hardBounces)} · ${fmtPct(ev.rates.bounce)}${ev.lowerBounds ? ` (lower bound ${fmtPct(ev.lowerBounds.bounce)})` : ''} vs pause ${fmtPct(ev.thresholds.bouncePause)}`,
      ),
      el('dt', {}, 'Complaints'),
      el(
        'dd',
        {},
        `${fmtInt(ev.counts.complaints)} · ${fmtPct(ev.rates.complaint)}${ev.lowerBounds ? ` (lower bound ${fmtPct(ev.lowerBounds.complaint)})` : ''} vs pause ${fmtPct(ev.thresholds.complaintPause)}`,
      ),
      tops('Top domains', ev.topDomains),
      tops('Top campaigns', ev.topCampaigns),
      tops('Top diagnostic codes', ev.topDiagnosticCodes),
    ),
  );
}

function auditCard(entries) {
  // Notes are internal: the API sends them to compliance users only.
  const withNotes = entries.some((a) => a.note);
  return el(
    'div',
    { class: 'card' },
    el('h2', {}, 'Audit trail'),
    entries.length === 0
      ? el('p', { class: 'muted' }, 'No entries.')
      : table(
          { id: 'audit-table' },
          ['Time', 'Action', 'Change', 'By', 'Reason (tenant sees)', withNotes ? 'Internal note' : null],
          entries.map((a) =>
            el(
              'tr',
              {},
              el('td', {}, fmtTime(a.at)),
              el('td', {}, a.action),
              // Entries that move no state (an erasure, a readiness change) show no arrow.
              el('td', {}, a.fromState || a.toState ? `${a.fromState ?? '–'} → ${a.toState ?? '–'}` : '–'),
              el('td', { class: 'mono' }, a.actor),
              el('td', { class: 'text' }, a.reason),
              withNotes ? el('td', { class: 'text note' }, a.note ?? '') : null,
            ),
          ),
        ),
  );
}

/** The required reason of a compliance form. */
const reasonBox = (id, placeholder) => el('textarea', { id, required: true, placeholder });

/**
 * The submit handler of a compliance form: a reason of 3 characters or more, then `action` with the button disabled
 * until it ends; its error is shown.
 */
const submitWithReason = (reason, button, action) => async (e) => {
  e.preventDefault();
  if (reason.value.trim().length < 3) {
    showError('Give a reason (3 characters or more).');
    return;
  }
  button.disabled = true;
  try {
    await action(reason.value.trim());
  } catch (err) {
    showError(err.message);
  } finally {
    button.disabled = false;
  }
};

function actionCard(tenantId, state) {
  if (me.role !== 'compliance') return null;
  const paused = state === 'paused' || state === 'suspended';
  const reason = reasonBox('reason', 'Internal note (required, kept in the audit trail, never shown to the tenant)');
  const tenantReason = el('input', {
    id: 'tenant-reason',
    type: 'text',
    maxlength: '200',
    placeholder: 'Reason the tenant sees (optional; a neutral one otherwise)',
  });
  const button = el(
    'button',
    { type: 'submit', id: 'state-action', class: paused ? 'primary' : 'danger' },
    paused ? 'Resume sending' : 'Pause sending',
  );
  return el(
    'form',
    {
      class: 'card',
      id: 'state-form',
      onsubmit: submitWithReason(reason, button, async (why) => {
        await postJson(`/v1/tenants/${encodeURIComponent(tenantId)}/${paused ? 'resume' : 'pause'}`, {
          reason: why,
          ...(tenantReason.value.trim() ? { tenantReason: tenantReason.value.trim() } : {}),
        });
        await renderTenant(tenantId);
      }),
    },
    el('h2', {}, paused ? 'Resume this tenant' : 'Pause this tenant'),
    reason,
    tenantReason,
    el('div', {}, button),
  );
}

/** One store's line of an erasure report. */
const storeRow = (s) =>
  el(
    'tr',
    {},
    [s.store, s.found, s.changed, s.skipped ? `${s.action} (${s.skipped})` : s.action].map((v, i) =>
      el('td', { class: i === 0 || i === 3 ? 'text' : 'num' }, i === 1 || i === 2 ? fmtInt(v) : v),
    ),
  );

/** Compliance only: forget one recipient of this tenant everywhere (sesflow forget), with a required reason. */
function erasureCard(tenantId) {
  if (me.role !== 'compliance') return null;
  const address = el('input', {
    id: 'erase-address',
    type: 'email',
    required: true,
    placeholder: 'recipient@example.org',
  });
  const reason = reasonBox('erase-reason', 'Reason (required: the request, its reference)');
  const dryRun = el('input', { id: 'erase-dry-run', type: 'checkbox', checked: true });
  const button = el('button', { type: 'submit', id: 'erase-action', class: 'danger' }, 'Erase recipient');
  const result = el('div', { id: 'erase-report' });
  return el(
    'form',
    {
      class: 'card',
      id: 'erase-form',
      onsubmit: submitWithReason(reason, button, async (why) => {
        const res = await postJson('/v1/erasures', {
          address: address.value.trim(),
          reason: why,
          tenant: tenantId,
          dryRun: dryRun.checked,
        });
        const report = await res.json();
        if (res.status === 202) {
          // In AWS the erasure function runs it in the background and writes its report to the audit.
          result.replaceChildren(
            el(
              'p',
              {},
              `${report.dryRun ? 'Dry run' : 'Erasure'} accepted (request ${report.requestId ?? 'without an id'}): `,
              'it runs in the background; its report appears in this tenant’s audit when done.',
            ),
          );
          return;
        }
        result.replaceChildren(
          el(
            'p',
            {},
            report.dryRun ? 'Dry run: nothing changed.' : report.complete ? 'Erased.' : 'Not complete: run it again.',
            ` Audit ${report.id}.`,
          ),
          table({}, ['Store', 'Found', 'Changed', 'Action'], report.stores.map(storeRow)),
        );
      }),
    },
    el('h2', {}, 'Erase a recipient (erasure request)'),
    address,
    reason,
    el('label', {}, dryRun, ' Dry run: only list what would change'),
    el('div', {}, button),
    result,
  );
}

async function renderTenant(tenantId) {
  const enc = encodeURIComponent(tenantId);
  const [t, audit] = await Promise.all([getJson(`/v1/tenants/${enc}`), getJson(`/v1/tenants/${enc}/audit`)]);
  const th = t.thresholds;
  const hourly = t.figures?.hourly ?? [];
  const chart = (title, key, warn, pause) =>
    el(
      'div',
      { class: 'card' },
      el('h2', {}, title),
      rateChart(
        hourly.map((h) => ({ t: h.hour, v: h[key] })),
        [
          { value: warn, color: '#e0a021' },
          { value: pause, color: '#b3261e' },
        ],
        { title },
      ),
      el(
        'div',
        { class: 'legend' },
        el('span', {}, el('span', { class: 'swatch swatch-rate' }), 'hourly rate'),
        el('span', {}, el('span', { class: 'swatch swatch-warn' }), `warning ${fmtPct(warn)}`),
        el('span', {}, el('span', { class: 'swatch swatch-pause' }), `pause ${fmtPct(pause)}`),
      ),
    );
  const f = t.figures;
  mount(
    pageHead(
      ['#/', '← All tenants'],
      el('h1', { id: 'tenant-title' }, tenantId, ' ', badge(t.state)),
      `State since ${fmtTime(t.since)} · AWS verdict: ${t.awsVerdict ?? 'not known'} · `,
      el(
        'span',
        { id: 'tenant-policy' },
        `Policy ${th.policy ?? t.policy ?? 'standard'}: pause at bounce ${fmtPct(th.bouncePause)}, complaint ${fmtPct(th.complaintPause)} (95 % lower bound) · `,
      ),
      el('a', { href: `#/report/${enc}` }, 'Client report'),
    ),
    el(
      'div',
      { class: 'kpis' },
      kpi('Sent 24 h', fmtInt(f?.sent24h)),
      kpi('Sent 7 d', fmtInt(f?.sent7d)),
      kpi('Bounce rate 7 d', fmtPct(f?.bounceRate7d)),
      kpi('Complaint rate 7 d', fmtPct(f?.complaintRate7d)),
    ),
    el(
      'div',
      { class: 'grid-2' },
      chart('Hard bounce rate, hourly', 'bounceRate', th.bounceWarning, th.bouncePause),
      chart('Complaint rate, hourly', 'complaintRate', th.complaintWarning, th.complaintPause),
    ),
    readinessCard(t.readiness, th, f?.complaintRate7d),
    actionCard(tenantId, t.state),
    erasureCard(tenantId),
    evidenceCard(t.evidence),
    auditCard(audit.audit),
  );
}

const kpi = (label, value) =>
  el('div', { class: 'kpi' }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value));

// ---------------------------------------------------------------------------------------------- client report

const isoDay = (d) => d.toISOString().slice(0, 10);

/** Every report column: its heading and kind (`num`, `pct`, `time`, `key` or `text`). */
const COLUMNS = {
  day: ['Day', 'key'],
  campaign_id: ['Campaign', 'key'],
  subject: ['Subject', 'text'],
  recipient_domain: ['Domain', 'key'],
  provider: ['Provider', 'key'],
  event_time: ['Time', 'time'],
  event_type: ['Event', 'key'],
  recipient: ['Address', 'text'],
  bounce_type: ['Type', 'key'],
  bounce_subtype: ['Subtype', 'key'],
  reason: ['Reason', 'text'],
  sent: ['Sent', 'num'],
  delivered: ['Delivered', 'num'],
  human_opens: ['Human opens', 'num'],
  machine_opens: ['Machine opens', 'num'],
  unique_clicks: ['Clicks', 'num'],
  hard_bounces: ['Hard bounces', 'num'],
  complaints: ['Complaints', 'num'],
  unsubscribes: ['Unsubscribes', 'num'],
  recipients: ['Recipients', 'num'],
  open_rate: ['Open rate', 'pct'],
  click_rate: ['Click rate', 'pct'],
  bounce_rate: ['Bounce rate', 'pct'],
  complaint_rate: ['Complaint rate', 'pct'],
};

/** The client report's tables in page order: the title and the columns (keys of COLUMNS) of each. */
const TABLES = {
  'daily-timeseries': {
    title: 'By day',
    cols: 'day sent delivered human_opens machine_opens unique_clicks hard_bounces complaints bounce_rate complaint_rate',
  },
  'campaign-report': {
    title: 'By campaign',
    cols: 'campaign_id subject sent open_rate human_opens machine_opens click_rate bounce_rate complaint_rate',
  },
  'domain-deliverability': {
    title: 'By recipient domain',
    cols: 'recipient_domain provider sent delivered open_rate bounce_rate complaint_rate',
  },
  'bounced-recipients': {
    title: 'Bounced and complained addresses',
    cols: 'event_time event_type recipient bounce_type bounce_subtype reason campaign_id',
  },
  unsubscribes: { title: 'Unsubscribes', cols: 'day campaign_id unsubscribes recipients' },
};

/** A table's columns as [key, heading, kind]. */
const columnsOf = (spec) => spec.cols.split(' ').map((k) => [k, ...COLUMNS[k]]);

function cell(value, kind) {
  if (kind === 'num') return el('td', { class: 'num' }, fmtInt(value));
  if (kind === 'pct') return el('td', { class: 'num' }, fmtPct(value));
  if (kind === 'time') return el('td', { class: 'nowrap' }, fmtTime(value));
  if (kind === 'key') return el('td', { class: 'nowrap' }, value ?? '');
  return el('td', { class: 'text' }, value ?? '');
}

function reportTable(name, data, params) {
  const spec = TABLES[name];
  const cols = columnsOf(spec);
  return el(
    'div',
    { class: 'card', id: `report-${name}` },
    el(
      'div',
      { class: 'card-head' },
      el('h2', {}, spec.title),
      el(
        'button',
        {
          type: 'button',
          class: 'csv',
          'data-report': name,
          onclick: () => downloadCsv(name, params).catch((err) => showError(err.message)),
        },
        'Export CSV',
      ),
    ),
    data.rows.length === 0
      ? el('p', { class: 'muted' }, 'No data in this period.')
      : el(
          'div',
          { class: 'scroll' },
          table(
            {},
            cols.map(([, h, kind]) => el('th', { class: kind === 'num' || kind === 'pct' ? 'num' : null }, h)),
            data.rows.map((r) =>
              el(
                'tr',
                {},
                cols.map(([k, , kind]) => cell(r[k], kind)),
              ),
            ),
          ),
        ),
  );
}

async function renderReport(tenantId, from, to) {
  const today = new Date();
  const f = from ?? isoDay(new Date(today.getTime() - 6 * 86_400_000));
  const t = to ?? isoDay(new Date(today.getTime() + 86_400_000));
  const params = new URLSearchParams({ from: f, to: t });
  if (me.role !== 'client') params.set('tenant', tenantId);
  const [summary, ...tables] = await Promise.all(
    ['tenant-summary', ...Object.keys(TABLES)].map((name) => getJson(`/v1/reports/${name}?${params}`)),
  );
  // The tenant's own domain checks, with what to fix (a client sees only its own tenant).
  const own =
    me.role === 'client' ? await getJson(`/v1/tenants/${encodeURIComponent(tenantId)}`).catch(() => null) : null;
  const s = summary.rows[0] ?? {};
  // The registry's tenant-summary may not carry the rates and machine opens: derived from its counts then.
  const ratio = (a, b) => (b ? a / b : null);
  const openRate = s.open_rate ?? ratio(s.unique_opens, s.delivered);
  const clickRate = s.click_rate ?? ratio(s.unique_clicks, s.delivered);
  const machineOpens = s.machine_opens ?? (s.unique_opens ?? 0) - (s.human_opens ?? 0);
  const fromInput = el('input', { type: 'date', id: 'from', value: f });
  const toInput = el('input', { type: 'date', id: 'to', value: t });
  mount(
    pageHead(
      me.role === 'client' ? null : [`#/tenants/${encodeURIComponent(tenantId)}`, '← Tenant'],
      el('h1', { id: 'report-title' }, `${tenantId} · email report`),
      `From ${f} to ${t} (UTC, end exclusive). Human opens leave out machine opens (mail privacy proxies, image prefetch).`,
    ),
    // Said when the period reaches before raw retention: those days come from the daily rollups, whole days only.
    [summary, ...tables].find((d) => d.basis?.note)
      ? el('p', { class: 'notice', id: 'report-basis' }, [summary, ...tables].find((d) => d.basis?.note).basis.note)
      : null,
    el(
      'form',
      {
        class: 'toolbar',
        onsubmit: (e) => {
          e.preventDefault();
          location.hash = `#/report/${encodeURIComponent(tenantId)}/${fromInput.value}/${toInput.value}`;
        },
      },
      el('label', {}, 'From', fromInput),
      el('label', {}, 'To', toInput),
      el('button', { type: 'submit', class: 'primary' }, 'Update'),
    ),
    el(
      'div',
      { class: 'kpis', id: 'summary' },
      kpi('Sent', fmtInt(s.sent)),
      kpi('Delivered', fmtInt(s.delivered)),
      kpi('Open rate', fmtPct(openRate)),
      kpi('Human / machine opens', `${fmtInt(s.human_opens)} / ${fmtInt(machineOpens)}`),
      kpi('Click rate', fmtPct(clickRate)),
      kpi('Bounce rate', fmtPct(s.bounce_rate)),
      kpi('Complaint rate', fmtPct(s.complaint_rate)),
    ),
    own ? readinessCard(own.readiness, null, own.figures?.complaintRate7d, true) : null,
    Object.keys(TABLES).map((name, i) => reportTable(name, tables[i], params)),
  );
}

// ---------------------------------------------------------------------------------------------- routing

/** Set while a finished sign-in's message (an error coming back from the provider) waits to be shown. */
let startMessage = await session.start();

async function route() {
  if (!session.signedIn()) {
    renderLogin(startMessage);
    startMessage = null;
    return;
  }
  try {
    if (!me) me = await getJson('/v1/me');
    renderWho();
    const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    if (me.role === 'client') {
      const [, , from, to] = parts[0] === 'report' ? parts : [];
      await renderReport(me.tenantId, from, to);
    } else if (parts[0] === 'tenants' && parts[1]) await renderTenant(parts[1]);
    else if (parts[0] === 'report' && parts[1]) await renderReport(parts[1], parts[2], parts[3]);
    else await renderTenantList();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      renderLogin(session.mode === 'cognito' ? 'Your session has expired. Sign in again.' : err.message);
    } else showError(err.message);
  }
}

window.addEventListener('hashchange', route);
route();
