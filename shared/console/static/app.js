// Tilgang console: plain JavaScript, no build step, no framework, nothing from another host.
// It calls only the public /v1 API with the signed-in user's bearer token (and, on the local dev
// server, POST /dev/token to sign in). Every string it shows comes from strings.js.
'use strict';

(function () {
  const CONFIG = Object.assign({ apiBase: '', signIn: 'dev' }, window.TILGANG_CONSOLE || {});
  const TOKEN_KEY = 'tilgang.console.token';
  const LANG = 'en';

  // ------------------------------------------------------------------ strings

  function lookup(obj, key) {
    return key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
  }
  function t(key, vars) {
    let s = lookup(window.STRINGS[LANG], key);
    if (s === undefined) s = lookup(window.STRINGS.en, key);
    if (s === undefined) return key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
    return s;
  }
  // tv labels an API value (a status, an area) through the strings, keeping unknown values as
  // they are: the API may add values the console does not know yet.
  function tv(group, value) {
    const s = lookup(window.STRINGS[LANG], group + '.' + value);
    return s === undefined ? String(value) : s;
  }

  // ------------------------------------------------------------------ DOM

  let uidCounter = 0;
  let renderToken = 0; // counts page renders; a render that is no longer current stops
  function uid(prefix) { uidCounter += 1; return (prefix || 'id') + '-' + uidCounter; }

  // h builds an element; text children become text nodes, so API data is never parsed as HTML.
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'value' || k === 'checked') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    append(el, kids);
    return el;
  }
  function append(el, kids) {
    for (const kid of kids.flat(Infinity)) {
      if (kid === undefined || kid === null || kid === false) continue;
      el.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  function field(label, input, hint) {
    if (!input.id) input.id = uid('f');
    const hintEl = hint ? h('span', { class: 'hint', id: input.id + '-hint' }, hint) : null;
    if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
    return h('div', { class: 'field' }, h('label', { for: input.id }, label), hintEl, input);
  }
  function choice(type, name, value, label, checked, extra) {
    const input = h('input', { type, name, value, checked: !!checked, id: uid(name) });
    return h('label', { class: 'choice', for: input.id }, input, h('span', {}, label, extra ? h('small', {}, extra) : null));
  }
  function select(name, options, value, props) {
    return h('select', Object.assign({ name, id: uid(name) }, props || {}),
      options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
  }
  function table(caption, headers, rows, props) {
    return h('div', { class: 'table-wrap' }, h('table', props || {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length }, t('app.nothing'))))));
  }
  function badge(group, value) { return h('span', { class: 'badge ' + value }, tv(group, value)); }
  function fmtTime(s) {
    if (!s) return t('app.none');
    const d = new Date(s);
    return isNaN(d) ? s : d.toLocaleString();
  }
  function button(label, onclick, cls, props) {
    return h('button', Object.assign({ type: 'button', class: cls || '', onclick }, props || {}), label);
  }

  // ------------------------------------------------------------------ messages

  // toast shows a message above the page, in the flow (it never covers a control), until it is
  // closed or the page after the next one is shown.
  function toast(content) {
    const el = h('div', { class: 'toast', 'data-render': renderToken }, h('span', {}, content), button(t('app.close'), () => el.remove()));
    $('#toasts').appendChild(el);
    return el;
  }
  function expireToasts() {
    $$('#toasts .toast').forEach((el) => { if (Number(el.dataset.render) < renderToken - 1) el.remove(); });
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || t('app.error'));
      this.status = status;
      this.problem = problem || {};
    }
  }

  // problemBox shows a problem document: its title, its detail and the fields at fault, and
  // marks those fields invalid in form.
  function problemBox(err, form) {
    if (form) $$('[aria-invalid]', form).forEach((el) => el.removeAttribute('aria-invalid'));
    const p = err instanceof ApiError ? err.problem : {};
    const title = p.title || t('app.error');
    const detail = err instanceof ApiError ? (p.detail || err.message) : (err && err.message) || String(err);
    const fields = Array.isArray(p.errors) ? p.errors : [];
    if (form) {
      for (const f of fields) {
        const el = form.querySelector(`[name="${CSS.escape(f.field)}"]`);
        if (el) el.setAttribute('aria-invalid', 'true');
      }
    }
    return h('div', { class: 'problem', role: 'alert' },
      h('strong', {}, title + (p.status ? ` (${p.status})` : '')),
      h('p', {}, detail),
      fields.length ? h('ul', {}, fields.map((f) => h('li', {}, `${f.field}: ${f.message}`))) : null);
  }
  function showProblem(slot, err, form) {
    clear(slot).appendChild(problemBox(err, form));
    slot.scrollIntoView({ block: 'nearest' });
  }

  // ------------------------------------------------------------------ API

  const session = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    me: null,
    set(token) { this.token = token; sessionStorage.setItem(TOKEN_KEY, token); },
    clear() { this.token = ''; this.me = null; sessionStorage.removeItem(TOKEN_KEY); },
  };

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  const etag = (version) => `"${version}"`;

  async function request(method, path, opts) {
    opts = opts || {};
    let url = CONFIG.apiBase + path;
    if (opts.query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
      const s = q.toString();
      if (s) url += (url.includes('?') ? '&' : '?') + s;
    }
    const headers = { Accept: 'application/json, application/problem+json' };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.auth !== false && session.token) headers.Authorization = 'Bearer ' + session.token;
    if (opts.ifMatch !== undefined) headers['If-Match'] = etag(opts.ifMatch);
    if (opts.idempotent) headers['Idempotency-Key'] = newKey();
    let resp;
    try {
      resp = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    } catch (e) {
      throw new ApiError(0, { title: t('app.error'), detail: t('app.networkError') });
    }
    if (resp.status === 204) return null;
    const type = resp.headers.get('Content-Type') || '';
    let data = null;
    if (type.includes('json')) {
      try { data = await resp.json(); } catch (e) { data = null; }
    }
    if (!resp.ok) {
      const err = new ApiError(resp.status, data && typeof data === 'object' ? data : { title: resp.statusText, status: resp.status, detail: '' });
      if (resp.status === 401 && opts.auth !== false && session.token) {
        session.clear();
        renderSignIn(t('app.sessionEnded'));
      }
      throw err;
    }
    return data;
  }
  const api = {
    get: (path, query) => request('GET', path, { query }),
    post: (path, body, opts) => request('POST', path, Object.assign({ body }, opts || {})),
    patch: (path, body, version) => request('PATCH', path, { body, ifMatch: version }),
    put: (path, body, version) => request('PUT', path, { body, ifMatch: version }),
    del: (path, version) => request('DELETE', path, { ifMatch: version }),
  };
  // all reads every page of a list (up to max pages).
  async function all(path, query, max) {
    const items = [];
    let cursor;
    for (let i = 0; i < (max || 20); i++) {
      const page = await api.get(path, Object.assign({}, query || {}, { limit: 100, cursor }));
      items.push(...page.items);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    return items;
  }
  const enc = encodeURIComponent;

  // Cached reads that rarely change within a session.
  const cache = {};
  async function catalogue() { return cache.catalogue || (cache.catalogue = await api.get('/v1/permission-catalogue')); }
  async function programs() { return cache.programs || (cache.programs = (await api.get('/v1/programs')).items); }
  async function usersById() {
    const users = await all('/v1/users');
    return { list: users, byId: Object.fromEntries(users.map((u) => [u.id, u])) };
  }
  async function groupsById() {
    const groups = await all('/v1/groups');
    return { list: groups, byId: Object.fromEntries(groups.map((g) => [g.id, g])) };
  }
  const nameOf = (byId, id) => (byId[id] ? byId[id].name : id);

  // ------------------------------------------------------------------ shell

  const views = [];
  function route(pattern, nav, render) { views.push({ pattern, nav, render }); }

  function navItems() {
    const me = session.me;
    const items = [['users', '#/users'], ['groups', '#/groups'], ['access', '#/access'], ['clients', '#/clients'], ['bank', '#/bank']];
    if (me && me.isOwner) items.push(['audit', '#/audit']);
    items.push(['settings', '#/settings']);
    return items;
  }

  function renderShell(current) {
    const nav = $('#nav');
    nav.hidden = false;
    nav.setAttribute('aria-label', t('nav.label'));
    clear(nav).appendChild(h('ul', {}, navItems().map(([key, href]) =>
      h('li', {}, h('a', { href, 'aria-current': key === current ? 'page' : null }, t('nav.' + key))))));
    const me = session.me;
    const account = clear($('#account'));
    account.appendChild(h('a', { href: '#/notifications', id: 'notifications-link' }, t('app.notifications')));
    account.appendChild(h('span', {}, t('app.signedInAs', { name: me.name || me.userId }) + (me.isOwner ? ` (${t('app.owner')})` : '')));
    account.appendChild(button(t('app.signOut'), () => {
      session.clear();
      // The hosted UI keeps its own session: end it too, or the next sign-in would skip the password.
      if (CONFIG.signIn === 'cognito') { cognito.signOut(); return; }
      location.hash = '#/';
      renderSignIn();
    }, '', { id: 'sign-out' }));
    refreshUnread();
  }

  async function refreshUnread() {
    try {
      const page = await api.get('/v1/notifications', { limit: 50 });
      const n = page.items.filter((x) => !x.read).length;
      const link = $('#notifications-link');
      if (link) link.textContent = n ? t('app.notificationsUnread', { n }) : t('app.notifications');
    } catch (e) { /* the count is a convenience */ }
  }

  // page clears main, puts a heading first and moves focus to it so screen readers announce
  // the new page.
  function page(title, ...kids) {
    const main = clear($('#main'));
    const h1 = h('h1', { tabindex: '-1' }, title);
    append(main, [h1, ...kids]);
    document.title = title + ' – ' + t('app.title');
    h1.focus();
    return main;
  }

  async function router() {
    if (!session.token) { renderSignIn(); return; }
    const hash = location.hash.replace(/^#/, '') || '/users';
    const [path, queryString] = hash.split('?');
    const query = Object.fromEntries(new URLSearchParams(queryString || ''));
    for (const v of views) {
      const m = path.match(v.pattern);
      if (!m) continue;
      const mine = ++renderToken;
      expireToasts();
      renderShell(v.nav);
      try {
        await v.render(m.slice(1).map(decodeURIComponent), query, () => mine === renderToken);
      } catch (e) {
        if (mine === renderToken && session.token) page(t('app.error'), problemBox(e));
      }
      return;
    }
    renderShell('');
    page(t('app.notFound'));
  }

  // ------------------------------------------------------------------ sign-in

  // Sign-in 'cognito': the Cognito hosted UI with the authorization code flow and PKCE (RFC 7636),
  // by hand with fetch and Web Crypto. The verifier and state wait in sessionStorage while the
  // browser is at the hosted UI; the code comes back to this page and is exchanged at the
  // domain's /oauth2/token. The ID token is the bearer token: it carries custom:tenant_id and
  // its audience is the app client the API's JWT authorizer accepts.
  const PKCE_KEY = 'tilgang.console.pkce';
  const cognito = {
    // redirectUri is this page without query or fragment: the callback and logout URL the stack
    // registers on the app client (the API's URL + /console/).
    redirectUri: () => new URL('./', location.href).href,
    b64url: (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
    random: () => cognito.b64url(crypto.getRandomValues(new Uint8Array(32))),
    async start() {
      const verifier = cognito.random();
      const state = cognito.random();
      sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
      const challenge = cognito.b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
      const q = new URLSearchParams({
        response_type: 'code', client_id: CONFIG.clientId, redirect_uri: cognito.redirectUri(),
        scope: 'openid email profile', state, code_challenge: challenge, code_challenge_method: 'S256',
      });
      location.assign(CONFIG.cognitoDomain + '/oauth2/authorize?' + q);
    },
    // finish exchanges the code the hosted UI sent back for tokens and returns the ID token; ''
    // when this page was not opened by the hosted UI. It throws with the reason sign-in failed.
    async finish() {
      const params = new URLSearchParams(location.search);
      if (!params.has('code') && !params.has('error')) return '';
      const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || 'null');
      sessionStorage.removeItem(PKCE_KEY);
      // The code is single-use: take it out of the address bar and the history.
      history.replaceState(null, '', cognito.redirectUri());
      if (params.has('error')) throw new Error(params.get('error_description') || params.get('error'));
      if (!saved || saved.state !== params.get('state')) throw new Error('the answer does not belong to this sign-in');
      const body = new URLSearchParams({
        grant_type: 'authorization_code', client_id: CONFIG.clientId, code: params.get('code'),
        redirect_uri: cognito.redirectUri(), code_verifier: saved.verifier,
      });
      const resp = await fetch(CONFIG.cognitoDomain + '/oauth2/token', {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body,
      });
      const data = await resp.json().catch(() => ({}));
      if (!resp.ok || !data.id_token) throw new Error(data.error || resp.statusText || 'no ID token');
      return data.id_token;
    },
    signOut() {
      const q = new URLSearchParams({ client_id: CONFIG.clientId, logout_uri: cognito.redirectUri() });
      location.assign(CONFIG.cognitoDomain + '/logout?' + q);
    },
  };


  function renderSignIn(message) {
    $('#nav').hidden = true;
    clear($('#account'));
    const slot = h('div');
    if (message) slot.appendChild(h('div', { class: 'notice', role: 'alert' }, message));
    const finish = async (token) => {
      session.set(token);
      session.me = await api.get('/v1/me');
      if (!location.hash || location.hash === '#/') location.hash = '#/users';
      else router();
    };
    let form;
    if (CONFIG.signIn === 'cognito') {
      form = h('form', { class: 'panel', id: 'signin-form' }, h('p', {}, t('signin.cognitoIntro')),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'signin-cognito' }, t('signin.cognito'))));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        try { await cognito.start(); } catch (e) { showProblem(slot, e, form); }
      });
    } else if (CONFIG.signIn === 'token') {
      const token = h('textarea', { name: 'token', id: 'signin-token', required: true, autocomplete: 'off' });
      form = h('form', { class: 'panel', id: 'signin-form' }, h('p', {}, t('signin.tokenIntro')), field(t('signin.token'), token),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('signin.submit'))));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        try { await finish(token.value.trim()); } catch (e) { session.clear(); showProblem(slot, e, form); }
      });
    } else {
      const email = h('input', { type: 'email', name: 'email', id: 'signin-email', required: true, autocomplete: 'username' });
      form = h('form', { class: 'panel', id: 'signin-form' }, h('p', {}, t('signin.intro')), field(t('signin.email'), email),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'signin-submit' }, t('signin.submit'))));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        try {
          const res = await request('POST', '/dev/token', { body: { email: email.value.trim() }, auth: false });
          await finish(res.token);
        } catch (e) { session.clear(); showProblem(slot, e, form); }
      });
    }
    const kids = [slot, form];
    if (CONFIG.signIn === 'dev') {
      const org = h('input', { name: 'name', required: true });
      const owner = h('input', { name: 'owner.name', required: true, autocomplete: 'name' });
      const ownerEmail = h('input', { type: 'email', name: 'owner.email', required: true });
      const orgSlot = h('div');
      const orgForm = h('form', {}, orgSlot, field(t('signin.orgName'), org), field(t('signin.ownerName'), owner), field(t('signin.ownerEmail'), ownerEmail),
        h('div', { class: 'actions' }, h('button', { type: 'submit' }, t('signin.createOrg'))));
      orgForm.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        try {
          const res = await request('POST', '/dev/tenants', { body: { name: org.value.trim(), owner: { name: owner.value.trim(), email: ownerEmail.value.trim() } }, auth: false });
          await finish(res.token);
        } catch (e) { session.clear(); showProblem(orgSlot, e, orgForm); }
      });
      kids.push(h('details', { class: 'panel' }, h('summary', {}, t('signin.newOrg')), orgForm));
    }
    page(t('signin.title'), ...kids);
    const first = $('#signin-email') || $('#signin-token') || $('#signin-cognito');
    if (first) first.focus();
  }

  // ------------------------------------------------------------------ Employees app activation

  async function activationPanel(onDone) {
    const settings = await api.get('/v1/settings');
    if ((settings.activeApps || []).includes('employees')) return null;
    const cat = await catalogue();
    const slot = h('div');
    const form = h('form', { class: 'panel', id: 'activate-form' },
      h('h2', {}, t('activate.title')), h('p', {}, t('activate.intro')), slot,
      h('fieldset', {}, h('legend', {}, t('activate.templates')),
        h('div', { class: 'choices' }, cat.templates.filter((tp) => tp.id !== 'hirer').map((tp) => choice('checkbox', 'templates', tp.id, tp.name, true, tp.description)))),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'activate-submit' }, t('activate.submit'))));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const templates = $$('input[name=templates]:checked', form).map((x) => x.value);
        const res = await api.post('/v1/apps/employees/activate', { templates });
        toast(t('activate.done', { n: res.groups.length }));
        onDone();
      } catch (e) { showProblem(slot, e, form); }
    });
    return form;
  }

  // ------------------------------------------------------------------ users

  route(/^\/users$/, 'users', async (params, query, current) => {
    const [activation, { byId: groupById }] = await Promise.all([activationPanel(router), groupsById()]);
    if (!current()) return;
    const status = h('select', { name: 'status', id: 'users-status' },
      h('option', { value: '' }, t('app.all')),
      ['active', 'deactivated', 'removed', 'anonymised'].map((s) => h('option', { value: s, selected: query.status === s }, tv('status', s))));
    const q = h('input', { type: 'search', name: 'q', value: query.q || '' });
    const filters = h('form', { class: 'toolbar', role: 'search' },
      field(t('users.filterStatus'), status), field(t('users.search'), q),
      h('button', { type: 'submit' }, t('users.searchButton')),
      h('a', { class: 'button primary', href: '#/users/new', id: 'create-user' }, t('users.create')));
    filters.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const p = new URLSearchParams();
      if (status.value) p.set('status', status.value);
      if (q.value.trim()) p.set('q', q.value.trim());
      location.hash = '#/users' + (p.toString() ? '?' + p : '');
    });
    status.addEventListener('change', () => filters.requestSubmit());
    const users = await all('/v1/users', { status: query.status, q: query.q });
    if (!current()) return;
    const rows = users.map((u) => h('tr', { 'data-user': u.id },
      h('th', { scope: 'row' }, h('a', { href: '#/users/' + enc(u.id) }, u.name), h('div', { class: 'small' }, u.email)),
      h('td', {}, badge('status', u.status)),
      h('td', {}, u.groupIds.map((id) => nameOf(groupById, id)).join(', ') || t('app.none')),
      h('td', {}, (u.isOwner ? [t('app.owner')] : []).concat(u.roles.map((r) => tv('role', r))).join(', ') || t('app.none')),
      h('td', {}, (u.professions && u.professions.length ? u.professions : [u.profession]).map((p) => tv('profession', p)).join(', '))));
    page(t('users.title'), activation, filters,
      table(null, [t('users.name'), t('users.status'), t('users.groups'), t('users.roles'), t('users.profession')], rows, { id: 'users-table' }));
  });

  route(/^\/users\/new$/, 'users', async () => userForm(null));
  route(/^\/users\/([^/]+)$/, 'users', async ([id]) => userForm(id));

  async function userForm(id) {
    const [{ list: groups }, { list: users }, user, clients, calendarList] = await Promise.all([
      groupsById(), usersById(), id ? api.get('/v1/users/' + enc(id)) : null,
      all('/v1/clients', {}, 5).catch(() => []),
      all('/v1/calendars', {}, 5).catch(() => null),
    ]);
    const me = session.me;
    const slot = h('div');
    const v = (k, def) => (user && user[k] !== undefined ? user[k] : def);
    const name = h('input', { name: 'name', id: 'user-name', required: true, value: v('name', ''), autocomplete: 'off' });
    const email = h('input', { type: 'email', name: 'email', id: 'user-email', required: true, value: v('email', ''), autocomplete: 'off' });
    const phone = h('input', { type: 'tel', name: 'phone', id: 'user-phone', value: v('phone', '') });
    const profession = select('profession', ['practitioner', 'receptionist', 'bookkeeper', 'assistant', 'consultant', 'other'].map((p) => [p, tv('profession', p)]), v('profession', 'practitioner'));
    profession.id = 'user-profession';
    const groupSet = new Set(v('groupIds', []));
    const roleSet = new Set(v('roles', []));

    const groupsBox = h('fieldset', { id: 'user-groups' }, h('legend', {}, t('users.groupsLegend')), h('p', { class: 'hint' }, t('users.groupsHint')),
      groups.length ? h('div', { class: 'choices' }, groups.map((g) => choice('checkbox', 'groupIds', g.id, g.name, groupSet.has(g.id), g.description)))
        : h('p', {}, t('users.noGroups'), ' ', h('a', { href: '#/groups/new' }, t('groups.create'))));
    const rolesBox = h('fieldset', { id: 'user-roles' }, h('legend', {}, t('users.rolesLegend')),
      h('div', { class: 'choices' }, ['main_admin', 'admin', 'team_lead', 'assistant', 'consultant'].map((r) => choice('checkbox', 'roles', r, tv('role', r), roleSet.has(r)))));

    // Every calendar but the user's own, with a level: named from GET /v1/calendars, or, where
    // the caller may not list calendars, from the users' own calendars.
    const access = v('calendarAccess', {}) || {};
    const userName = (uid2) => (uid2 && users.find((u) => u.id === uid2) || {}).name;
    let calendars = calendarList
      ? calendarList.filter((c) => !(user && user.calendarIds.includes(c.id))).map((c) => ({ id: c.id, label: c.name || t('users.calendarOf', { name: userName(c.ownerId) || t('app.none') }), owner: userName(c.ownerId) }))
      : users.filter((u) => u.id !== id && u.status !== 'anonymised').flatMap((u) => u.calendarIds.map((c) => ({ id: c, label: t('users.calendarOf', { name: u.name }) })));
    const calRows = calendars.map((c) => {
      const label = c.owner && c.label !== t('users.calendarOf', { name: c.owner }) ? `${c.label} (${c.owner})` : c.label;
      const sel = select('cal:' + c.id, ['none', 'view', 'edit'].map((l) => [l, tv('level', l)]), access[c.id] || 'none',
        { 'aria-label': label, 'data-calendar': c.id });
      return h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, sel));
    });
    const calBox = h('fieldset', { id: 'user-calendars' }, h('legend', {}, t('users.calendarLegend')), h('p', { class: 'hint' }, t('users.calendarHint')),
      calRows.length ? table(null, [t('users.calendarLegend'), t('access.level')], calRows) : h('p', {}, t('users.noCalendars')));

    // An assistant is created with their first link.
    let linkBox = null;
    if (!user) {
      linkBox = h('fieldset', { id: 'user-link', hidden: !roleSet.has('assistant') }, h('legend', {}, t('users.linkLegend')),
        field(t('users.linkClient'), select('link.clientId', clients.map((c) => [c.id, c.name]), '')),
        field(t('users.linkRate'), h('input', { type: 'number', name: 'link.employmentRate', min: 1, max: 100, value: '100' })),
        field(t('users.linkNumber'), h('input', { name: 'link.employmentNumber' })),
        field(t('users.linkColor'), h('input', { type: 'color', name: 'link.color', value: '#3366ff' })));
      rolesBox.addEventListener('change', () => { linkBox.hidden = !$('input[name=roles][value=assistant]', rolesBox).checked; });
    }

    const form = h('form', { id: 'user-form', novalidate: false }, slot,
      h('fieldset', {}, h('legend', {}, t('users.profile')),
        field(t('users.name'), name), field(t('users.email'), email), field(t('users.phone'), phone), field(t('users.profession'), profession)),
      groupsBox, rolesBox, linkBox, calBox,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'primary', id: 'user-save' }, t('app.save')),
        h('a', { class: 'button', href: '#/users' }, t('app.back'))));

    const checked = (n) => $$(`input[name="${n}"]:checked`, form).map((x) => x.value);
    const calendarAccess = () => Object.fromEntries($$('select[data-calendar]', form).filter((s) => s.value !== 'none').map((s) => [s.dataset.calendar, s.value]));
    const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const saveBtn = $('#user-save', form);
      saveBtn.disabled = true;
      try {
        const cal = calendarAccess();
        let u;
        if (!user) {
          const body = { name: name.value.trim(), email: email.value.trim(), profession: profession.value, groupIds: checked('groupIds'), roles: checked('roles') };
          if (phone.value.trim()) body.phone = phone.value.trim();
          if (body.roles.includes('assistant')) {
            body.link = {
              clientId: form.elements['link.clientId'].value,
              employmentRate: Number(form.elements['link.employmentRate'].value),
              employmentNumber: form.elements['link.employmentNumber'].value.trim(),
              color: form.elements['link.color'].value,
            };
          }
          if (Object.keys(cal).length) body.calendarAccess = cal;
          u = await api.post('/v1/users', body, { idempotent: true });
          toast(t('users.created', { name: u.name }));
        } else {
          u = user;
          const patch = {};
          if (name.value.trim() !== user.name) patch.name = name.value.trim();
          if (email.value.trim() !== user.email) patch.email = email.value.trim();
          if (phone.value.trim() !== (user.phone || '')) patch.phone = phone.value.trim();
          if (profession.value !== user.profession) patch.profession = profession.value;
          if (Object.keys(patch).length) u = await api.patch('/v1/users/' + enc(id), patch, u.version);
          const g = checked('groupIds');
          if (!sameSet(g, user.groupIds)) u = await api.put('/v1/users/' + enc(id) + '/groups', { groupIds: g }, u.version);
          const r = checked('roles');
          if (!sameSet(r, user.roles)) u = await api.put('/v1/users/' + enc(id) + '/roles', { roles: r }, u.version);
          const before = Object.fromEntries(Object.entries(user.calendarAccess || {}).filter(([, l]) => l !== 'none'));
          if (JSON.stringify(Object.entries(cal).sort()) !== JSON.stringify(Object.entries(before).sort())) {
            u = await api.put('/v1/users/' + enc(id) + '/calendar-access', cal, u.version);
          }
          toast(t('users.saved', { name: u.name }));
        }
        if (user) router(); else location.hash = '#/users/' + enc(u.id);
      } catch (e) {
        showProblem(slot, e, form);
      } finally {
        saveBtn.disabled = false;
      }
    });

    const kids = [];
    if (user) kids.push(lifecycle(user, me));
    kids.push(form);
    page(user ? t('users.editTitle', { name: user.name }) : t('users.newTitle'), ...kids);
  }

  // lifecycle shows the user's status and the actions its status allows.
  function lifecycle(user, me) {
    const slot = h('div');
    const box = h('section', { class: 'panel', id: 'lifecycle', 'aria-labelledby': 'lifecycle-title' },
      h('h2', { id: 'lifecycle-title' }, t('users.lifecycle')),
      h('p', {}, t('users.status'), ': ', h('span', { id: 'user-status' }, badge('status', user.status)),
        user.id === me.userId ? ' ' + t('users.you') : ''),
      slot);
    const act = (verb, confirmText) => async () => {
      if (confirmText && !(await confirmDialog(confirmText))) return;
      try {
        const u = await api.post('/v1/users/' + enc(user.id) + '/' + verb, undefined, { ifMatch: user.version });
        toast(t('users.done', { name: u.name, status: tv('status', u.status).toLowerCase() }));
        router();
      } catch (e) { showProblem(slot, e); }
    };
    const actions = h('div', { class: 'actions' });
    if (user.isOwner) {
      box.appendChild(h('p', {}, t('users.ownerNote')));
    } else if (user.status === 'anonymised') {
      box.appendChild(h('p', {}, t('users.anonymisedNote')));
    } else {
      if (user.status === 'active') {
        actions.appendChild(button(t('users.deactivate'), act('deactivate'), '', { id: 'user-deactivate', 'aria-describedby': 'deactivate-hint' }));
      }
      if (user.status === 'deactivated') actions.appendChild(button(t('users.activate'), act('activate'), 'primary', { id: 'user-activate' }));
      if (user.status === 'active' || user.status === 'deactivated') {
        actions.appendChild(button(t('users.remove'), act('remove', t('users.removeConfirm', { name: user.name })), 'danger', { id: 'user-remove' }));
        actions.appendChild(button(t('users.delete'), async () => {
          if (!(await confirmDialog(t('users.deleteConfirm', { name: user.name })))) return;
          try {
            await api.del('/v1/users/' + enc(user.id), user.version);
            toast(t('users.deleted', { name: user.name }));
            location.hash = '#/users';
          } catch (e) { showProblem(slot, e); }
        }, 'danger', { id: 'user-delete' }));
      }
      if (user.status === 'removed') {
        actions.appendChild(button(t('users.restore'), act('restore'), 'primary', { id: 'user-restore' }));
        actions.appendChild(button(t('users.anonymise'), () => anonymise(user, slot), 'danger', { id: 'user-anonymise' }));
      }
      box.appendChild(actions);
      if (user.status === 'active') box.appendChild(h('p', { class: 'hint', id: 'deactivate-hint' }, t('users.deactivateHint')));
    }
    box.appendChild(h('p', {}, h('a', { href: '#/access?user=' + enc(user.id) }, t('users.explain'))));
    return box;
  }

  // dialog opens a modal dialog; it resolves with the value of the button that closed it.
  function dialog(title, body, confirmLabel, danger, canConfirm) {
    return new Promise((resolve) => {
      const titleId = uid('dlg');
      const ok = h('button', { type: 'submit', value: 'ok', class: 'primary' + (danger ? ' danger' : ''), id: 'dialog-confirm' }, confirmLabel);
      const dlg = h('dialog', { 'aria-labelledby': titleId },
        h('form', { method: 'dialog' }, h('h2', { id: titleId }, title), body,
          h('div', { class: 'actions' }, ok, h('button', { type: 'submit', value: 'cancel', id: 'dialog-cancel' }, t('app.cancel')))));
      if (canConfirm) {
        const update = () => { ok.disabled = !canConfirm(dlg); };
        dlg.addEventListener('change', update);
        update();
      }
      dlg.addEventListener('close', () => { resolve(dlg.returnValue === 'ok'); dlg.remove(); });
      document.body.appendChild(dlg);
      dlg.showModal();
    });
  }
  function confirmDialog(text) { return dialog(text, null, t('app.yes'), true); }

  async function anonymise(user, slot) {
    const check = choice('checkbox', 'irreversible', 'yes', t('users.anonymiseCheck'), false);
    const ok = await dialog(t('users.anonymiseTitle', { name: user.name }),
      [h('p', { class: 'warning' }, t('users.anonymiseWarning')), check],
      t('users.anonymiseSubmit'), true, (dlg) => $('input[name=irreversible]', dlg).checked);
    if (!ok) return;
    try {
      const u = await api.post('/v1/users/' + enc(user.id) + '/anonymise', undefined, { ifMatch: user.version });
      toast(t('users.done', { name: u.name, status: tv('status', u.status).toLowerCase() }));
      router();
    } catch (e) { showProblem(slot, e); }
  }

  // ------------------------------------------------------------------ groups

  route(/^\/groups$/, 'groups', async (params, query, current) => {
    const [activation, { list: groups }, { list: users }, cat] = await Promise.all([activationPanel(router), groupsById(), usersById(), catalogue()]);
    if (!current()) return;
    const members = (g) => users.filter((u) => u.status !== 'anonymised' && u.groupIds.includes(g.id)).length;
    const summary = (g) => cat.areas.filter((a) => g.permissions[a.id] && g.permissions[a.id].level !== 'none')
      .map((a) => `${tv('area', a.id)}: ${tv('level', g.permissions[a.id].level)}${g.permissions[a.id].scope ? ' (' + tv('scope', g.permissions[a.id].scope) + ')' : ''}`).join('; ');
    const rows = groups.map((g) => h('tr', { 'data-group': g.id },
      h('th', { scope: 'row' }, h('a', { href: '#/groups/' + enc(g.id) }, g.name), g.disabled ? [' ', h('span', { class: 'badge deactivated' }, t('groups.disabledBadge'))] : null,
        g.description ? h('div', { class: 'small' }, g.description) : null),
      h('td', { class: 'center', 'data-members': members(g) }, String(members(g))),
      h('td', { class: 'small' }, summary(g) || t('level.none'))));
    page(t('groups.title'), activation,
      h('div', { class: 'actions' }, h('a', { class: 'button primary', href: '#/groups/new', id: 'create-group' }, t('groups.create'))),
      table(null, [t('groups.name'), t('groups.members'), t('groups.rights')], rows, { id: 'groups-table' }));
  });

  route(/^\/groups\/new$/, 'groups', async () => groupForm(null));
  route(/^\/groups\/([^/]+)$/, 'groups', async ([id]) => groupForm(id));

  async function groupForm(id) {
    const [cat, group, { list: users }] = await Promise.all([catalogue(), id ? api.get('/v1/groups/' + enc(id)) : null, usersById()]);
    const slot = h('div');
    const name = h('input', { name: 'name', id: 'group-name', required: true, maxlength: 100, value: group ? group.name : '' });
    const description = h('input', { name: 'description', id: 'group-description', maxlength: 500, value: group ? group.description : '' });
    const perms = (group && group.permissions) || {};
    const levels = cat.levels;
    const rows = cat.areas.map((a) => {
      const p = perms[a.id] || { level: 'none' };
      const scope = a.scoped
        ? select('scope-' + a.id, cat.scopes.map((s) => [s, tv('scope', s)]), p.scope || 'own', { 'aria-label': t('groups.scopeOf', { area: tv('area', a.id) }), disabled: p.level === 'none' })
        : h('span', { 'aria-hidden': 'true' }, t('app.none'));
      // The radios of a row share a name, so they are one group to the keyboard (arrow keys)
      // and to screen readers; each says its area and level.
      const tr = h('tr', { 'data-area': a.id },
        h('th', { scope: 'row' }, tv('area', a.id), h('small', {}, a.description)),
        levels.map((l) => {
          const input = h('input', { type: 'radio', name: 'level-' + a.id, value: l, checked: p.level === l, id: uid('lv'), 'aria-label': t('groups.levelOf', { area: tv('area', a.id), level: tv('level', l) }) });
          return h('td', { class: 'center' }, h('label', { for: input.id }, input));
        }),
        h('td', {}, scope));
      tr.addEventListener('change', () => {
        const lv = $(`input[name="level-${a.id}"]:checked`, tr);
        if (a.scoped) $('select', tr).disabled = !lv || lv.value === 'none';
      });
      return tr;
    });
    const matrix = h('div', { class: 'table-wrap' }, h('table', { class: 'matrix', id: 'group-matrix' },
      h('caption', {}, t('groups.matrix')),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('groups.area')), levels.map((l) => h('th', { scope: 'col', class: 'center' }, tv('level', l))), h('th', { scope: 'col' }, t('groups.scope')))),
      h('tbody', {}, rows)));
    const memberCount = group ? users.filter((u) => u.status !== 'anonymised' && u.groupIds.includes(group.id)).length : 0;
    const disabled = group ? choice('checkbox', 'disabled', 'yes', t('groups.disabled'), !!group.disabled, t('groups.disabledHint')) : null;
    const form = h('form', { id: 'group-form' }, slot,
      field(t('groups.name'), name), field(t('groups.description'), description), disabled,
      h('p', { class: 'hint' }, t('groups.matrixHint')), matrix,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'group-save' }, t('app.save')),
        h('a', { class: 'button', href: '#/groups' }, t('app.back')),
        group ? button(t('groups.delete'), async () => {
          if (!(await confirmDialog(t('groups.deleteConfirm', { name: group.name })))) return;
          try {
            await api.del('/v1/groups/' + enc(group.id), group.version);
            toast(t('groups.deleted', { name: group.name }));
            location.hash = '#/groups';
          } catch (e) { showProblem(slot, e, form); }
        }, 'danger', { id: 'group-delete' }) : null));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const permissions = {};
      for (const a of cat.areas) {
        const lv = $(`input[name="level-${a.id}"]:checked`, form);
        const level = lv ? lv.value : 'none';
        permissions[a.id] = { level };
        if (a.scoped && level !== 'none') permissions[a.id].scope = form.elements['scope-' + a.id].value;
      }
      const body = { name: name.value.trim(), description: description.value.trim(), permissions };
      if (group) {
        const off = $('input[name=disabled]', form).checked;
        if (off !== !!group.disabled) body.disabled = off;
      }
      try {
        const g = group ? await api.patch('/v1/groups/' + enc(group.id), body, group.version) : await api.post('/v1/groups', body, { idempotent: true });
        toast(t(group ? 'groups.saved' : 'groups.created', { name: g.name }));
        location.hash = '#/groups';
      } catch (e) { showProblem(slot, e, form); }
    });
    page(group ? t('groups.editTitle', { name: group.name }) : t('groups.newTitle'),
      group ? h('p', {}, t('groups.membersOf', { n: memberCount })) : null, form);
  }

  // ------------------------------------------------------------------ access explained

  route(/^\/access$/, 'access', async (params, query, current) => {
    const [{ list: users, byId: userById }, clients, { byId: groupById }] = await Promise.all([usersById(), all('/v1/clients', {}, 5).catch(() => []), groupsById()]);
    if (!current()) return;
    const userOptions = [['', t('access.choose')]].concat(users.filter((u) => u.status !== 'anonymised').map((u) => [u.id, `${u.name} <${u.email}>`]));
    const clientOptions = [['', t('access.choose')]].concat(clients.map((c) => [c.id, c.name]));

    // A user's rights with their sources.
    const userSel = select('user', userOptions, query.user || '', { id: 'access-user' });
    const userOut = h('div', { 'aria-live': 'polite' });
    const sourceText = (s) => {
      let label = tv('source', s.type);
      if (s.name) label += ' ' + s.name;
      else if (s.type === 'group' && s.id) label += ' ' + nameOf(groupById, s.id);
      else if (s.type === 'role' && s.id) label += ' ' + tv('role', s.id);
      if (s.level) label += ': ' + tv('level', s.level) + (s.scope ? ` (${tv('scope', s.scope)})` : '');
      return label;
    };
    const showUser = async () => {
      clear(userOut);
      if (!userSel.value) return;
      try {
        const p = await api.get('/v1/users/' + enc(userSel.value) + '/permissions');
        const cat = await catalogue();
        const rows = cat.areas.map((a) => {
          const e = p.permissions[a.id] || { level: 'none', sources: [] };
          return h('tr', {}, h('th', { scope: 'row' }, tv('area', a.id)), h('td', {}, tv('level', e.level)),
            h('td', {}, e.scope && e.level !== 'none' ? tv('scope', e.scope) + (e.allLevel ? ` (${tv('scope', 'all')}: ${tv('level', e.allLevel)})` : '') : t('app.none')),
            h('td', {}, e.sources.length ? h('ul', { class: 'plain' }, e.sources.map((s) => h('li', {}, sourceText(s)))) : t('app.none')));
        });
        const privs = Object.entries(p.privileges || {});
        append(userOut, [
          table(null, [t('access.area'), t('access.level'), t('access.scope'), t('access.sources')], rows, { id: 'access-user-table' }),
          h('h3', {}, t('access.privileges')),
          privs.length ? h('ul', {}, privs.map(([k, srcs]) => h('li', {}, tv('privilege', k), ' — ', srcs.map(sourceText).join(', ')))) : h('p', {}, t('access.noPrivileges')),
        ]);
      } catch (e) { userOut.appendChild(problemBox(e)); }
    };
    userSel.addEventListener('change', showUser);

    // Who can access a client and why.
    const clientSel = select('client', clientOptions, query.client || '', { id: 'access-client' });
    const clientOut = h('div', { 'aria-live': 'polite' });
    const showClient = async () => {
      clear(clientOut);
      if (!clientSel.value) return;
      try {
        const [entries, progs] = await Promise.all([all('/v1/clients/' + enc(clientSel.value) + '/access'), programs().catch(() => [])]);
        const programById = Object.fromEntries(progs.map((p) => [p.id, p]));
        const rows = entries.map((e) => h('tr', {},
          h('th', { scope: 'row' }, nameOf(userById, e.userId)), h('td', {}, badge('status', e.status)), h('td', {}, tv('level', e.level)),
          h('td', {}, h('ul', { class: 'plain' }, e.reasons.map((r) => h('li', {}, r.detail)))),
          h('td', {}, e.grant ? `${tv('level', e.grant.level)}; ${t('access.programs', { list: e.grant.programs.map((id) => nameOf(programById, id)).join(', ') || t('app.none') })}` : t('app.none'))));
        clientOut.appendChild(table(null, [t('access.user'), t('users.status'), t('access.level'), t('access.sources'), t('access.grant')], rows, { id: 'access-client-table' }));
      } catch (e) { clientOut.appendChild(problemBox(e)); }
    };
    clientSel.addEventListener('change', showClient);

    // The seed 003 status table for an assistant and a care recipient.
    const capUser = select('capUser', userOptions, query.user || '', { id: 'cap-user' });
    const capClient = select('capClient', clientOptions, query.client || '', { id: 'cap-client' });
    const capOut = h('div', { 'aria-live': 'polite' });
    const capForm = h('form', { class: 'toolbar' }, field(t('access.user'), capUser), field(t('access.client'), capClient),
      h('button', { type: 'submit', id: 'cap-show' }, t('access.show')));
    capForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clear(capOut);
      if (!capUser.value || !capClient.value) return;
      try {
        const c = await api.get('/v1/users/' + enc(capUser.value) + '/capabilities', { clientId: capClient.value });
        // In the order of the seed's table; a capability the console does not know comes last.
        const order = Object.keys(window.STRINGS.en.capability);
        const keys = Object.keys(c.capabilities).sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
        const rows = keys.map((k) => [k, c.capabilities[k]]).map(([k, val]) => h('tr', {},
          h('th', { scope: 'row' }, tv('capability', k)), h('td', {}, badge('capValue', val)),
          h('td', {}, (c.conditions && c.conditions[k]) || (c.notes && c.notes[k]) || '')));
        append(capOut, [h('p', {}, t('access.state'), ': ', h('strong', {}, tv('capState', c.state))),
          table(null, [t('access.capability'), t('access.value'), t('access.condition')], rows, { id: 'cap-table' })]);
      } catch (e) { capOut.appendChild(problemBox(e)); }
    });

    page(t('access.title'),
      h('section', { class: 'panel' }, h('h2', {}, t('access.userTitle')), field(t('access.user'), userSel), userOut),
      h('section', { class: 'panel' }, h('h2', {}, t('access.clientTitle')), field(t('access.client'), clientSel), clientOut),
      h('section', { class: 'panel' }, h('h2', {}, t('access.capTitle')), h('p', { class: 'hint' }, t('access.capIntro')), capForm, capOut));
    if (userSel.value) showUser();
    if (clientSel.value) showClient();
  });

  // ------------------------------------------------------------------ clients and bureau jobs

  route(/^\/clients$/, 'clients', async (params, query, current) => {
    const clients = await all('/v1/clients');
    if (!current()) return;
    const slot = h('div');
    const addName = h('input', { name: 'name', id: 'client-name', required: true, maxlength: 200 });
    const addForm = h('form', { class: 'toolbar', id: 'client-add' }, field(t('clients.addName'), addName), h('button', { type: 'submit' }, t('clients.add')));
    addForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const c = await api.post('/v1/clients', { name: addName.value.trim() }, { idempotent: true });
        toast(t('clients.added', { name: c.name }));
        router();
      } catch (e) { showProblem(slot, e, addForm); }
    });

    const count = h('span', { id: 'selected-count', 'aria-live': 'polite' }, t('clients.selected', { n: 0 }));
    const manageBtn = button(t('clients.manage'), () => manage(), 'primary', { id: 'manage-access', disabled: true });
    const selectAll = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': t('clients.selectAll') });
    const selected = () => $$('input[name=clientIds]:checked').map((x) => x.value);
    const update = () => {
      const n = selected().length;
      count.textContent = t('clients.selected', { n });
      manageBtn.disabled = n === 0;
      selectAll.checked = n > 0 && n === clients.length;
      selectAll.indeterminate = n > 0 && n < clients.length;
    };
    selectAll.addEventListener('change', () => { $$('input[name=clientIds]').forEach((x) => { x.checked = selectAll.checked; }); update(); });
    const rows = clients.map((c) => h('tr', { 'data-client': c.id },
      h('td', { class: 'center' }, h('input', { type: 'checkbox', name: 'clientIds', value: c.id, 'aria-label': t('clients.select', { name: c.name }), onchange: update })),
      h('th', { scope: 'row' }, c.name), h('td', {}, badge('status', c.status)), h('td', {}, tv('source', c.source)),
      h('td', {}, tv('level', c.policyLevel)), h('td', {}, h('a', { href: '#/access?client=' + enc(c.id) }, t('clients.who')))));
    const manageOut = h('div', { id: 'manage-panel' });

    async function manage() {
      const clientIds = selected();
      clear(manageOut);
      const [{ list: users }, progs] = await Promise.all([usersById(), programs()]);
      const consultants = users.filter((u) => u.status === 'active' && u.roles.includes('consultant'));
      const pslot = h('div');
      const panel = h('section', { class: 'panel', 'aria-labelledby': 'manage-title' },
        h('h2', { id: 'manage-title', tabindex: '-1' }, t('clients.manageTitle', { n: clientIds.length })), pslot);
      manageOut.appendChild(panel);

      // Step 1: which of the three operations.
      const opBox = h('fieldset', { id: 'job-action' }, h('legend', {}, t('clients.operation')),
        ['grant', 'revoke', 'remove_programs'].map((a, i) => h('div', {}, choice('radio', 'action', a, tv('jobAction', a), i === 0))));
      const next = button(t('app.next'), () => step2($('input[name=action]:checked', opBox).value), 'primary', { id: 'job-next' });
      append(panel, [opBox, h('div', { class: 'actions' }, next)]);
      $('#manage-title').focus();

      function step2(action) {
        opBox.disabled = true;
        next.remove();
        const consBox = h('fieldset', { id: 'job-consultants' }, h('legend', {}, t('clients.consultants')),
          consultants.length ? h('div', { class: 'choices' }, consultants.map((u) => choice('checkbox', 'consultantIds', u.id, u.name, false, u.email)))
            : h('p', {}, t('clients.noConsultants')));
        const progBox = action === 'revoke' ? null : h('fieldset', { id: 'job-programs' }, h('legend', {}, t('clients.programs')),
          h('div', { class: 'choices' }, progs.map((p) => choice('checkbox', 'programs', p.id, p.name, action === 'grant'))));
        const previewOut = h('div', { id: 'job-preview', 'aria-live': 'polite' });
        const saveBtn = button(t('clients.start'), () => start(), 'primary', { id: 'job-save', disabled: true });
        const body = () => {
          const b = { action, clientIds, consultantIds: $$('input[name=consultantIds]:checked', panel).map((x) => x.value) };
          if (progBox) b.programs = $$('input[name=programs]:checked', panel).map((x) => x.value);
          return b;
        };
        const check = (b) => {
          if (!b.consultantIds.length) return t('clients.chooseConsultant');
          if (b.programs && !b.programs.length) return t('clients.chooseProgram');
          return '';
        };
        let previewed = '';
        const invalidate = () => {
          if (previewed) { saveBtn.disabled = true; previewed = ''; clear(previewOut).appendChild(h('p', { class: 'hint' }, t('clients.previewStale'))); }
        };
        append(panel, [consBox, progBox]);
        panel.addEventListener('change', (ev) => { if (ev.target.name === 'consultantIds' || ev.target.name === 'programs') invalidate(); });
        const preview = async () => {
          clear(pslot);
          const b = body();
          const problem = check(b);
          if (problem) { pslot.appendChild(h('div', { class: 'problem', role: 'alert' }, problem)); return; }
          try {
            const res = await api.post('/v1/access-jobs', Object.assign({}, b, { dryRun: true }));
            previewed = JSON.stringify(b);
            saveBtn.disabled = false;
            clear(previewOut).appendChild(h('div', { class: 'notice' }, h('h3', {}, t('clients.previewTitle')),
              h('p', {}, t('clients.total', { n: res.total }), ' — ', countsText(res.counts)),
              resultsTable(res.results, users, clients, progs)));
          } catch (e) { showProblem(pslot, e); }
        };
        async function start() {
          clear(pslot);
          const b = body();
          if (JSON.stringify(b) !== previewed) { pslot.appendChild(h('div', { class: 'problem', role: 'alert' }, t('clients.previewNeeded'))); return; }
          saveBtn.disabled = true;
          try {
            const job = await api.post('/v1/access-jobs', b, { idempotent: true });
            location.hash = '#/jobs/' + enc(job.id);
          } catch (e) { saveBtn.disabled = false; showProblem(pslot, e); }
        }
        append(panel, [h('div', { class: 'actions' }, button(t('clients.preview'), preview, '', { id: 'job-preview-button' }), saveBtn), previewOut]);
      }
    }

    page(t('clients.title'), slot, addForm,
      h('div', { class: 'toolbar' }, count, manageBtn),
      h('div', { class: 'table-wrap' }, h('table', { id: 'clients-table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'center' }, selectAll),
          [t('clients.name'), t('clients.status'), t('clients.source'), t('clients.policy'), t('clients.who')].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 6 }, t('app.nothing')))))),
      manageOut);
  });

  // countsText lists the outcomes that happened, with their numbers.
  function countsText(counts) {
    return Object.entries(counts || {}).filter(([, n]) => n > 0).map(([o, n]) => `${tv('outcome', o)}: ${n}`).join(', ');
  }

  function resultsTable(results, users, clients, progs) {
    const userById = Object.fromEntries(users.map((u) => [u.id, u]));
    const clientById = Object.fromEntries(clients.map((c) => [c.id, c]));
    const programById = Object.fromEntries((progs || []).map((p) => [p.id, p]));
    return table(null, [t('jobs.consultant'), t('jobs.client'), t('jobs.program'), t('jobs.outcome'), t('jobs.reason')],
      results.map((r) => h('tr', { 'data-outcome': r.outcome },
        h('td', {}, nameOf(userById, r.consultantId)), h('td', {}, nameOf(clientById, r.clientId)), h('td', {}, r.program ? nameOf(programById, r.program) : t('app.none')),
        h('td', {}, badge('outcome', r.outcome)), h('td', {}, r.reason))), { class: 'results' });
  }

  // The job page: a progress bar while the job runs, then its notification and its results,
  // filterable by outcome.
  route(/^\/jobs\/([^/]+)$/, 'clients', async ([id], query, current) => {
    const [{ list: users }, clients, progs] = await Promise.all([usersById(), all('/v1/clients', {}, 5).catch(() => []), programs().catch(() => [])]);
    let job = await api.get('/v1/access-jobs/' + enc(id));
    if (!current()) return;
    const bar = h('progress', { id: 'job-progress', max: 100, value: job.progress || 0, 'aria-labelledby': 'job-progress-label' });
    const label = h('span', { id: 'job-progress-label' }, t('jobs.progress'));
    const text = h('p', { id: 'job-progress-text' });
    const status = h('span', { id: 'job-status' });
    const done = h('div', { id: 'job-done' });
    const paint = () => {
      bar.value = job.progress || 0;
      text.textContent = t('jobs.progressText', { done: job.done, total: job.total });
      clear(status).appendChild(badge('jobStatus', job.status));
    };
    paint();
    page(t('jobs.title') + ': ' + tv('jobAction', job.action),
      h('section', { class: 'panel', 'aria-labelledby': 'job-progress-label' },
        h('p', {}, t('jobs.status'), ': ', status), h('div', { class: 'field' }, label, bar), text), done);
    while (job.status === 'queued' || job.status === 'running') {
      await new Promise((r) => setTimeout(r, 600));
      if (!current()) return;
      job = await api.get('/v1/access-jobs/' + enc(id));
      paint();
    }
    // The notification the worker posted when the job ended (it may trail the job by a moment).
    let note = null;
    for (let i = 0; i < 10 && !note; i++) {
      const recent = await api.get('/v1/notifications', { limit: 50 });
      note = recent.items.find((n) => n.jobId === id || n.id === job.notificationId) || null;
      if (!note) await new Promise((r) => setTimeout(r, 500));
    }
    if (!current()) return;
    if (note) {
      done.appendChild(h('div', { class: 'notice ' + (job.status === 'completed' ? 'done' : 'errors'), id: 'job-notification', role: 'status' },
        h('h2', {}, note.title), note.summary ? h('p', {}, note.summary) : null,
        h('p', {}, countsText(job.counts))));
      toast(h('span', {}, t('jobs.done'), ': ', note.title));
      if (!note.read) api.post('/v1/notifications/' + enc(note.id) + '/read').then(refreshUnread, () => {});
    }
    const outcomes = Object.keys(job.counts || {}).filter((o) => job.counts[o] > 0);
    const filter = select('outcome', [['', t('app.all')]].concat(outcomes.map((o) => [o, `${tv('outcome', o)} (${job.counts[o]})`])), query.outcome || '', { id: 'job-outcome' });
    const out = h('div', { id: 'job-results' });
    const load = async () => {
      clear(out);
      try {
        const results = await all('/v1/access-jobs/' + enc(id) + '/results', { outcome: filter.value });
        out.appendChild(results.length ? resultsTable(results, users, clients, progs) : h('p', {}, t('jobs.noResults')));
      } catch (e) { out.appendChild(problemBox(e)); }
    };
    filter.addEventListener('change', load);
    append(done, [h('h2', {}, t('jobs.results')), field(t('jobs.filter'), filter), out]);
    await load();
  });

  // ------------------------------------------------------------------ notifications

  route(/^\/notifications$/, '', async (params, query, current) => {
    const items = await all('/v1/notifications', {}, 3);
    if (!current()) return;
    const rows = items.map((n) => h('tr', {},
      h('th', { scope: 'row' }, n.title, n.summary ? h('div', { class: 'small' }, n.summary) : null),
      h('td', {}, fmtTime(n.createdAt)),
      h('td', {}, n.read ? t('notifications.read') : h('strong', {}, t('notifications.unread'))),
      h('td', {}, h('div', { class: 'actions' },
        n.jobId ? h('a', { href: '#/jobs/' + enc(n.jobId) }, t('jobs.open')) : null,
        n.read ? null : button(t('notifications.markRead'), async () => { await api.post('/v1/notifications/' + enc(n.id) + '/read'); router(); })))));
    page(t('notifications.title'), items.length ? table(null, [t('notifications.title'), t('audit.time'), t('users.status'), ''], rows) : h('p', {}, t('notifications.none')));
  });

  // ------------------------------------------------------------------ user bank

  route(/^\/bank$/, 'bank', async (params, query, current) => {
    const [users, settings] = await Promise.all([all('/v1/user-bank'), api.get('/v1/settings')]);
    if (!current()) return;
    const slot = h('div');
    const days = settings.anonymiseAfterDays;
    const auto = (u) => {
      if (!days || !u.removedAt) return t('bank.never');
      return fmtTime(new Date(new Date(u.removedAt).getTime() + days * 86400000).toISOString());
    };
    const rows = users.map((u) => h('tr', { 'data-user': u.id },
      h('th', { scope: 'row' }, h('a', { href: '#/users/' + enc(u.id) }, u.name), h('div', { class: 'small' }, u.email)),
      h('td', {}, fmtTime(u.removedAt)), h('td', {}, auto(u)),
      h('td', {}, h('div', { class: 'actions' },
        button(t('users.restore'), async () => {
          try { await api.post('/v1/users/' + enc(u.id) + '/restore', undefined, { ifMatch: u.version }); toast(t('users.done', { name: u.name, status: tv('status', 'active').toLowerCase() })); router(); } catch (e) { showProblem(slot, e); }
        }, 'primary'),
        button(t('users.anonymise'), () => anonymise(u, slot), 'danger')))));
    page(t('bank.title'), h('p', {}, t('bank.intro')), slot,
      table(null, [t('users.name'), t('bank.removedAt'), t('bank.autoAnonymise'), ''], rows, { id: 'bank-table' }));
  });

  // ------------------------------------------------------------------ audit log

  route(/^\/audit$/, 'audit', async (params, query, current) => {
    if (!session.me.isOwner) { page(t('audit.title'), h('p', {}, t('audit.ownerOnly'))); return; }
    const [{ byId: userById }, { byId: groupById }] = await Promise.all([usersById(), groupsById()]);
    if (!current()) return;
    const tbody = h('tbody');
    const more = button(t('app.loadMore'), () => load(), '', { id: 'audit-more' });
    let cursor;
    const target = (e) => {
      const names = e.targetType === 'user' ? userById : e.targetType === 'group' ? groupById : {};
      return `${e.targetType} ${nameOf(names, e.targetId)}`;
    };
    const changed = (e) => {
      const keys = new Set([...Object.keys(e.before || {}), ...Object.keys(e.after || {})]);
      return [...keys].filter((k) => JSON.stringify((e.before || {})[k]) !== JSON.stringify((e.after || {})[k])).join(', ');
    };
    async function load() {
      const p = await api.get('/v1/audit', { limit: 50, cursor });
      append(tbody, p.items.map((e) => h('tr', {},
        h('td', {}, fmtTime(e.time)), h('td', {}, nameOf(userById, e.actorId)), h('th', { scope: 'row' }, e.action),
        h('td', {}, target(e)), h('td', { class: 'small' }, changed(e)))));
      cursor = p.nextCursor;
      more.hidden = !cursor;
    }
    page(t('audit.title'), h('div', { class: 'table-wrap' }, h('table', { id: 'audit-table' },
      h('thead', {}, h('tr', {}, [t('audit.time'), t('audit.actor'), t('audit.action'), t('audit.target'), t('audit.changed')].map((x) => h('th', { scope: 'col' }, x)))),
      tbody)), more);
    await load();
  });

  // ------------------------------------------------------------------ settings

  route(/^\/settings$/, 'settings', async (params, query, current) => {
    const [settings, activation, seats] = await Promise.all([api.get('/v1/settings'), activationPanel(router), api.get('/v1/billing/seats').catch(() => null)]);
    if (!current()) return;
    const slot = h('div');
    const days = h('input', { type: 'number', name: 'anonymiseAfterDays', id: 'settings-days', min: 0, max: 3650, value: String(settings.anonymiseAfterDays) });
    const form = h('form', { id: 'settings-form' }, slot,
      h('fieldset', {}, h('legend', {}, t('settings.newClient')), h('p', { class: 'hint' }, t('settings.newClientHint')),
        ['none', 'view', 'edit'].map((v) => h('div', {}, choice('radio', 'newClientAccess', v, tv('newClient', v), settings.newClientAccess === v)))),
      field(t('settings.anonymiseAfter'), days, t('settings.anonymiseAfterHint')),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'settings-save' }, t('app.save'))));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api.patch('/v1/settings', {
          newClientAccess: $('input[name=newClientAccess]:checked', form).value,
          anonymiseAfterDays: Number(days.value),
        }, settings.version);
        toast(t('settings.saved'));
        router();
      } catch (e) { showProblem(slot, e, form); }
    });
    page(t('settings.title'), form,
      h('h2', {}, t('settings.apps')), activation || h('p', {}, t('settings.appActive')),
      seats ? [h('h2', {}, t('settings.seats')), h('p', {}, t('settings.billable', { n: seats.billableSeats })), h('p', {}, t('settings.free', { n: seats.freeSeats }))] : null);
  });

  // ------------------------------------------------------------------ start

  async function startApp() {
    document.title = t('app.title');
    $('#skip').textContent = t('app.skip');
    $('#brand').textContent = t('app.brand');
    if (CONFIG.signIn === 'cognito') {
      try {
        const token = await cognito.finish();
        if (token) session.set(token);
      } catch (e) {
        renderSignIn(t('signin.cognitoFailed', { reason: e.message }));
        return;
      }
    }
    if (!session.token) { renderSignIn(); return; }
    try {
      session.me = await api.get('/v1/me');
    } catch (e) {
      if (session.token) { session.clear(); renderSignIn(); }
      return;
    }
    router();
  }
  window.addEventListener('hashchange', () => { if (session.me) router(); });
  startApp();
})();
