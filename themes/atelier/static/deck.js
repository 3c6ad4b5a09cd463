/* atelier present mode: the deck engine and the presenter console.
 *
 * One function moves the deck, goTo(n): keys, clicks, touch, the console and
 * other tabs of the same deck all go through it (window.atelierDeck.goTo, for
 * any other source such as a live-follow event stream).
 *
 * Tabs of the same version's deck follow each other without any server:
 * BroadcastChannel where available, and localStorage `storage` events, which
 * also work between file:// pages; the console also posts to the projector
 * window it opened. Messages are keyed by version (data-deck-key), so two
 * clients' decks never drive each other.
 *
 * Under `atelier serve` (its live script is on the page) the deck also
 * follows the presenter across devices: a facilitator deck or console, which
 * the server gives the run's key (data-present-key), posts every move to
 * /__atelier/present and follows the others' moves; a participant deck
 * follows them when asked (the follow button, or ?follow in the address).
 * Moves arrive from the event stream as `atelier:present` window events.
 */
(function () {
  "use strict";
  var body = document.body;
  var role = body.getAttribute("data-deck-role");
  var key = body.getAttribute("data-deck-key") || "atelier-deck";
  var isConsole = role === "console";
  var root = isConsole ? document.querySelector(".console-deck") : document.querySelector(".deck-stage");
  if (!root) return;
  document.documentElement.classList.remove("no-js");
  var slides = Array.prototype.slice.call(root.querySelectorAll("[data-slide]"));
  var count = slides.length;
  var current = -1;
  var black = false;
  var tab = Math.random().toString(36).slice(2);
  var projector = null;

  /* ---- messages between tabs ---- */
  var channel = null;
  try { channel = new BroadcastChannel(key); } catch (e) { channel = null; }
  var lastSeen = 0;
  function send(message) {
    message.key = key;
    message.from = tab;
    message.at = Date.now() + Math.random();
    if (channel) { try { channel.postMessage(message); } catch (e) { /* closed */ } }
    try { localStorage.setItem(key, JSON.stringify(message)); } catch (e) { /* no storage */ }
    if (projector && !projector.closed) { try { projector.postMessage(message, "*"); } catch (e) { /* gone */ } }
    if (message.type === "goto") post(message.slide, message.black);
  }
  // Tabs of this browser heard from here: their moves also come back from
  // the server, later, and are skipped there (see followMove).
  var nearTabs = {};
  function receive(message) {
    if (!message || message.key !== key || message.from === tab || message.at === lastSeen) return;
    lastSeen = message.at;
    if (typeof message.from === "string") nearTabs[message.from] = true;
    if (message.type === "goto") {
      goTo(message.slide, true);
      setBlack(!!message.black, true);
    } else if (message.type === "countdown") {
      var slide = slides[message.slide];
      var timer = slide && slide.querySelector(".deck-countdown");
      if (timer) countdown(timer, message.action, true);
    }
  }
  if (channel) channel.onmessage = function (event) { receive(event.data); };
  window.addEventListener("storage", function (event) {
    if (event.key !== key || !event.newValue) return;
    try { receive(JSON.parse(event.newValue)); } catch (e) { /* not ours */ }
  });
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (data && typeof data === "object") receive(data);
  });

  /* ---- position ---- */
  function fromHash() {
    var match = /^#slide-(\d+)$/.exec(location.hash);
    return match ? parseInt(match[1], 10) - 1 : 0;
  }
  function clamp(n) { return Math.max(0, Math.min(count - 1, n)); }

  /** Shows slide n (0-based). `remote`: the move came from elsewhere, do not echo it. */
  function goTo(n, remote) {
    if (!count) return;
    n = clamp(typeof n === "number" && !isNaN(n) ? n : 0);
    var changed = n !== current;
    current = n;
    if (isConsole) {
      showConsole();
    } else {
      slides.forEach(function (s, i) {
        var on = i === n;
        s.classList.toggle("is-current", on);
        s.setAttribute("aria-hidden", on ? "false" : "true");
        if (on) s.removeAttribute("inert"); else s.setAttribute("inert", "");
      });
      fit(slides[n]);
    }
    var hash = "#slide-" + (n + 1);
    if (location.hash !== hash) {
      try { history.replaceState(null, "", hash); } catch (e) { location.hash = hash; }
    }
    var positions = document.querySelectorAll(".deck-position");
    for (var i = 0; i < positions.length; i++) positions[i].textContent = (n + 1) + " / " + count;
    if (!remote && changed) send({ type: "goto", slide: n, black: black });
  }
  function setBlack(on, remote) {
    if (on === black) return;
    black = on;
    var cover = document.querySelector(".deck-black");
    if (cover) cover.hidden = !on;
    body.classList.toggle("is-black", on);
    if (!remote) send({ type: "goto", slide: current, black: black });
  }

  /* ---- fitting: a slide never overflows, it shrinks ---- */
  function fit(slide) {
    var inner = slide && slide.querySelector(".slide-inner");
    if (!inner) return;
    inner.style.transform = "";
    inner.style.width = "";
    inner.style.height = "";
    var scale = 1;
    for (var k = 0; k < 8; k++) {
      var over = Math.max(inner.scrollHeight / inner.clientHeight, inner.scrollWidth / inner.clientWidth);
      if (!(over > 1.01)) break;
      scale = scale / Math.min(over, 2) * 0.98;
      inner.style.width = (100 / scale) + "%";
      inner.style.height = (100 / scale) + "%";
      inner.style.transform = "scale(" + scale + ")";
    }
  }
  function fitAll() { slides.forEach(fit); }

  /* The stage: a 1280×720 (16:9) or 1024×768 (4:3) canvas, whichever fits the window best, scaled to it. */
  function layout() {
    if (isConsole) return;
    var w = window.innerWidth, h = window.innerHeight;
    var wide = w / h >= (16 / 9 + 4 / 3) / 2;
    var cw = wide ? 1280 : 1024, ch = wide ? 720 : 768;
    var scale = Math.min(w / cw, h / ch);
    root.style.width = cw + "px";
    root.style.height = ch + "px";
    root.style.transform = "translate(-50%, -50%) scale(" + scale + ")";
    body.classList.toggle("is-4-3", !wide);
    if (current >= 0) fit(slides[current]);
  }

  /* ---- countdowns (exercise slides) ---- */
  function show(timer) {
    var left = Math.max(0, Math.ceil(timer._left));
    var out = timer.querySelector(".deck-countdown-time");
    if (out) out.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
    timer.classList.toggle("is-done", left === 0);
    timer.classList.toggle("is-running", !!timer._tick);
  }
  function countdown(timer, action, remote) {
    if (timer._left === undefined) timer._left = parseInt(timer.getAttribute("data-seconds"), 10) || 0;
    if (action === "start" && !timer._tick) {
      var last = Date.now();
      timer._tick = setInterval(function () {
        var now = Date.now();
        timer._left -= (now - last) / 1000;
        last = now;
        if (timer._left <= 0) { timer._left = 0; clearInterval(timer._tick); timer._tick = null; }
        show(timer);
      }, 250);
    } else if (action === "pause" && timer._tick) {
      clearInterval(timer._tick);
      timer._tick = null;
    } else if (action === "reset") {
      if (timer._tick) clearInterval(timer._tick);
      timer._tick = null;
      timer._left = parseInt(timer.getAttribute("data-seconds"), 10) || 0;
    }
    show(timer);
    if (!remote) {
      var slide = timer.closest("[data-slide]");
      send({ type: "countdown", slide: slides.indexOf(slide), action: action });
    }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-countdown]");
    if (!button) return;
    var timer = button.closest(".deck-countdown");
    if (timer) countdown(timer, button.getAttribute("data-countdown"));
  });

  /* ---- the console: previews, notes, times ---- */
  var moduleStartedAt = null;
  var moduleShown = null;
  function moduleOf(slide) {
    var m = slide && slide.getAttribute("data-module");
    return m === null || m === undefined ? null : m;
  }
  function moduleSlide(m) {
    return root.querySelector('.slide-module[data-module="' + m + '"]');
  }
  function preview(into, slide) {
    into.textContent = "";
    if (!slide) return;
    var copy = slide.cloneNode(true);
    var notes = copy.querySelector(".slide-notes");
    if (notes) notes.remove();
    copy.classList.add("is-current");
    copy.removeAttribute("data-slide");
    copy.setAttribute("aria-hidden", "true");
    copy.setAttribute("inert", "");
    var frame = document.createElement("div");
    frame.className = "console-frame";
    frame.appendChild(copy);
    into.appendChild(frame);
    var scale = into.clientWidth / 1280;
    frame.style.transform = "scale(" + scale + ")";
    into.style.height = (720 * scale) + "px";
    fit(copy);
  }
  function showConsole() {
    var slide = slides[current];
    preview(document.querySelector(".console-screen-current"), slide);
    preview(document.querySelector(".console-screen-next"), slides[current + 1]);
    var notesOut = document.querySelector(".console-notes-body");
    var notes = slide.querySelector(".slide-notes");
    notesOut.innerHTML = notes ? notes.innerHTML : "";
    if (!notes) {
      var empty = document.createElement("p");
      empty.className = "console-no-notes";
      empty.textContent = notesOut.getAttribute("data-empty");
      notesOut.appendChild(empty);
    }
    var m = moduleOf(slide);
    if (m !== moduleShown) {
      moduleShown = m;
      var stored = null;
      try { stored = parseInt(sessionStorage.getItem(key + ":module:" + m), 10); } catch (e) { stored = null; }
      moduleStartedAt = m === null ? null : (stored || Date.now());
      try { if (m !== null) sessionStorage.setItem(key + ":module:" + m, String(moduleStartedAt)); } catch (e) { /* no storage */ }
    }
    tickConsole();
  }
  /** Minutes since midnight the agenda expects us at the current slide. */
  function plannedAt(n) {
    var slide = slides[n];
    if (slide.getAttribute("data-kind") === "break") return +slide.getAttribute("data-start");
    var m = moduleOf(slide);
    if (m === null) {
      var first = root.querySelector(".slide-module");
      return first ? +first.getAttribute("data-start") : null;
    }
    var head = moduleSlide(m);
    var own = slides.filter(function (s) { return moduleOf(s) === m; });
    var position = own.indexOf(slide) / Math.max(1, own.length);
    return +head.getAttribute("data-start") + position * +head.getAttribute("data-minutes");
  }
  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    return Math.floor(seconds / 60) + ":" + ("0" + (seconds % 60)).slice(-2);
  }
  function tickConsole() {
    if (!isConsole || current < 0) return;
    var now = new Date();
    document.querySelector(".console-now").textContent =
      ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2);
    var m = moduleOf(slides[current]);
    var head = m === null ? null : moduleSlide(m);
    document.querySelector(".console-module-elapsed").textContent =
      moduleStartedAt ? clock((Date.now() - moduleStartedAt) / 1000) : "0:00";
    document.querySelector(".console-module-planned").textContent =
      head ? clock(+head.getAttribute("data-minutes") * 60) : "–";
    var planned = plannedAt(current);
    var pace = document.querySelector(".console-pace");
    if (planned === null || isNaN(planned)) { pace.textContent = ""; return; }
    var minutes = now.getHours() * 60 + now.getMinutes() + now.getSeconds() / 60;
    var late = Math.round(minutes - planned);
    var text = late > 0 ? body.getAttribute("data-pace-behind")
      : late < 0 ? body.getAttribute("data-pace-ahead") : body.getAttribute("data-pace-on-time");
    pace.textContent = text.replace("{n}", String(Math.abs(late)));
    pace.className = "console-pace " + (late > 0 ? "is-behind" : late < 0 ? "is-ahead" : "is-on-time");
  }
  if (isConsole) setInterval(tickConsole, 1000);

  /* ---- keys, clicks, touch ---- */
  function next() { goTo(current + 1); }
  function previous() { goTo(current - 1); }
  function fullscreen() {
    if (document.fullscreenElement) { document.exitFullscreen(); return; }
    if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen();
  }
  function openProjector() {
    var href = root.getAttribute("data-deck-href") + "#slide-" + (current + 1);
    projector = window.open(href, key.replace(/[^A-Za-z0-9]/g, "_"));
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (typing) return;
    var onButton = target && /^(BUTTON|A)$/.test(target.tagName);
    switch (event.key) {
      case "ArrowRight": case "PageDown": next(); break;
      case " ": if (onButton) return; next(); break;
      case "ArrowLeft": case "PageUp": previous(); break;
      case "Home": goTo(0); break;
      case "End": goTo(count - 1); break;
      case "b": case "B": case ".": setBlack(!black); break;
      case "f": case "F": fullscreen(); break;
      default: return;
    }
    event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var control = event.target.closest && event.target.closest("[data-deck]");
    if (control) {
      var action = control.getAttribute("data-deck");
      if (action === "next") next();
      else if (action === "previous") previous();
      else if (action === "black") setBlack(!black);
      else if (action === "fullscreen") fullscreen();
      else if (action === "open") openProjector();
      else if (action === "follow") setFollowing(!following);
      else if (action === "restart-timer") {
        moduleStartedAt = Date.now();
        try { sessionStorage.setItem(key + ":module:" + moduleShown, String(moduleStartedAt)); } catch (e) { /* no storage */ }
        tickConsole();
      }
      return;
    }
    if (isConsole) return;
    if (black) { setBlack(false); return; }
    if (event.target.closest("a, button, input, textarea, select, label, summary, details, pre")) return;
    if (event.button === 0) next();
  });
  var touchX = null;
  document.addEventListener("touchstart", function (event) {
    touchX = event.touches.length === 1 ? event.touches[0].clientX : null;
  }, { passive: true });
  document.addEventListener("touchend", function (event) {
    if (touchX === null || isConsole) return;
    var dx = event.changedTouches[0].clientX - touchX;
    touchX = null;
    if (Math.abs(dx) > 50) { if (dx < 0) next(); else previous(); }
  });
  window.addEventListener("hashchange", function () { goTo(fromHash()); });
  window.addEventListener("resize", function () { layout(); if (isConsole) showConsole(); });
  window.addEventListener("beforeprint", function () { body.classList.add("is-printing"); fitAll(); });
  window.addEventListener("afterprint", function () { body.classList.remove("is-printing"); slides.forEach(fit); });

  /* ---- following the presenter under `atelier serve` ---- */
  var PRESENT_URL = "/__atelier/present";
  // The deck's version folder ("" or "clients/<slug>/"), the same for the
  // facilitator and the participants' deck of a version.
  var deckFolder = location.pathname.replace(/^\/(_facilitator\/)?/, "").replace(/present\/(console\/)?(index\.html)?$/, "");
  var presentKey = null;  // only facilitator decks served by atelier serve have it
  var following = /(^|[?&])follow(=|&|$)/.test(location.search.slice(1));
  var lastMove = 0;
  // One move on the way at a time, the newest waiting behind it: two posts
  // at once may reach the server in either order, and the followers would
  // stop on the one pressed first.
  var posting = false;
  var waiting = null;
  function post(n, dark) {
    if (!presentKey || typeof fetch !== "function") return;
    waiting = { deck: deckFolder, slide: n, black: !!dark, from: tab };
    if (!posting) postWaiting();
  }
  function postWaiting() {
    var move = waiting;
    waiting = null;
    if (!move) return;
    posting = true;
    var abort = typeof AbortController === "function" ? new AbortController() : null;
    var stuck = abort ? setTimeout(function () { abort.abort(); }, 5000) : null;
    fetch(PRESENT_URL, {
      method: "POST", cache: "no-store", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Atelier-Key": presentKey },
      body: JSON.stringify(move),
      signal: abort ? abort.signal : undefined
    }).catch(function () { /* the server went away */ }).then(function () {
      if (stuck) clearTimeout(stuck);
      posting = false;
      postWaiting();
    });
  }
  function followMove(move) {
    if (!move || move.deck !== deckFolder || typeof move.slide !== "number") return;
    if (typeof move.seq === "number") { if (move.seq <= lastMove) return; lastMove = move.seq; }
    // This tab's own move, or one a tab of this browser already passed on.
    if (move.from && (move.from === tab || nearTabs[move.from])) return;
    goTo(move.slide, true);
    setBlack(move.black === true, true);
  }
  window.addEventListener("atelier:present", function (event) {
    if (presentKey || following) followMove(event.detail);
  });
  function setFollowing(on) {
    following = on;
    var button = document.querySelector("[data-deck=follow]");
    if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
    var url = new URL(location.href);
    if (on) url.searchParams.set("follow", ""); else url.searchParams.delete("follow");
    try { history.replaceState(null, "", url.href.replace(/follow=(&|#|$)/, "follow$1")); } catch (e) { /* file:// */ }
    if (on && typeof fetch === "function") {
      fetch(PRESENT_URL + "?deck=" + encodeURIComponent(deckFolder), { cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(followMove)
        .catch(function () { /* not served */ });
    }
  }
  // The live script is injected after this one: look once the page is parsed.
  function joinLive() {
    var live = document.querySelector('script[src="/__atelier/livereload.js"]');
    if (!live) return;
    body.classList.add("is-live");  // deck.css keeps the controls clear of the preview's toolbar
    presentKey = live.getAttribute("data-present-key");
    var template = document.querySelector("template.deck-follow");
    var controls = document.querySelector(".deck-controls");
    if (!presentKey && template && controls) {
      controls.appendChild(template.content.cloneNode(true));
    }
    if (following && !presentKey) setFollowing(true);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", joinLive);
  else joinLive();

  layout();
  goTo(fromHash(), true);

  /** For other sources (a live-follow event stream…): the same moves as the keys. */
  window.atelierDeck = {
    goTo: function (n) { goTo(n); },
    current: function () { return current; },
    count: count,
    black: function (on) { setBlack(!!on); }
  };
})();
