/*! Lumo chat widget — one <script> tag adds a chat bubble and panel to any page.
 * <script src="https://HOST/static/chat/widget.js" data-lang="pt" defer></script>
 * Options (data-*): server (services app origin; default: where this script came from), lang (pt|en;
 * default: the page's <html lang>), open ("true" to start open), title.
 * Signed-in customers (README "Signed-in customers"): data-customer-id, data-customer-name,
 * data-customer-email and data-customer-signature (HMAC-SHA256 computed by the shop's server), or
 * window.LumoChat.identify({id, name, email, signature}) / .logout() once the script has loaded.
 * Safety: every message is rendered with textContent/createElement; links only http(s) or same-site paths.
 */
(function () {
  "use strict";
  if (window.LumoChat) return;
  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var ds = (script && script.dataset) || {};
  var server = (ds.server || (script && script.src ? new URL(script.src, location.href).origin : location.origin))
    .replace(/\/+$/, "");
  var wsUrl = server.replace(/^http/, "ws") + "/ws/chat";
  var KEY = "lumo-chat:" + server + ":";

  // Texts per language (the catalogue texts/<language>.yml, section "widget") and the message-length limit
  // (services/chat/chat.yml): the services app serves this file with them filled in here
  // (services/chat/widget_assets.py), so there is no second copy to keep in step.
  var CONFIG = /*LUMO_CONFIG*/null || { texts: { pt: {} }, maxMessageChars: 2000 };
  var T = CONFIG.texts;

  var DEFAULT_LANG = Object.keys(T)[0] || "pt";
  function pageLang() {
    var l = (ds.lang || document.documentElement.lang || navigator.language || DEFAULT_LANG).toLowerCase().slice(0, 2);
    return T[l] ? l : DEFAULT_LANG;
  }
  /** Texts of forms and buttons made after start-up: set now and again whenever the conversation's language changes. */
  var relabels = [];
  function label(node, attr, key, vars) {
    function apply() { var v = tr(key, vars); if (attr === "text") node.textContent = v; else node.setAttribute(attr, v); }
    apply(); relabels.push(apply);
    return node;
  }

  /** The signed identity the host page passed (checked by the server; a wrong one is refused there). */
  function identityFromPage() {
    if (!ds.customerId) return null;
    return { id: ds.customerId, name: ds.customerName || "", email: ds.customerEmail || "", signature: ds.customerSignature || "" };
  }

  var S = {
    lang: pageLang(), token: store("token"), identity: identityFromPage(), lastSeq: 0, open: false, ws: null, connected: false,
    attempt: 0, timer: null, pingTimer: null, pongDue: null, outbox: loadOutbox(), nodes: {}, pending: {},
    maxChars: CONFIG.maxMessageChars, cmids: {}, status: "bot", agentName: "", unread: 0, contactDone: false, typingSent: 0,
    npsDone: {}
  };

  function store(k, v) {
    try {
      if (v === undefined) return localStorage.getItem(KEY + k);
      if (v === null) localStorage.removeItem(KEY + k); else localStorage.setItem(KEY + k, v);
    } catch (e) { /* storage disabled: the conversation lasts for this page only */ }
    return null;
  }
  function loadOutbox() {
    try { var o = JSON.parse(store("outbox") || "[]"); return Array.isArray(o) ? o : []; } catch (e) { return []; }
  }
  function saveOutbox() { store("outbox", S.outbox.length ? JSON.stringify(S.outbox) : null); }
  function tr(key, vars) {
    var s = (T[S.lang] || {})[key] || (T[DEFAULT_LANG] || {})[key] || key;
    if (vars) for (var k in vars) s = s.split("{" + k + "}").join(String(vars[k]));
    return s;
  }
  function uid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16); (window.crypto || {}).getRandomValues ? crypto.getRandomValues(a) : a.forEach(function (_, i) { a[i] = Math.random() * 256; });
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // ---- DOM helpers: never innerHTML for anything that came from a message ----
  function el(tag, attrs, kids) {
    var n = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") n.textContent = attrs[k];
      else if (k === "class") n.className = attrs[k];
      else if (k.indexOf("on") === 0) n.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) n.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) n.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return n;
  }

  /** A link target we accept: http(s) anywhere, or a path on the services app ("/help/..."). */
  function safeUrl(raw) {
    raw = String(raw || "").trim();
    if (/^\/(?!\/)/.test(raw)) return server + raw;
    try {
      var u = new URL(raw);
      return (u.protocol === "https:" || u.protocol === "http:") ? u.href : null;
    } catch (e) { return null; }
  }
  function link(label, url) {
    var external = url.indexOf(server + "/") !== 0 && url.indexOf(location.origin + "/") !== 0;
    var a = el("a", { href: url, rel: "noopener noreferrer", target: "_blank", text: label });
    a.appendChild(el("span", { class: "sr", text: " " + tr("newLink") }));
    if (external) a.className = "ext";
    return a;
  }
  // [label](url), bare http(s) URLs, bare /help/... paths, **bold**
  var TOKEN_RE = /\[([^\]\n]{1,200})\]\(([^)\s]{1,2000})\)|(https?:\/\/[^\s<>"')\]]+)|((?:^|(?<=\s))\/help\/[A-Za-z0-9_\-\/?=&%.]+)|\*\*([^*\n]{1,300})\*\*/g;
  function renderText(parent, text) {
    text = String(text || "");
    var last = 0, m;
    TOKEN_RE.lastIndex = 0;
    while ((m = TOKEN_RE.exec(text))) {
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (m[1] !== undefined) {
        var u = safeUrl(m[2]);
        parent.appendChild(u ? link(m[1], u) : document.createTextNode(m[0]));
      } else if (m[3] || m[4]) {
        var raw = (m[3] || m[4]).replace(/[.,;:!?]+$/, ""), tail = (m[3] || m[4]).slice(raw.length);
        var v = safeUrl(raw);
        parent.appendChild(v ? link(raw, v) : document.createTextNode(raw));
        if (tail) parent.appendChild(document.createTextNode(tail));
      } else {
        parent.appendChild(el("strong", { text: m[5] }));
      }
      last = TOKEN_RE.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function icon(size, d) {
    var NS = "http://www.w3.org/2000/svg", svg = document.createElementNS(NS, "svg"), path = document.createElementNS(NS, "path");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("width", size); svg.setAttribute("height", size);
    svg.setAttribute("aria-hidden", "true"); svg.setAttribute("focusable", "false");
    path.setAttribute("fill", "currentColor"); path.setAttribute("d", d);
    svg.appendChild(path);
    return svg;
  }

  // ---- build the widget inside a shadow root so the host page's CSS cannot break it ----
  var host = el("div", { id: "lumo-chat", "data-lumo-chat": "" });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  // Hidden until its stylesheet arrives, so the page never shows an unstyled button.
  host.style.visibility = "hidden";
  function shown() { host.style.visibility = ""; }
  root.appendChild(el("link", { rel: "stylesheet", href: server + "/static/chat/widget.css", onload: shown, onerror: shown }));
  var launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "lumo-panel", onclick: function () { toggle(); } });
  var badge = el("span", { class: "badge", hidden: "" });
  launcher.appendChild(icon(28, "M12 3C6.5 3 2 6.9 2 11.7c0 2.6 1.3 4.9 3.4 6.5L4.6 22l4.3-2.4c1 .3 2 .4 3.1.4 5.5 0 10-3.9 10-8.7S17.5 3 12 3z"));
  launcher.appendChild(badge);
  var titleEl = el("h2", { class: "title", id: "lumo-title" });
  var statusEl = el("p", { class: "status", "aria-live": "polite" });
  var closeBtn = el("button", { class: "close", type: "button", onclick: function () { toggle(false); } });
  closeBtn.appendChild(icon(20, "M18.3 5.7 13.4 10.6 12 12l6.3 6.3-1.4 1.4L12 14.8l-4.9 4.9-1.4-1.4L10.6 12 5.7 7.1l1.4-1.4L12 10.6l4.9-4.9z"));
  var logEl = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0" });
  var typingEl = el("div", { class: "typing", hidden: "", "aria-live": "polite" });
  var bannerEl = el("div", { class: "banner", role: "status", hidden: "" });
  var queueEl = el("div", { class: "queue", role: "status", hidden: "" });
  var alertEl = el("div", { class: "alert", role: "alert", hidden: "" });
  var input = el("textarea", { class: "input", rows: "1", id: "lumo-input", autocomplete: "off" });
  var counter = el("span", { class: "counter", "aria-live": "polite" });
  var sendBtn = el("button", { class: "send", type: "submit" });
  sendBtn.appendChild(icon(20, "M3 20.5 21 12 3 3.5l.01 6.6L15 12 3.01 13.9z"));
  var inputLabel = el("label", { class: "sr", for: "lumo-input" });
  var form = el("form", { class: "composer", onsubmit: function (e) { e.preventDefault(); submit(); } },
    [inputLabel, input, counter, sendBtn]);
  var panel = el("section", { class: "panel", id: "lumo-panel", role: "dialog", "aria-labelledby": "lumo-title", hidden: "" }, [
    el("header", { class: "head" }, [el("div", { class: "avatar", "aria-hidden": "true", text: "L" }), el("div", { class: "who" }, [titleEl, statusEl]), closeBtn]),
    bannerEl, queueEl, logEl, typingEl, alertEl, form
  ]);
  root.appendChild(panel);
  root.appendChild(launcher);

  function applyLabels() {
    host.setAttribute("lang", S.lang === "en" ? "en" : "pt-BR");
    launcher.setAttribute("aria-label", S.open ? tr("close") : tr("open") + (S.unread ? " — " + tr("unread", { n: S.unread }) : ""));
    closeBtn.setAttribute("aria-label", tr("close"));
    titleEl.textContent = tr("title");
    logEl.setAttribute("aria-label", tr("log"));
    input.setAttribute("placeholder", tr("placeholder"));
    inputLabel.textContent = tr("input");
    if (S.greetingBody) S.greetingBody.textContent = tr("greeting");
    sendBtn.setAttribute("aria-label", tr("send"));
    relabels.forEach(function (apply) { apply(); });
    updateStatus();
    updateCounter();
  }
  function updateStatus() {
    var s = !S.connected ? (S.everConnected ? tr("reconnecting") : tr("connecting"))
      : S.status === "assigned" ? (S.agentName ? S.agentName + " · " + tr("agentLabel") : tr("agent"))
      : S.status === "queued" ? tr("queued") : S.status === "closed" ? tr("closed") : tr("bot") + " · " + tr("online");
    statusEl.textContent = s;
    if (S.status !== "queued") queueEl.hidden = true;
    panel.classList.toggle("is-offline", !S.connected);
  }
  function showBanner(text) { bannerEl.textContent = text || ""; bannerEl.hidden = !text; }
  function showAlert(text) {
    alertEl.textContent = text || ""; alertEl.hidden = !text;
    clearTimeout(S.alertTimer);
    if (text) S.alertTimer = setTimeout(function () { alertEl.hidden = true; }, 8000);
  }
  function updateCounter() {
    var n = input.value.length;
    counter.textContent = n > S.maxChars * 0.8 ? n + "/" + S.maxChars : "";
    counter.classList.toggle("over", n > S.maxChars);
  }

  function toggle(force) {
    S.open = typeof force === "boolean" ? force : !S.open;
    panel.hidden = !S.open;
    launcher.setAttribute("aria-expanded", String(S.open));
    host.classList.toggle("open", S.open);
    launcher.classList.toggle("is-open", S.open);
    applyLabels();
    store("open", S.open ? "1" : null);
    if (S.open) {
      S.unread = 0; badge.hidden = true;
      if (!S.ws) connect();
      scrollDown();
      setTimeout(function () { input.focus(); }, 30);
    } else {
      launcher.focus();
    }
  }
  root.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && S.open) { e.preventDefault(); toggle(false); }
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  input.addEventListener("input", function () {
    updateCounter();
    input.style.height = "auto"; input.style.height = Math.min(input.scrollHeight, 120) + "px";
    var now = Date.now();
    if (input.value && now - S.typingSent > 3000) { S.typingSent = now; sendFrame({ type: "typing", on: true }); }
  });

  function scrollDown() { logEl.scrollTop = logEl.scrollHeight; }
  function timeLabel(iso) {
    var d = iso ? new Date(iso) : new Date();
    return isNaN(d) ? "" : d.toLocaleTimeString(S.lang === "en" ? "en-US" : "pt-BR", { hour: "2-digit", minute: "2-digit" });
  }

  // ---- rendering messages ----
  function bubble(role, who, text, iso) {
    var item = el("div", { class: "msg " + role, role: "article" });
    var meta = el("div", { class: "meta" }, [who ? el("span", { class: "who-name", text: who }) : null, el("time", { text: timeLabel(iso) })]);
    var body = el("div", { class: "body" });
    renderText(body, text);
    item.appendChild(body);
    item.appendChild(meta);
    return item;
  }

  function renderMessage(m) {
    if (!m || typeof m.seq !== "number") return;
    if (S.nodes[m.seq]) return;
    var p = m.payload || {}, node;
    if (m.role === "bot" && !String(m.text || "").trim() && !(p.buttons && p.buttons.length)) {
      // Data-only bot messages (custom JSON for the transcript) have nothing to show.
      S.nodes[m.seq] = true;
      if (m.seq > S.lastSeq) S.lastSeq = m.seq;
      return;
    }
    if (m.client_message_id && S.pending[m.client_message_id]) {
      node = S.pending[m.client_message_id];
      delete S.pending[m.client_message_id];
      setState(node, "sent");
    } else if (m.role === "customer") {
      node = bubble("customer", tr("you"), m.text, m.created_at);
      setState(node, "sent");
    } else if (m.role === "agent") {
      node = bubble("agent", (m.author_name || tr("agent")) + " · " + tr("agentLabel"), m.text, m.created_at);
      if (m.author_name) S.agentName = m.author_name;
    } else if (m.role === "bot") {
      node = bubble("bot", tr("bot"), m.text, m.created_at);
      if (p.buttons && p.buttons.length) node.appendChild(quickReplies(p.buttons, p.custom));
    } else {
      node = systemNotice(m);
    }
    node.setAttribute("data-seq", m.seq);
    S.nodes[m.seq] = node;
    if (m.client_message_id) S.cmids[m.client_message_id] = true;
    if (m.seq > S.lastSeq) S.lastSeq = m.seq;
    if (!node.parentNode) logEl.appendChild(node);
    if (m.role === "customer") spendReplies();
    if (m.role === "bot" || m.role === "agent") typing(null);
    if (!S.open && m.role !== "customer" && S.live) {
      S.unread++; badge.textContent = String(S.unread); badge.hidden = false; applyLabels();
    }
    scrollDown();
  }

  function quickReplies(buttons, custom) {
    var helped = custom && custom.kb && custom.kb.asked === "helped";
    var group = el("div", { class: "replies" + (helped ? " helped" : ""), role: "group", "aria-label": helped ? tr("helped") : null });
    buttons.forEach(function (b) {
      group.appendChild(el("button", {
        type: "button", class: "reply", text: b.title, onclick: function () {
          if (group.classList.contains("used")) return;
          group.classList.add("used");
          group.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          this.classList.add("chosen");
          send(b.title, /^\/[A-Za-z0-9_]/.test(b.payload || "") ? b.payload : null);
        }
      }));
    });
    return group;
  }
  /** Quick replies belong to the moment they were offered: once the customer has written, they are spent. */
  function spendReplies() {
    logEl.querySelectorAll(".replies:not(.used)").forEach(function (g) {
      g.classList.add("used");
      g.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
    });
  }

  function systemNotice(m) {
    var p = m.payload || {}, kind = p.kind || "info";
    var node = el("div", { class: "notice kind-" + kind.replace(/[^a-z_]/g, ""), role: "note" });
    var body = el("p");
    renderText(body, m.text);
    node.appendChild(body);
    if (kind === "agent_joined" && p.agent_name) S.agentName = String(p.agent_name);
    if (kind === "csat") node.appendChild(csatForm());
    if (kind === "csat_thanks") { logEl.querySelectorAll("form.csat").forEach(function (f) { f.remove(); }); }
    if (kind === "nps" && !S.npsDone[m.seq]) node.appendChild(npsForm(m.seq));
    if (kind === "nps_thanks" || kind === "nps_skipped") { S.npsAnswered = true; logEl.querySelectorAll("form.nps").forEach(function (f) { f.remove(); }); }
    if (kind === "contact_saved") { S.contactDone = true; logEl.querySelectorAll(".contact").forEach(function (f) { f.remove(); }); }
    if (kind === "offline" && p.contact_form && !S.contactDone) {
      // One form at a time: a newer notice takes it over, keeping whatever was typed.
      var old = logEl.querySelector("form.contact");
      node.appendChild(old || contactForm());
    }
    return node;
  }

  /**
   * A keyboard-accessible rating scale (WAI-ARIA radio group): one tab stop, arrow keys / Home / End move and
   * choose, Space/Enter or a click choose; every option has a spoken label ("Nota 4 de 5").
   */
  function ratingGroup(from, to, groupKey, itemKey, itemClass, fill, onPick) {
    var group = label(el("div", { class: itemClass + "s", role: "radiogroup" }), "aria-label", groupKey);
    var items = [];
    function pick(i, focus) {
      items.forEach(function (b, j) {
        b.setAttribute("aria-checked", String(j === i)); b.tabIndex = j === i ? 0 : -1;
        b.classList.toggle("on", fill ? j <= i : j === i);
      });
      if (focus) items[i].focus();
      onPick(from + i);
    }
    for (var n = from; n <= to; n++) (function (i, value) {
      var b = label(el("button", {
        type: "button", role: "radio", "aria-checked": "false", text: String(value), class: itemClass,
        tabindex: i === 0 ? "0" : "-1", onclick: function () { pick(i, false); }
      }), "aria-label", itemKey, { n: value });
      b.addEventListener("keydown", function (e) {
        var k = e.key, next = null;
        if (k === "ArrowRight" || k === "ArrowDown") next = (i + 1) % items.length;
        else if (k === "ArrowLeft" || k === "ArrowUp") next = (i - 1 + items.length) % items.length;
        else if (k === "Home") next = 0;
        else if (k === "End") next = items.length - 1;
        if (next !== null) { e.preventDefault(); pick(next, true); }
      });
      items.push(b); group.appendChild(b);
    })(n - from, n);
    group.first = function () { return items.filter(function (b) { return b.tabIndex === 0; })[0] || items[0]; };
    return group;
  }
  /** Survey forms that arrive live take the focus, unless the customer is typing (never steal a half-typed message). */
  function focusSurvey(target) {
    if (!S.live || !S.open) return;
    setTimeout(function () {
      var active = root.activeElement || document.activeElement;
      if (active === input && input.value) return;
      if (target.isConnected) target.focus();
    }, 50);
  }

  function csatForm() {
    var rating = 0, wrap = el("form", { class: "csat" });
    var comment = el("textarea", { rows: "2", maxlength: String(S.maxChars) });
    label(label(comment, "aria-label", "comment"), "placeholder", "comment");
    var btn = label(el("button", { type: "submit", class: "primary", disabled: "" }), "text", "submit");
    var stars = ratingGroup(1, 5, "rate", "star", "star", true, function (n) { rating = n; btn.disabled = false; });
    focusSurvey(stars.first());
    wrap.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!rating) return;
      btn.disabled = true;
      api("/api/chat/csat", { rating: rating, comment: comment.value.slice(0, S.maxChars) }).then(function () {
        wrap.remove();  // the server's stored "csat_thanks" notice thanks the customer
        if (!logEl.querySelector("form.nps")) input.focus();
      }, function () { btn.disabled = false; showAlert(tr("error")); });
    });
    wrap.appendChild(stars); wrap.appendChild(comment); wrap.appendChild(btn);
    return wrap;
  }

  /** NPS: 0-10 (one tab stop, arrows), optional comment, send or skip; either answer closes the question. */
  function npsForm(seq) {
    var score = null, wrap = label(el("form", { class: "nps" }), "aria-label", "npsScale");
    var comment = el("textarea", { rows: "2", maxlength: String(S.maxChars) });
    label(label(comment, "aria-label", "comment"), "placeholder", "comment");
    var send = label(el("button", { type: "submit", class: "primary", disabled: "" }), "text", "npsSend");
    var skip = label(el("button", { type: "button", class: "secondary" }), "text", "npsSkip");
    var scale = ratingGroup(0, 10, "npsScale", "npsScore", "score", false, function (n) { score = n; send.disabled = false; });
    var ends = el("div", { class: "ends", "aria-hidden": "true" }, [label(el("span"), "text", "npsLow"), label(el("span"), "text", "npsHigh")]);
    function answer(body) {
      send.disabled = skip.disabled = true;
      api("/api/chat/nps", body).then(function () {
        S.npsDone[seq] = true; wrap.remove(); input.focus();
      }, function (err) { send.disabled = score === null; skip.disabled = false; showAlert((err && err.message) || tr("error")); });
    }
    wrap.addEventListener("submit", function (e) {
      e.preventDefault();
      if (score !== null) answer({ score: score, comment: comment.value.slice(0, S.maxChars) });
    });
    skip.addEventListener("click", function () { answer({ skipped: true }); });
    wrap.appendChild(scale); wrap.appendChild(ends); wrap.appendChild(comment);
    wrap.appendChild(el("div", { class: "actions" }, [skip, send]));
    focusSurvey(scale.first());
    return wrap;
  }

  function contactForm() {
    var f = label(el("form", { class: "contact" }), "aria-label", "contactTitle");
    function field(name, type, key, ac) {
      return el("label", {}, [label(el("span"), "text", key), el("input", { name: name, type: type, autocomplete: ac, maxlength: name === "name" ? "120" : "200" })]);
    }
    f.appendChild(label(el("strong"), "text", "contactTitle"));
    f.appendChild(field("name", "text", "name", "name"));
    f.appendChild(field("email", "email", "email", "email"));
    f.appendChild(field("phone", "tel", "phone", "tel"));
    var btn = label(el("button", { type: "submit", class: "primary" }), "text", "contactSend");
    f.appendChild(btn);
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      var v = { name: f.elements.name.value, email: f.elements.email.value.trim(), phone: f.elements.phone.value.trim() };
      if (!v.email && !v.phone) { showAlert(tr("contactNeed")); return; }
      btn.disabled = true;
      api("/api/chat/contact", v).then(function () {
        // The server confirms with a stored "contact_saved" notice; the form has done its job.
        S.contactDone = true;
        f.remove();
      }, function (err) { btn.disabled = false; showAlert((err && err.message) || tr("error")); });
    });
    return f;
  }

  function typing(ev) {
    if (!ev || !ev.on || ev.role === "customer") { typingEl.hidden = true; typingEl.textContent = ""; return; }
    typingEl.textContent = "";
    typingEl.appendChild(el("span", { class: "dots", "aria-hidden": "true" }, [el("i"), el("i"), el("i")]));
    typingEl.appendChild(document.createTextNode(ev.role === "agent" ? tr("agentTyping", { name: S.agentName || tr("agent") }) : tr("botTyping")));
    typingEl.hidden = false;
    scrollDown();
  }

  function setState(node, state) {
    node.setAttribute("data-state", state);
    var meta = node.querySelector(".meta"), s = meta && meta.querySelector(".state");
    if (!meta) return;
    if (!s) { s = el("span", { class: "state" }); meta.appendChild(s); }
    s.textContent = state === "sent" ? "✓ " + tr("sent") : state === "failed" ? tr("failed") : state === "queued" ? tr("queuedMsg") : tr("sending");
  }

  // ---- sending ----
  function submit() {
    var text = input.value;
    if (!text.trim()) { showAlert(tr("empty")); return; }
    if (text.length > S.maxChars) { showAlert(tr("tooLong", { n: text.length, max: S.maxChars })); return; }
    if (send(text, null)) {
      input.value = ""; input.style.height = "auto"; updateCounter();
      sendFrame({ type: "typing", on: false }); S.typingSent = 0;
    }
  }
  function send(text, payload) {
    var item = { client_message_id: uid(), text: text, payload: payload || undefined };
    S.outbox.push(item); saveOutbox();
    var node = bubble("customer", tr("you"), text, null);
    S.pending[item.client_message_id] = node;
    spendReplies();
    setState(node, S.connected ? "sending" : "queued");
    logEl.appendChild(node); scrollDown();
    if (S.connected) sendFrame(frameOf(item));
    return true;
  }
  function frameOf(item) {
    var f = { type: "message", text: item.text, client_message_id: item.client_message_id };
    if (item.payload) f.payload = item.payload;
    return f;
  }
  function sendFrame(f) {
    if (S.ws && S.ws.readyState === 1 && S.connected) { S.ws.send(JSON.stringify(f)); return true; }
    return false;
  }
  function flushOutbox() {
    S.outbox.slice().forEach(function (item) {
      if (S.cmids[item.client_message_id]) { settle(item.client_message_id); return; }
      if (!S.pending[item.client_message_id]) {
        var node = bubble("customer", tr("you"), item.text, null);
        S.pending[item.client_message_id] = node; logEl.appendChild(node);
      }
      setState(S.pending[item.client_message_id], "sending");
      sendFrame(frameOf(item));
    });
  }
  function settle(cmid) {
    S.outbox = S.outbox.filter(function (i) { return i.client_message_id !== cmid; });
    saveOutbox();
  }

  function api(path, body) {
    return fetch(server + path, {
      method: "POST", headers: { "Content-Type": "application/json", "Authorization": "Bearer " + (S.token || "") },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) throw new Error((j.detail && j.detail.message) || tr("error"));
        return j;
      });
    });
  }

  // ---- the connection ----
  function connect() {
    clearTimeout(S.timer);
    if (S.ws && S.ws.readyState <= 1) return;
    var ws;
    try { ws = new WebSocket(wsUrl); } catch (e) { return retry(); }
    S.ws = ws;
    ws.onopen = function () {
      var hello = { type: "hello", token: S.token, lang: S.lang, after_seq: S.lastSeq, visitor: store("visitor") };
      if (S.identity) hello.identity = S.identity;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (e) {
      var ev; try { ev = JSON.parse(e.data); } catch (x) { return; }
      if (ws !== S.ws) return;
      handle(ev);
    };
    ws.onclose = function () { if (ws === S.ws) dropSocket(); };
    ws.onerror = function () { /* onclose follows */ };
  }
  /** Forget the current socket at once (closed, offline, silent) and plan the next attempt. */
  function dropSocket() {
    var old = S.ws;
    S.ws = null; S.connected = false; stopPing(); updateStatus();
    if (old) { old.onclose = old.onmessage = old.onopen = null; try { old.close(); } catch (e) { /* already closed */ } }
    Object.keys(S.pending).forEach(function (k) { setState(S.pending[k], "queued"); });
    retry();
  }
  function retry() {
    clearTimeout(S.timer);
    var delay = Math.min(15000, 500 * Math.pow(2, S.attempt++)) * (0.7 + Math.random() * 0.6);
    if (navigator.onLine === false) showBanner(tr("offline"));
    else if (S.attempt >= 4) showBanner(tr("down"));
    S.timer = setTimeout(connect, delay);
  }
  function startPing() {
    stopPing();
    S.pingTimer = setInterval(function () {
      if (!sendFrame({ type: "ping" })) return;
      clearTimeout(S.pongDue);
      S.pongDue = setTimeout(function () { if (S.ws) dropSocket(); }, 10000);
    }, 25000);
  }
  function stopPing() { clearInterval(S.pingTimer); clearTimeout(S.pongDue); }

  function handle(ev) {
    switch (ev.type) {
      case "welcome":
        var c = ev.conversation || {};
        if (S.conversationId && c.id !== S.conversationId) resetView();
        S.conversationId = c.id; S.token = ev.token; store("token", ev.token);
        if (ev.visitor) store("visitor", ev.visitor);
        S.signedIn = !!ev.signed_in;
        if (c.language && T[c.language]) S.lang = c.language;
        S.status = c.status || "bot";
        if (ev.limits && ev.limits.max_message_chars) S.maxChars = ev.limits.max_message_chars;
        S.connected = true; S.everConnected = true; S.attempt = 0;
        showBanner(""); applyLabels(); startPing();
        if (ev.notice) showAlert(ev.notice);
        break;
      case "history":
        (ev.messages || []).forEach(renderMessage);
        if (!logEl.querySelector(".msg, .notice")) greet();
        S.live = true;
        flushOutbox();
        break;
      case "message": renderMessage(ev.message); break;
      case "ack":
        settle(ev.client_message_id);
        var n = S.pending[ev.client_message_id];
        if (n) { setState(n, "sent"); n.setAttribute("data-seq", ev.seq); }
        break;
      case "error":
        if (ev.code === "bad_identity" || ev.code === "identity_disabled") {
          // The server refused the identity the page passed (and stored nothing): go on as an anonymous visitor.
          S.identity = null; S.attempt = 0;
          showAlert(ev.message || tr("error"));
          break;
        }
        if (ev.client_message_id) {
          settle(ev.client_message_id);
          var node = S.pending[ev.client_message_id];
          if (node) {
            delete S.pending[ev.client_message_id];
            var text = node.querySelector(".body").textContent;
            node.remove();
            if (!input.value) { input.value = text; updateCounter(); }
          }
        }
        showAlert(ev.message || tr("error"));
        break;
      case "typing": typing(ev); break;
      // The conversation's one status (bot | queued | assigned | resolved | closed); resolved talks to the bot again.
      case "status": S.status = ev.status; if (ev.status !== "assigned" && ev.status !== "queued") S.agentName = ""; updateStatus(); break;
      case "notice":
        if (ev.kind === "agent_joined" && ev.agent_name) S.agentName = ev.agent_name;
        if (ev.kind === "queue") {
          S.status = "queued";
          // Live position updates are not stored messages: keep the latest one under the header.
          if (ev.text) { queueEl.textContent = ev.text; queueEl.hidden = false; }
        }
        if (ev.kind === "agent_joined") S.status = "assigned";
        updateStatus();
        break;
      case "language": if (T[ev.language]) { S.lang = ev.language; applyLabels(); } break;
      case "pong": clearTimeout(S.pongDue); break;
    }
  }
  function greet() {
    var g = el("div", { class: "msg bot greeting", role: "article" });
    S.greetingBody = el("div", { class: "body" }); S.greetingBody.textContent = tr("greeting");
    g.appendChild(S.greetingBody); logEl.appendChild(g);
  }
  /** A new hello with the current identity (sign-in/out on the shop's page). */
  function reconnect() {
    if (!S.ws && !S.open) return;
    if (S.ws) dropSocket(); else connect();
  }
  function resetView() {
    logEl.textContent = ""; S.nodes = {}; S.cmids = {}; S.lastSeq = 0; S.pending = {}; S.contactDone = false;
  }

  window.addEventListener("online", function () { showBanner(""); S.attempt = 0; if (!S.connected) connect(); });
  window.addEventListener("offline", function () { showBanner(tr("offline")); if (S.ws) dropSocket(); });

  function mount() {
    document.body.appendChild(host);
    applyLabels();
    if (ds.open === "true" || store("open") === "1") toggle(true);
    else if (S.token || S.outbox.length) connect();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  window.LumoChat = {
    open: function () { toggle(true); }, close: function () { toggle(false); },
    setLanguage: function (l) { if (T[l]) { S.lang = l; applyLabels(); } },
    /** Sign the customer in (the shop's page calls it after its own sign-in) or out; the chat reconnects. */
    identify: function (identity) { S.identity = identity || null; reconnect(); },
    logout: function () { S.identity = null; reconnect(); },
    state: function () { return { connected: S.connected, lastSeq: S.lastSeq, outbox: S.outbox.length, status: S.status, lang: S.lang, signedIn: !!S.signedIn }; }
  };
})();
