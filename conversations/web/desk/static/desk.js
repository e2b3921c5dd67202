// The safety desk page: signs in with Telegram's initData (or a one-time link), then polls the
// server's JSON and draws it. Every text comes from the server's catalogs; everything is put in
// with textContent, never as markup.
'use strict';
(function () {
  const POLL_MS = 5000;
  const HIDDEN_POLL_MS = 60000;  // a page in the background asks rarely (each ask reads a lot)
  const COLOURS = { sos: '#b71c1c', alert: '#e53935', overdue: '#fb8c00', due_soon: '#fdd835',
    ok: '#2e7d32' };
  const $ = (id) => document.getElementById(id);
  let texts = {};
  let shownLanguage = '';
  let csrf = sessionStorage.getItem('desk-csrf') || '';
  let team = '';
  let timer = null;
  let map = null;
  let markers = null;
  let placedKey = '';
  let chartMonth = '';
  let people = {};
  let shown = null;  // the person whose details are open: they follow each refresh
  let signedIn = false;

  function t(key, params) {
    let text = texts[key] || '';
    Object.entries(params || {}).forEach(([name, value]) => {
      text = text.split('{' + name + '}').join(String(value));
    });
    return text;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function status(text, isError) {
    $('status').textContent = text || '';
    $('status').className = isError ? 'error' : '';
  }

  async function loadTexts(language) {
    const lang = language === 'zh' ? 'zh' : 'en';
    shownLanguage = lang;
    const response = await fetch('api/texts/' + lang, { credentials: 'same-origin' });
    texts = await response.json();
    document.documentElement.lang = lang === 'zh' ? 'zh-Hans' : 'en';
    document.title = t('desk.title');
    document.querySelectorAll('[data-t]').forEach((node) => {
      node.textContent = t(node.dataset.t);
    });
  }

  function telegramReady() {
    // What telegram-web-app.js would do: tell the Telegram client the page is ready.
    const ready = JSON.stringify({ eventType: 'web_app_ready', eventData: {} });
    if (window.TelegramWebviewProxy) {
      window.TelegramWebviewProxy.postEvent('web_app_ready', '{}');
    } else if (window.external && window.external.notify) {
      window.external.notify(ready);
    } else if (window.parent !== window) {
      window.parent.postMessage(ready, 'https://web.telegram.org');
    }
  }

  function launchParams() {
    // Telegram puts initData in the fragment (never sent to a server); so does our link.
    const fragment = new URLSearchParams(window.location.hash.slice(1));
    const found = { init_data: fragment.get('tgWebAppData'), link: fragment.get('login') };
    if (window.location.hash) {
      history.replaceState(null, '', window.location.pathname);
    }
    return found;
  }

  async function login() {
    const params = launchParams();
    const body = params.link ? { link: params.link }
      : params.init_data ? { init_data: params.init_data } : null;
    if (body === null) return csrf !== '';  // a reload: the session cookie may still be live
    const response = await fetch('api/login', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) {
      const why = { role: 'desk.err.role', unknown: 'desk.err.unknown',
        expired: 'desk.err.expired', telegram: 'desk.err.telegram' }[data.error];
      status(t(why || 'desk.err.login'), true);
      return null;
    }
    csrf = data.csrf;
    sessionStorage.setItem('desk-csrf', csrf);
    await loadTexts(data.language);
    return true;
  }

  function showDetails(id) {
    const p = people[id];
    if (!p) return;
    shown = id;
    $('details-name').textContent = p.name;
    $('details-state').textContent = p.state_label + (p.placed ? ' · ' + p.placed : '');
    const lines = $('details-lines');
    lines.replaceChildren(...p.details.map((line) => el('li', '', line)));
    $('details').hidden = false;
  }

  function drawMap(data) {
    if (!window.L) return;  // the list works without the map
    if (map === null) {
      map = L.map('map', { attributionControl: Boolean(data.tiles) }).setView([20, 10], 2);
      if (data.tiles) {
        L.tileLayer(data.tiles, { maxZoom: 18, attribution: '© OpenStreetMap' }).addTo(map);
      }
      markers = L.layerGroup().addTo(map);
    }
    markers.clearLayers();
    const placed = data.people.filter((p) => p.lat !== null && p.lon !== null);
    placed.forEach((p) => {
      L.circleMarker([p.lat, p.lon], {
        radius: 9, color: '#263238', weight: 1, fillColor: COLOURS[p.state] || '#607d8b',
        fillOpacity: 0.9, className: 'marker marker-' + p.state,
      }).on('click', () => showDetails(p.id)).addTo(markers);
    });
    const key = placed.map((p) => p.id).join(',');
    if (placed.length && key !== placedKey) {
      map.fitBounds(L.latLngBounds(placed.map((p) => [p.lat, p.lon])).pad(0.3),
        { maxZoom: 8 });
    }
    placedKey = key;
  }

  function drawPeople(data) {
    people = {};
    data.people.forEach((p) => { people[p.id] = p; });
    if (shown !== null && !$('details').hidden) {
      // The panel follows the list: her SOS shows there too; gone from the list (erased, back
      // home), her details go from the screen as well.
      if (people[shown]) showDetails(shown);
      else { $('details').hidden = true; shown = null; }
    }
    const items = data.people.map((p) => {
      const button = el('button', 'person');
      button.type = 'button';
      button.append(el('span', 'dot state-' + p.state), el('span', '', p.state_label + ' · ' +
        p.name), el('span', 'muted', p.team));
      button.addEventListener('click', () => showDetails(p.id));
      const li = el('li', 'person-row');
      li.dataset.state = p.state;
      li.append(button);
      return li;
    });
    if (data.people_more) items.push(el('li', 'muted', t('desk.people.more',
      { count: data.people_more })));
    $('people').replaceChildren(...(items.length ? items
      : [el('li', 'muted', t('desk.people.none'))]));
    drawMap(data);
  }

  function alertItem(a, reasons) {
    const li = el('li', 'alert kind-' + a.kind);
    li.dataset.alert = String(a.id);
    const lines = el('div', 'alert-lines');
    a.lines.forEach((line) => lines.append(el('div', '', line)));
    li.append(lines);
    const actions = el('div', 'actions');
    if (a.own) {
      actions.append(el('span', 'muted', t('desk.alerts.own')));
    } else {
      if (a.state === 'open') {
        const ack = el('button', 'act primary', t('button.ack'));
        ack.type = 'button';
        ack.addEventListener('click', () => act('api/alerts/' + a.id + '/ack', {}));
        actions.append(ack);
      }
      const choice = el('select', 'reason');
      choice.setAttribute('aria-label', t('desk.resolve.choose'));
      choice.append(el('option', '', t('desk.resolve.choose')));
      choice.firstChild.value = '';
      reasons.forEach((r) => {
        const option = el('option', '', r.label);
        option.value = r.key;
        choice.append(option);
      });
      const resolve = el('button', 'act', t('button.resolve'));
      resolve.type = 'button';
      resolve.addEventListener('click', () => {
        if (!choice.value) { status(t('desk.err.reason'), true); return; }
        act('api/alerts/' + a.id + '/resolve', { reason: choice.value });
      });
      actions.append(choice, resolve);
    }
    li.append(actions);
    return li;
  }

  function drawAlerts(data) {
    const items = data.alerts.map((a) => alertItem(a, data.reasons));
    if (data.alerts_more) items.push(el('li', 'muted', t('desk.alerts.more',
      { count: data.alerts_more })));
    $('alerts').replaceChildren(...(items.length ? items
      : [el('li', 'muted', t('desk.alerts.none'))]));
  }

  function drawHazards(data) {
    const items = data.hazards.map((h) => {
      const li = el('li', 'hazard');
      li.append(el('div', '', h.head), el('div', '', h.description), el('div', 'muted', h.by));
      const actions = el('div', 'actions');
      [['verify', 'hazard.button.verify'], ['dismiss', 'hazard.button.dismiss']]
        .forEach(([decision, key]) => {
          const button = el('button', 'act', t(key));
          button.type = 'button';
          button.addEventListener('click', () => act('api/hazards/' + h.id + '/' + decision, {}));
          actions.append(button);
        });
      li.append(actions);
      return li;
    });
    if (data.hazards_more) items.push(el('li', 'muted', t('desk.hazards.more',
      { count: data.hazards_more })));
    $('hazards').replaceChildren(...(items.length ? items
      : [el('li', 'muted', t('desk.hazards.none'))]));
  }

  function drawRollcalls(data) {
    const items = data.rollcalls.map((r) => {
      const li = el('li', 'tally');
      li.dataset.rollcall = String(r.id);
      ['asked', 'safe', 'need_help', 'no_answer'].forEach((key) => {
        li.dataset[key.replace('_', '')] = String(r[key]);
      });
      r.lines.forEach((line) => li.append(el('div', '', line)));
      return li;
    });
    $('rollcall').replaceChildren(...(items.length ? items
      : [el('li', 'muted', t('desk.rollcall.none'))]));
  }

  function drawTeams(data) {
    $('team-filter').hidden = !data.teams.length;  // a manager now: her own team only
    if (!data.teams.length) return;
    const select = $('team');
    const options = [['', t('desk.team.all')]].concat(data.teams.map((x) => [x.key, x.name]));
    select.replaceChildren(...options.map(([value, label]) => {
      const option = el('option', '', label);
      option.value = value;
      option.selected = value === (data.team || '');
      return option;
    }));
  }

  function draw(data) {
    $('desk').hidden = false;
    $('updated').textContent = t('desk.updated', { at: data.updated });
    drawTeams(data);
    drawAlerts(data);
    drawPeople(data);
    drawHazards(data);
    drawRollcalls(data);
    if (data.month !== chartMonth) {
      chartMonth = data.month;
      $('chart').alt = t('desk.charts.alt');
      $('chart').src = 'api/report.png?month=' + encodeURIComponent(data.month);
    }
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const query = team ? '?team=' + encodeURIComponent(team) : '';
      const response = await fetch('api/state' + query, { credentials: 'same-origin' });
      if (response.status === 401 || response.status === 403) {
        const data = await response.json();
        $('desk').hidden = true;
        status(t(data.error === 'role' ? 'desk.err.role' : 'desk.err.expired'), true);
        return;
      }
      const data = await response.json();
      if (data.me.language !== shownLanguage) await loadTexts(data.me.language);
      draw(data);
      if ($('status').className === 'error' && !$('status').dataset.keep) status('');
    } catch (error) {
      status(t('desk.err.network'), true);
    }
    timer = setTimeout(refresh, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
  }

  async function act(url, body) {
    status('');
    try {
      const response = await fetch(url, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-Desk-Csrf': csrf },
        body: JSON.stringify(body),
      });
      const data = await response.json();
      if (response.status === 403 && data.error === 'csrf') {
        status(t('desk.err.csrf'), true);
      } else {
        status(data.message || '', !response.ok);
        $('status').dataset.keep = '1';
      }
    } catch (error) {
      status(t('desk.err.network'), true);
    }
    await refresh();
    delete $('status').dataset.keep;
  }

  async function start() {
    telegramReady();
    const preferred = (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
    await loadTexts(preferred);
    status(t('desk.loading'));
    $('team').addEventListener('change', (event) => { team = event.target.value; refresh(); });
    $('details-close').addEventListener('click', () => { $('details').hidden = true; shown = null; });
    document.addEventListener('visibilitychange', () => {
      if (signedIn && !document.hidden) refresh();
    });
    const outcome = await login();
    if (outcome === null) return;
    if (!outcome) { status(t('desk.err.login'), true); return; }
    signedIn = true;
    status('');
    await refresh();
  }

  document.addEventListener('DOMContentLoaded', start);
}());
