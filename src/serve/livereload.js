/* atelier serve: live preview client. Injected only by `atelier serve`, never
 * into `atelier build` output.
 *
 * - One event stream (/__atelier/events) per browser and origin, shared by
 *   every tab: a leader tab (Web Locks, else a localStorage heartbeat) holds
 *   it and rebroadcasts its events on BroadcastChannel('atelier-livereload').
 *   A tab that has seen no `hello` within 2 s opens its own stream.
 * - `reload` reloads the page; `css` swaps same-origin stylesheets in place;
 *   `error` (and a `hello` carrying errors) shows an overlay.
 * - `present` (a presenter's move, see deck.js) is handed to the page as a
 *   window event `atelier:present`; the deck decides whether it follows.
 * - A small toolbar switches to the same page in another version.
 */
(function () {
  'use strict';
  if (window.__atelierLiveReload) return;
  window.__atelierLiveReload = true;

  var EVENTS_URL = '/__atelier/events';
  var VERSIONS_URL = '/__atelier/versions.json';
  var CHANNEL_NAME = 'atelier-livereload';
  var LOCK_NAME = 'atelier-livereload-leader';
  var HEARTBEAT_KEY = 'atelier-livereload-leader';
  var TOOLBAR_KEY = 'atelier-toolbar-dismissed';
  var FALLBACK_MS = 2000;
  var HEARTBEAT_MS = 1000;
  var HEARTBEAT_STALE_MS = 3500;
  var RETRY_MIN_MS = 500;
  var RETRY_MAX_MS = 10000;

  var tabId = Math.random().toString(36).slice(2) + Date.now().toString(36);
  var channel = null;
  try {
    if (typeof BroadcastChannel === 'function') channel = new BroadcastChannel(CHANNEL_NAME);
  } catch (e) {
    channel = null;
  }

  var leader = false;      // this tab's stream is shared with the others
  var wantStream = false;  // this tab should keep a stream open
  var source = null;       // this tab's EventSource
  var retryDelay = RETRY_MIN_MS;
  var retryTimer = null;
  var sawHello = false;
  // The build this page was served from: a `hello` naming another one means
  // an event was missed while the page loaded, so the page is stale.
  var script = document.currentScript;
  var knownBuild = (script && script.getAttribute('data-build')) || null;
  var lastHello = null;    // what a newly opened tab is told ({errors, build})

  function parse(text) {
    try {
      return JSON.parse(text);
    } catch (e) {
      return {};
    }
  }

  function errorsOf(data) {
    return data && Array.isArray(data.errors) ? data.errors : [];
  }

  // ---------------------------------------------------------------- events

  /**
   * Versions are rebuilt one group after the other (the facilitator version
   * last): an event may say which version folder it is about (`only`) or not
   * about (`except`). A page reloads only for its own version, once that
   * version is ready.
   */
  function concernsThisPage(data) {
    var path = location.pathname;
    if (data && typeof data.only === 'string') return path.indexOf('/' + data.only) === 0;
    if (data && typeof data.except === 'string') return path.indexOf('/' + data.except) !== 0;
    return true;
  }

  function handle(type, data) {
    if (type === 'hello') {
      sawHello = true;
      var build = data && data.build;
      if (build && knownBuild && build !== knownBuild) {
        // Reconnected to a different build (or a restarted server).
        location.reload();
        return;
      }
      if (build) knownBuild = build;
      // Connected and current: tools (and tests) can wait for this.
      document.documentElement.setAttribute('data-atelier-live', 'connected');
      var errors = errorsOf(data);
      if (errors.length) showOverlay(errors);
      else hideOverlay();
    } else if (type === 'reload') {
      if (concernsThisPage(data)) location.reload();
    } else if (type === 'css') {
      if (!concernsThisPage(data)) return;
      // Only stylesheets changed: once swapped, the page is that build.
      knownBuild = (data && data.build) || null;
      hideOverlay();
      swapStylesheets();
    } else if (type === 'error') {
      showOverlay(errorsOf(data));
    } else if (type === 'present') {
      try {
        window.dispatchEvent(new CustomEvent('atelier:present', { detail: data }));
      } catch (e) { /* no CustomEvent */ }
    }
  }

  /** Keeps what a tab opened later must know. */
  function remember(type, data) {
    if (type === 'present') return; // not about the build
    if (type === 'hello') {
      lastHello = { errors: errorsOf(data), build: (data && data.build) || null };
    } else if (type === 'error') {
      lastHello = { errors: errorsOf(data), build: lastHello ? lastHello.build : null };
    } else {
      lastHello = { errors: [], build: (data && data.build) || null };
    }
  }

  /** An event from this tab's own stream. */
  function deliver(type, data) {
    if (type === 'hello') retryDelay = RETRY_MIN_MS;
    remember(type, data);
    if (leader && channel) {
      try {
        channel.postMessage({ kind: 'event', type: type, data: data });
      } catch (e) { /* channel closed */ }
    }
    handle(type, data);
  }

  function connect() {
    wantStream = true;
    if (source) return;
    clearTimeout(retryTimer);
    var stream;
    try {
      stream = new EventSource(EVENTS_URL);
    } catch (e) {
      scheduleRetry();
      return;
    }
    source = stream;
    ['hello', 'reload', 'css', 'present'].forEach(function (type) {
      stream.addEventListener(type, function (event) {
        deliver(type, parse(event.data));
      });
    });
    stream.addEventListener('error', function (event) {
      if (typeof event.data === 'string') {
        // `event: error` sent by the server: a failed build.
        deliver('error', parse(event.data));
        return;
      }
      // The connection dropped: reconnect ourselves, with backoff; the next
      // `hello` tells whether the build changed meanwhile.
      stream.close();
      if (source === stream) source = null;
      scheduleRetry();
    });
  }

  function disconnect() {
    wantStream = false;
    clearTimeout(retryTimer);
    if (source) {
      source.close();
      source = null;
    }
  }

  function scheduleRetry() {
    clearTimeout(retryTimer);
    if (!wantStream) return;
    retryTimer = setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  }

  function becomeLeader() {
    leader = true;
    connect();
  }

  // ------------------------------------------------------- leader election

  function electWithHeartbeat() {
    function read() {
      try {
        return JSON.parse(localStorage.getItem(HEARTBEAT_KEY) || 'null');
      } catch (e) {
        return null;
      }
    }
    function tick() {
      var current = read();
      var now = Date.now();
      if (!current || current.id === tabId || !(now - current.t < HEARTBEAT_STALE_MS)) {
        try {
          localStorage.setItem(HEARTBEAT_KEY, JSON.stringify({ id: tabId, t: now }));
        } catch (e) { /* storage full or denied */ }
        if (!leader) becomeLeader();
      } else if (leader) {
        // Another tab took over (two started at once): step down.
        leader = false;
        disconnect();
      }
    }
    tick();
    setInterval(tick, HEARTBEAT_MS);
    window.addEventListener('pagehide', function () {
      var current = read();
      if (current && current.id === tabId) {
        try {
          localStorage.removeItem(HEARTBEAT_KEY);
        } catch (e) { /* ignore */ }
      }
    });
  }

  function storageWorks() {
    try {
      localStorage.setItem(HEARTBEAT_KEY + '-test', '1');
      localStorage.removeItem(HEARTBEAT_KEY + '-test');
      return true;
    } catch (e) {
      return false;
    }
  }

  if (channel) {
    channel.onmessage = function (event) {
      var message = event.data || {};
      if (message.kind === 'ask') {
        if (leader && lastHello) {
          channel.postMessage({ kind: 'event', type: 'hello', data: lastHello });
        }
      } else if (message.kind === 'event' && !leader) {
        handle(message.type, message.data);
      }
    };
    channel.postMessage({ kind: 'ask' });
  }

  if (channel && navigator.locks && typeof navigator.locks.request === 'function') {
    // Held until this tab closes; then the next tab in line takes over.
    navigator.locks
      .request(LOCK_NAME, function () {
        becomeLeader();
        return new Promise(function () {});
      })
      .catch(connect);
  } else if (channel && storageWorks()) {
    electWithHeartbeat();
  } else {
    connect();
  }

  // No hello from a leader in time: this tab gets its own stream.
  setTimeout(function () {
    if (!sawHello) connect();
  }, FALLBACK_MS);

  // Free the connection while the page sits in the back/forward cache.
  window.addEventListener('pagehide', function () {
    if (source) {
      source.close();
      source = null;
    }
  });
  window.addEventListener('pageshow', function (event) {
    if (event.persisted && wantStream) connect();
  });

  // ------------------------------------------------------------ stylesheets

  function swapStylesheets() {
    var stamp = String(Date.now());
    var links = document.querySelectorAll('link[rel][href]');
    Array.prototype.forEach.call(links, function (link) {
      if (link.hasAttribute('data-atelier-stale')) return;
      var rel = (link.getAttribute('rel') || '').toLowerCase().split(/\s+/);
      if (rel.indexOf('stylesheet') < 0) return;
      var url;
      try {
        url = new URL(link.href, location.href);
      } catch (e) {
        return;
      }
      if (url.origin !== location.origin) return;
      url.searchParams.set('v', stamp);
      var fresh = link.cloneNode(false);
      fresh.href = url.href;
      link.setAttribute('data-atelier-stale', '');
      var done = function () {
        if (link.parentNode) link.parentNode.removeChild(link);
      };
      fresh.addEventListener('load', done);
      fresh.addEventListener('error', done);
      link.parentNode.insertBefore(fresh, link.nextSibling);
    });
  }

  // ---------------------------------------------------------------- overlay

  var overlay = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function mount(host) {
    (document.body || document.documentElement).appendChild(host);
  }

  var OVERLAY_CSS =
    ':host{all:initial;position:fixed;inset:0;z-index:2147483647;display:block;' +
    'background:rgba(20,20,24,.72);overflow:auto;font:15px/1.5 system-ui,sans-serif}' +
    '.box{box-sizing:border-box;max-width:54rem;margin:8vh auto;padding:1.25rem 1.5rem;' +
    'background:#fff;color:#1d1d1f;border-top:6px solid #c62828;border-radius:6px;' +
    'box-shadow:0 12px 40px rgba(0,0,0,.35);position:relative}' +
    'h2{margin:0 2.5rem .75rem 0;font-size:1.1rem;color:#b71c1c}' +
    'p.hint{margin:0 0 1rem;color:#555;font-size:.9rem}' +
    'ul{list-style:none;margin:0;padding:0}' +
    'li{margin:0 0 1rem;padding:0 0 1rem;border-bottom:1px solid #eee}' +
    'li:last-child{border:0;margin:0;padding:0}' +
    '.loc{font:600 .9rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:#0d47a1}' +
    '.msg{margin:.25rem 0;white-space:pre-wrap}' +
    '.src{margin:.25rem 0 0;padding:.4rem .6rem;background:#f6f6f6;border-radius:4px;' +
    'font:.85rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-x:auto}' +
    'button{position:absolute;top:.6rem;right:.7rem;border:0;background:none;cursor:pointer;' +
    'font:1.6rem/1 system-ui,sans-serif;color:#555;padding:.2rem .4rem}' +
    'button:hover,button:focus{color:#000}' +
    '@media print{:host{display:none!important}}';

  function showOverlay(errors) {
    hideOverlay();
    if (!errors || !errors.length) return;
    var host = document.createElement('atelier-overlay');
    var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
    root.appendChild(el('style', null, OVERLAY_CSS));
    var box = el('div', 'box');
    box.setAttribute('role', 'alertdialog');
    box.setAttribute('aria-label', 'Erreur de construction');
    var close = el('button', null, '\u00d7');
    close.type = 'button';
    close.title = 'Fermer';
    close.setAttribute('aria-label', 'Fermer');
    close.addEventListener('click', hideOverlay);
    box.appendChild(close);
    box.appendChild(el('h2', null,
      errors.length > 1 ? errors.length + ' erreurs de construction' : 'Erreur de construction'));
    box.appendChild(el('p', 'hint',
      'La derni\u00e8re version correcte reste affich\u00e9e ; corrigez le fichier pour faire dispara\u00eetre ce message.'));
    var list = el('ul');
    errors.forEach(function (error) {
      var item = el('li');
      item.appendChild(el('div', 'loc', String(error.location || '')));
      item.appendChild(el('div', 'msg', String(error.message || '')));
      if (error.source) item.appendChild(el('pre', 'src', String(error.source)));
      list.appendChild(item);
    });
    box.appendChild(list);
    root.appendChild(box);
    overlay = host;
    mount(host);
  }

  function hideOverlay() {
    if (overlay && overlay.parentNode) overlay.parentNode.removeChild(overlay);
    overlay = null;
  }

  // ---------------------------------------------------------------- toolbar

  var TOOLBAR_CSS =
    ':host{all:initial;position:fixed;right:12px;bottom:12px;z-index:2147483646;display:block;' +
    'font:12px/1.4 system-ui,sans-serif;color:#1d1d1f}' +
    '.bar{display:flex;flex-direction:column;align-items:stretch;background:rgba(255,255,255,.94);' +
    'border:1px solid rgba(0,0,0,.15);border-radius:8px;box-shadow:0 4px 16px rgba(0,0,0,.15);overflow:hidden}' +
    '.head{display:flex;align-items:center}' +
    'button{border:0;background:none;cursor:pointer;font:inherit;color:inherit;padding:5px 8px}' +
    'button:hover,button:focus-visible{background:rgba(0,0,0,.06)}' +
    '.toggle{flex:1;text-align:left}' +
    '.close{color:#666;font-size:14px;line-height:1}' +
    'ul{list-style:none;margin:0;padding:2px 0;border-top:1px solid rgba(0,0,0,.1)}' +
    'ul[hidden]{display:none}' +
    'a{display:block;padding:4px 10px;color:#0d47a1;text-decoration:none;white-space:nowrap}' +
    'a:hover,a:focus{background:rgba(13,71,161,.08)}' +
    'a[aria-current]{color:#1d1d1f;font-weight:600}' +
    '.head a.swap{padding:5px 8px;border-left:1px solid rgba(0,0,0,.1);font-weight:600}' +
    '.icon{display:none}' +
    // Phones: a small button in the corner (the version list opens from
    // it, the audience switch is in the list), covering almost no text.
    '@media (max-width:480px){:host{right:6px;bottom:6px;font-size:12px}' +
    '.icon{display:inline}.label,.head a.swap,.close{display:none}button{padding:4px 8px}}' +
    '@media print{:host{display:none!important}}';

  function normalizePrefix(prefix) {
    var p = String(prefix || '').replace(/^\/+/, '');
    if (p && p.charAt(p.length - 1) !== '/') p += '/';
    return p;
  }

  var FACILITATOR = '_facilitator/';

  function isFacilitator(version) {
    return normalizePrefix(version.prefix).indexOf(FACILITATOR) === 0;
  }

  /** The version with the same client for the other audience, or null. */
  function facilitatorCounterpart(versions, current) {
    var prefix = normalizePrefix(current.prefix);
    var wanted = isFacilitator(current) ? prefix.slice(FACILITATOR.length) : FACILITATOR + prefix;
    for (var i = 0; i < versions.length; i++) {
      if (normalizePrefix(versions[i].prefix) === wanted) return versions[i];
    }
    return null;
  }

  function showToolbar(versions) {
    if (!Array.isArray(versions) || versions.length < 2) return;
    var path = location.pathname;
    var current = null;
    versions.forEach(function (version) {
      var base = '/' + normalizePrefix(version.prefix);
      if (path.indexOf(base) === 0 &&
          (!current || base.length > normalizePrefix(current.prefix).length + 1)) {
        current = version;
      }
    });
    var base = '/' + (current ? normalizePrefix(current.prefix) : '');
    var rest = path.indexOf(base) === 0 ? path.slice(base.length) : path.replace(/^\/+/, '');

    var host = document.createElement('atelier-toolbar');
    var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
    root.appendChild(el('style', null, TOOLBAR_CSS));
    var bar = el('nav', 'bar');
    bar.setAttribute('aria-label', 'Aper\u00e7u : versions');
    var list = el('ul');
    list.id = 'versions';
    list.hidden = true;
    versions.forEach(function (version) {
      var item = el('li');
      var link = el('a', null, String(version.label || version.prefix || '/'));
      link.href = '/' + normalizePrefix(version.prefix) + rest + location.search + location.hash;
      if (version === current) link.setAttribute('aria-current', 'page');
      item.appendChild(link);
      list.appendChild(item);
    });
    var head = el('div', 'head');
    var label = current ? String(current.label || '') : '?';
    var toggle = el('button', 'toggle');
    toggle.type = 'button';
    toggle.title = 'Changer de version';
    toggle.setAttribute('aria-expanded', 'false');
    toggle.setAttribute('aria-controls', 'versions');
    toggle.setAttribute('aria-label', 'Aper\u00e7u\u00a0: ' + label + ', changer de version');
    // On phones only the icon and the arrow show (see TOOLBAR_CSS).
    var showLabel = function () {
      toggle.textContent = '';
      toggle.appendChild(el('span', 'icon', '\u21c4\u00a0'));
      toggle.appendChild(el('span', 'label', 'Aper\u00e7u\u00a0: ' + label));
      toggle.appendChild(document.createTextNode(list.hidden ? ' \u25b4' : ' \u25be'));
    };
    showLabel();
    toggle.addEventListener('click', function () {
      list.hidden = !list.hidden;
      toggle.setAttribute('aria-expanded', String(!list.hidden));
      showLabel();
    });
    // The same page in the other audience of the same version: the
    // facilitator's (`_facilitator/` + prefix) or the participants'.
    var counterpart = current ? facilitatorCounterpart(versions, current) : null;
    var swap = null;
    if (counterpart) {
      var toFacilitator = isFacilitator(counterpart);
      swap = el('a', 'swap', toFacilitator ? 'Animateur' : 'Participant');
      swap.href = '/' + normalizePrefix(counterpart.prefix) + rest + location.search + location.hash;
      swap.title = toFacilitator
        ? 'Version animateur de ' + String(current.label || '')
        : 'Version participant de ' + String(counterpart.label || '');
    }
    var close = el('button', 'close', '\u00d7');
    close.type = 'button';
    close.title = 'Masquer pour cette session';
    close.setAttribute('aria-label', 'Masquer la barre d\u2019aper\u00e7u');
    close.addEventListener('click', function () {
      try {
        sessionStorage.setItem(TOOLBAR_KEY, '1');
      } catch (e) { /* ignore */ }
      if (host.parentNode) host.parentNode.removeChild(host);
    });
    head.appendChild(toggle);
    if (swap) head.appendChild(swap);
    head.appendChild(close);
    bar.appendChild(list);
    bar.appendChild(head);
    root.appendChild(bar);
    mount(host);
  }

  function toolbarDismissed() {
    try {
      return sessionStorage.getItem(TOOLBAR_KEY) === '1';
    } catch (e) {
      return false;
    }
  }

  if (!toolbarDismissed() && typeof fetch === 'function') {
    fetch(VERSIONS_URL, { cache: 'no-store' })
      .then(function (response) {
        return response.ok ? response.json() : [];
      })
      .then(showToolbar)
      .catch(function () { /* no toolbar */ });
  }
})();
