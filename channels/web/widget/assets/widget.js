// The embeddable chat widget of the trolyao virtual assistant (chat protocol v1, docs/protocol.md).
// Embed: <script src="https://host/widget.js" defer data-persist="local"></script>; the attributes are
// documented in the package comment of channels/web/widget. Server data is only ever set with textContent.
(function () {
  "use strict";

  var CONFIG = /*CONFIG*/null;
  var script = document.currentScript;
  if (!CONFIG || !script || window.__trolyaoWidget) {
    return; // loaded twice, or not as a classic script
  }

  var MAX_STORED = 60; // messages kept in storage
  var MAX_TEXT = 4000; // characters of a stored message
  var BACKOFF_BASE = 1000; // ms
  var BACKOFF_CAP = 30000; // ms
  var PING_EVERY = 25000; // ms
  var FAIL_AFTER = 3; // failed connection attempts after which the questions waiting are marked failed
  var COUNTER_FROM = 0.8; // the character counter shows from this share of the limit
  var TAG = "trolyao-widget"; // the custom element hosting the shadow root
  var REASONS = [ // the reasons of a 👎 (docs/protocol.md)
    ["wrong_procedure", "Sai thủ tục"],
    ["missing_papers", "Thiếu giấy tờ"],
    ["wrong_fee", "Sai phí"],
    ["unclear", "Khó hiểu"],
    ["other", "Khác"]
  ];

  function attr(name) {
    var v = script.getAttribute("data-" + name);
    return v == null ? "" : v.trim();
  }

  function serverOrigin() {
    var raw = attr("server") || script.src;
    try {
      var u = new URL(raw, document.baseURI);
      if (u.protocol === "https:" || u.protocol === "http:") {
        return u.origin;
      }
    } catch (e) { /* fall through */ }
    return new URL(script.src, document.baseURI).origin;
  }

  var origin = serverOrigin();
  var persist = ({ local: "local", session: "session", memory: "memory" })[attr("persist")] || "local";
  var title = attr("title").slice(0, 80) || CONFIG.title;
  var position = attr("position") === "left" ? "left" : "right";
  var storageKey = "trolyao:v1:" + origin;

  // storage is localStorage, sessionStorage, or null (memory mode, or storage blocked by the browser).
  var storage = null;
  if (persist !== "memory") {
    try {
      storage = persist === "session" ? window.sessionStorage : window.localStorage;
      storage.getItem(storageKey);
    } catch (e) {
      storage = null;
    }
  }

  // State.
  var conversationId = "";
  var messages = []; // {role, text, id?, citations?, options?, suggestions?, feedback?, codes?}
  var pending = []; // outgoing {id, text, el} not acknowledged yet
  var inflight = {}; // client id → {user, el (assistant element), deltas, text, acked}
  var maxChars = 1000;
  var seq = 0;
  var ws = null;
  var wsState = "idle"; // idle | connecting | open | closed
  var attempts = 0;
  var retryTimer = 0;
  var pingTimer = 0;
  var opened = false;
  var historyPending = false; // a history request is unanswered: new messages wait for it
  var refusedText = ""; // set when the server refused this page's origin: the widget stops connecting
  var centre = null; // the service centre of the citizen's commune, once an answer gave it: {name, address, phone, hours}

  function load() {
    if (!storage) {
      return;
    }
    try {
      var s = JSON.parse(storage.getItem(storageKey) || "null");
      if (s && typeof s.conversationId === "string" && /^[a-z0-9]{26}$/.test(s.conversationId)) {
        conversationId = s.conversationId;
      }
      centre = validCentre(s && s.contact);
      if (s && Array.isArray(s.messages)) {
        messages = s.messages.filter(function (m) {
          return m && (m.role === "user" || m.role === "assistant") && typeof m.text === "string";
        }).slice(-MAX_STORED);
      }
    } catch (e) {
      conversationId = "";
      messages = [];
    }
  }

  // validCentre keeps a contact of the server's shape (strings of bounded length) or returns null.
  function validCentre(c) {
    if (!c || typeof c.name !== "string" || !c.name || typeof c.address !== "string") {
      return null;
    }
    var out = {};
    ["name", "address", "phone", "hours"].forEach(function (k) {
      out[k] = typeof c[k] === "string" ? c[k].slice(0, 300) : "";
    });
    return out;
  }

  function save() {
    if (!storage) {
      return;
    }
    var kept = messages.slice(-MAX_STORED).map(function (m) {
      var c = {};
      for (var k in m) {
        if (Object.prototype.hasOwnProperty.call(m, k)) {
          c[k] = m[k];
        }
      }
      c.text = String(m.text).slice(0, MAX_TEXT);
      return c;
    });
    try {
      storage.setItem(storageKey, JSON.stringify({ conversationId: conversationId, messages: kept, contact: centre }));
    } catch (e) { /* storage full or blocked: the conversation still works */ }
  }

  // Building the DOM: elements are made with createElement; server text is set with textContent only.
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) {
      e.className = cls;
    }
    if (text != null) {
      e.textContent = text;
    }
    return e;
  }

  function allowedLink(raw) {
    if (typeof raw !== "string" || raw === "") {
      return "";
    }
    var u;
    try {
      u = new URL(raw);
    } catch (e) {
      return "";
    }
    if (u.protocol !== "https:" || u.username || u.password || u.port) {
      return "";
    }
    var host = u.hostname.toLowerCase();
    for (var i = 0; i < CONFIG.linkDomains.length; i++) {
      var d = CONFIG.linkDomains[i];
      if (host === d || host.slice(-(d.length + 1)) === "." + d) {
        return u.href;
      }
    }
    return "";
  }

  // Answers use a light Markdown subset (docs/protocol.md, "Answer text"): **bold**, lines starting with "- "
  // (a list) or "1. " (steps), [text](https://…) links and blank lines between sections. It is rendered by
  // building DOM nodes: every other character is text, and a link whose address is not an allowed https
  // address is shown as text.
  var INLINE = /\*\*([^*\n]+)\*\*|\[([^\[\]\n]+)\]\((https?:\/\/[^\s()]+)\)/g;

  function inline(parent, text) {
    var last = 0;
    var m;
    INLINE.lastIndex = 0;
    while ((m = INLINE.exec(text)) !== null) {
      if (m.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      }
      if (m[1] != null) {
        parent.appendChild(el("strong", "", m[1]));
      } else {
        var href = allowedLink(m[3]);
        if (href) {
          var a = el("a", "", m[2]);
          a.href = href;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
          parent.appendChild(a);
        } else {
          parent.appendChild(document.createTextNode(m[2]));
        }
      }
      last = INLINE.lastIndex;
    }
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  // markdown renders an answer's text into a new element of class cls.
  function markdown(text, cls) {
    var box = el("div", cls);
    var para = null;
    var list = null;
    String(text).split("\n").forEach(function (line) {
      var item = /^- (.*)$/.exec(line);
      var step = /^(\d{1,2})\. (.*)$/.exec(line);
      if (item || step) {
        var tag = item ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== tag) {
          list = el(tag);
          if (step && step[1] !== "1") {
            list.setAttribute("start", step[1]);
          }
          box.appendChild(list);
        }
        var li = el("li");
        inline(li, item ? item[1] : step[2]);
        list.appendChild(li);
        para = null;
        return;
      }
      list = null;
      if (line.trim() === "") {
        para = null;
        return;
      }
      if (para) {
        para.appendChild(el("br"));
      } else {
        para = el("p");
        box.appendChild(para);
      }
      inline(para, line);
    });
    return box;
  }

  // Build the widget. Its host is a custom element of its own, which no page rule aimed at its usual elements
  // (div, section …) matches; the stylesheet resets the host (:host { all: initial !important }) and sets the
  // font and colours on an inner element, so that no page style is inherited into the widget.
  if (window.customElements && window.Reflect && !window.customElements.get(TAG)) {
    var Host = function () { return Reflect.construct(HTMLElement, [], Host); };
    Host.prototype = Object.create(HTMLElement.prototype);
    Host.prototype.constructor = Host;
    Object.setPrototypeOf(Host, HTMLElement);
    window.customElements.define(TAG, Host);
  }
  var host = document.createElement(TAG);
  host.id = "trolyao-widget";
  host.setAttribute("data-persist", persist);
  var root = host.attachShadow({ mode: "open" });
  var wrap = el("div", "wrap " + position);
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CONFIG.css);
    root.adoptedStyleSheets = [sheet];
  } else {
    // Without constructable stylesheets (Safari before 16.4) a <style> element would need the page's CSP to
    // allow 'unsafe-inline'; a link to the served stylesheet needs only its origin in style-src. The widget
    // stays invisible until the sheet has loaded.
    var link = el("link");
    link.rel = "stylesheet";
    link.href = origin + CONFIG.cssPath;
    wrap.style.visibility = "hidden";
    link.onload = link.onerror = function () {
      wrap.style.visibility = "";
      host.setAttribute("data-styles", "link");
    };
    root.appendChild(link);
  }
  var bubble = el("button", "bubble");
  bubble.type = "button";
  bubble.setAttribute("aria-label", "Mở " + title);
  bubble.setAttribute("aria-expanded", "false");
  bubble.setAttribute("aria-controls", "tl-panel");
  var svgNS = "http://www.w3.org/2000/svg";
  // svgIcon draws a 24×24 icon of one path, hidden from assistive technology (its button has a label).
  function svgIcon(d, transform) {
    var svg = document.createElementNS(svgNS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(svgNS, "path");
    path.setAttribute("d", d);
    if (transform) {
      path.setAttribute("transform", transform);
    }
    svg.appendChild(path);
    return svg;
  }
  bubble.appendChild(svgIcon("M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"));

  var panel = el("section", "panel");
  panel.id = "tl-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  panel.hidden = true;

  var header = el("div", "head");
  var titles = el("div", "titles");
  var h2 = el("h2", "", title);
  var status = el("div", "status", "Chưa kết nối");
  status.setAttribute("role", "status");
  status.setAttribute("data-state", "idle");
  titles.appendChild(h2);
  titles.appendChild(status);
  var newBtn = el("button", "new");
  newBtn.type = "button";
  newBtn.title = "Cuộc trò chuyện mới";
  newBtn.setAttribute("aria-label", "Cuộc trò chuyện mới");
  newBtn.appendChild(svgIcon("M19 13h-6v6h-2v-6H5v-2h6V5h2v6h6v2z"));
  var closeBtn = el("button", "close", "×");
  closeBtn.type = "button";
  closeBtn.setAttribute("aria-label", "Đóng cửa sổ trò chuyện");
  header.appendChild(titles);
  header.appendChild(newBtn);
  header.appendChild(closeBtn);

  var log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Nội dung trò chuyện");

  var composer = el("div", "composer");
  var label = el("label", "sr-only", "Câu hỏi của bạn");
  label.htmlFor = "tl-input";
  // No maxlength: it cuts a pasted text silently. The counter shows near the limit and a longer question is
  // refused with a notice, its text kept for the citizen to shorten.
  var input = el("textarea");
  input.id = "tl-input";
  input.rows = 1;
  input.placeholder = "Nhập câu hỏi…";
  input.setAttribute("enterkeyhint", "send");
  input.setAttribute("aria-describedby", "tl-count");
  var counter = el("p", "counter");
  counter.id = "tl-count";
  counter.hidden = true;
  var sendBtn = el("button", "send", "Gửi");
  sendBtn.type = "button";
  sendBtn.setAttribute("aria-label", "Gửi câu hỏi");
  composer.appendChild(label);
  composer.appendChild(input);
  composer.appendChild(sendBtn);
  var footnote = el("p", "footnote", "Thông tin chỉ mang tính tham khảo; vui lòng không nhập số CCCD, số điện thoại hay thông tin cá nhân.");
  // The contact line: a person to talk to, the city's public-service hotline, and the service centre of the
  // citizen's commune once an answer has named it.
  var contact = el("p", "contact");

  function telLink(number) {
    var a = el("a", "", number);
    a.href = "tel:" + number.replace(/[^0-9+]/g, "");
    return a;
  }

  function renderContact() {
    while (contact.firstChild) {
      contact.removeChild(contact.firstChild);
    }
    contact.appendChild(document.createTextNode("Cần hỗ trợ trực tiếp? Gọi tổng đài "));
    contact.appendChild(telLink(CONFIG.hotline));
    contact.appendChild(document.createTextNode(" (dịch vụ công TP. Hồ Chí Minh)"));
    if (!centre) {
      contact.removeAttribute("data-centre");
      contact.appendChild(document.createTextNode(" hoặc đến Trung tâm Phục vụ hành chính công phường, xã gần nhất."));
      return;
    }
    contact.setAttribute("data-centre", "true");
    contact.appendChild(document.createTextNode(" hoặc đến " + centre.name + ": " + centre.address));
    if (centre.phone) {
      contact.appendChild(document.createTextNode(", điện thoại "));
      contact.appendChild(telLink(centre.phone));
    }
    if (centre.hours) {
      contact.appendChild(document.createTextNode(" (" + centre.hours + ")"));
    }
    contact.appendChild(document.createTextNode("."));
  }

  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(counter);
  panel.appendChild(composer);
  panel.appendChild(contact);
  panel.appendChild(footnote);
  wrap.appendChild(bubble);
  wrap.appendChild(panel);
  root.appendChild(wrap);

  // Rendering.
  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  // scrollToStart shows the start of a (new) answer at the top of the log, so that a long answer is read from
  // its beginning; a short one simply ends the log.
  function scrollToStart(e) {
    log.scrollTop = Math.max(0, e.offsetTop - 8);
  }

  // The starter questions in force: the script's, then those of the server's hello frame (staff may have
  // changed them since this script was cached).
  var starters = CONFIG.starters;

  function renderWelcome(withStarters) {
    var p = el("p", "welcome", "Xin chào! Tôi có thể giúp bạn tìm hiểu thủ tục hành chính: hồ sơ cần chuẩn bị, lệ phí, thời hạn giải quyết, nơi nộp và cách nộp trực tuyến.");
    log.appendChild(p);
    if (withStarters) {
      var box = startersBox();
      if (box) {
        log.appendChild(box);
      }
    }
  }

  // Starter questions: the most asked procedures, until the first question is sent.
  function startersBox() {
    if (!starters.length) {
      return null;
    }
    var box = el("div", "starters");
    box.setAttribute("role", "group");
    box.setAttribute("aria-labelledby", "tl-starters-title");
    var h = el("p", "starters-title", "Câu hỏi thường gặp");
    h.id = "tl-starters-title";
    box.appendChild(h);
    starters.forEach(function (q) {
      var b = el("button", "starter", q);
      b.type = "button";
      b.addEventListener("click", function () {
        send(q);
      });
      box.appendChild(b);
    });
    return box;
  }

  // updateStarters takes the starter questions of a hello frame and redraws those on show.
  function updateStarters(list) {
    if (!Array.isArray(list) || !list.length) {
      return;
    }
    var next = list.filter(function (q) {
      return typeof q === "string" && q.trim() !== "";
    }).slice(0, 8).map(function (q) {
      return q.slice(0, 100);
    });
    if (!next.length || next.join("\n") === starters.join("\n")) {
      return;
    }
    starters = next;
    var old = log.querySelector(".starters");
    if (!old) {
      return;
    }
    var box = startersBox();
    var focused = old.contains(root.activeElement);
    old.parentNode.replaceChild(box, old);
    if (focused) {
      box.querySelector(".starter").focus();
    }
  }

  function dropStarters() {
    var s = log.querySelector(".starters");
    if (s) {
      s.parentNode.removeChild(s);
    }
  }

  function renderUser(m) {
    var e = el("div", "msg user");
    e.setAttribute("data-role", "user");
    e.appendChild(el("p", "text", m.text));
    log.appendChild(e);
    return e;
  }

  function renderCitations(box, list) {
    if (!Array.isArray(list) || list.length === 0) {
      return;
    }
    var ul = el("ul", "cites");
    ul.setAttribute("aria-label", "Thủ tục liên quan");
    list.forEach(function (c) {
      if (!c || typeof c.code !== "string") {
        return;
      }
      var li = el("li");
      var label = (c.name ? String(c.name) + " " : "") + "(mã " + c.code + ")";
      var href = allowedLink(c.url);
      if (href) {
        var a = el("a", "", label);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.setAttribute("data-code", c.code);
        li.appendChild(a);
      } else {
        var s = el("span", "", label);
        s.setAttribute("data-code", c.code);
        li.appendChild(s);
      }
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  function renderChoices(box, options, suggestions) {
    var row = el("div", "choices");
    if (Array.isArray(options)) {
      options.forEach(function (o, i) {
        if (!o || typeof o.name !== "string") {
          return;
        }
        // The visible text is the accessible name (an aria-label differing from it fails WCAG 2.5.3); the full
        // name is the title.
        var b = el("button", "choice", (i + 1) + ". " + (typeof o.label === "string" && o.label ? o.label : o.name));
        b.title = o.name;
        b.type = "button";
        b.addEventListener("click", function () {
          send(o.name + (o.code ? " (" + o.code + ")" : ""));
        });
        row.appendChild(b);
      });
    }
    var shown = {};
    if (Array.isArray(options)) {
      options.forEach(function (o) {
        if (o && typeof o.name === "string") {
          shown[o.name] = true;
          shown[o.label] = true;
        }
      });
    }
    if (Array.isArray(suggestions)) {
      suggestions.forEach(function (s) {
        if (typeof s !== "string" || s === "" || shown[s]) {
          return; // each choice once
        }
        shown[s] = true;
        var b = el("button", "suggestion", s);
        b.type = "button";
        b.addEventListener("click", function () {
          send(s);
        });
        row.appendChild(b);
      });
    }
    if (row.childNodes.length) {
      box.appendChild(row);
    }
  }

  // thumb draws a thumbs-up (or down) icon; no emoji font is needed.
  function thumb(down) {
    return svgIcon("M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z",
      down ? "rotate(180 12 12)" : "");
  }

  function renderFeedback(box, m) {
    if (!m.id) {
      return;
    }
    var row = el("div", "feedback");
    [[1, "Câu trả lời hữu ích"], [-1, "Câu trả lời chưa hữu ích"]].forEach(function (f) {
      var b = el("button");
      b.type = "button";
      b.appendChild(thumb(f[0] < 0));
      b.setAttribute("aria-label", f[1]);
      b.setAttribute("data-value", String(f[0]));
      b.setAttribute("aria-pressed", m.feedback === f[0] ? "true" : "false");
      b.addEventListener("click", function () {
        sendFeedback(m, f[0], "", box);
      });
      row.appendChild(b);
    });
    box.appendChild(row);
    if (m.feedback === -1) {
      renderReasons(box, m);
    }
  }

  // renderReasons asks why an answer was not helpful: one chip per reason, sent with the 👎.
  function renderReasons(box, m) {
    var group = el("div", "reasons");
    group.setAttribute("role", "group");
    var id = "tl-why-" + m.id;
    group.setAttribute("aria-labelledby", id);
    var q = el("p", "why", "Vì sao câu trả lời chưa hữu ích?");
    q.id = id;
    group.appendChild(q);
    REASONS.forEach(function (r) {
      var b = el("button", "reason", r[1]);
      b.type = "button";
      b.setAttribute("data-reason", r[0]);
      b.setAttribute("aria-pressed", m.feedbackReason === r[0] ? "true" : "false");
      b.addEventListener("click", function () {
        sendFeedback(m, -1, r[0], box);
      });
      group.appendChild(b);
    });
    box.appendChild(group);
  }

  // fillAssistant (re)renders an assistant message into e; only the last answer offers its quick replies.
  function fillAssistant(e, m, last) {
    while (e.firstChild) {
      e.removeChild(e.firstChild);
    }
    e.setAttribute("data-state", "final");
    if (m.id) {
      e.setAttribute("data-message-id", String(m.id));
    }
    e.appendChild(markdown(m.text, "text"));
    if (Array.isArray(m.citations) && m.citations.length) {
      renderCitations(e, m.citations);
    } else if (Array.isArray(m.codes) && m.codes.length) {
      renderCitations(e, m.codes.map(function (c) { return { code: String(c) }; }));
    }
    if (last) {
      renderChoices(e, m.options, m.suggestions);
    }
    renderFeedback(e, m);
  }

  function renderAssistant(m, last) {
    var e = el("div", "msg assistant");
    e.setAttribute("data-role", "assistant");
    fillAssistant(e, m, last);
    log.appendChild(e);
    return e;
  }

  function dropChoices() {
    var rows = log.querySelectorAll(".choices");
    for (var i = 0; i < rows.length; i++) {
      rows[i].parentNode.removeChild(rows[i]);
    }
  }

  function hasInflight() {
    for (var k in inflight) {
      if (Object.prototype.hasOwnProperty.call(inflight, k)) {
        return true;
      }
    }
    return false;
  }

  function renderAll() {
    while (log.firstChild) {
      log.removeChild(log.firstChild);
    }
    renderWelcome(messages.length === 0 && !hasInflight());
    var lastAssistant = -1;
    var lastEl = null;
    messages.forEach(function (m, i) {
      if (m.role === "assistant") {
        lastAssistant = i;
      }
    });
    messages.forEach(function (m, i) {
      if (m.role === "user") {
        renderUser(m);
      } else {
        lastEl = renderAssistant(m, i === lastAssistant && i === messages.length - 1);
      }
    });
    for (var k in inflight) {
      if (Object.prototype.hasOwnProperty.call(inflight, k)) {
        log.appendChild(inflight[k].userEl);
        if (inflight[k].el) {
          log.appendChild(inflight[k].el);
        }
        lastEl = null;
      }
    }
    // A conversation that ends with an answer is shown from that answer's start.
    if (lastEl && lastAssistant === messages.length - 1) {
      scrollToStart(lastEl);
    } else {
      scrollDown();
    }
  }

  function notice(text) {
    var p = el("p", "notice", text);
    p.setAttribute("role", "alert");
    log.appendChild(p);
    scrollDown();
  }

  function setStatus(state, text) {
    wsState = state;
    status.textContent = text;
    status.setAttribute("data-state", state);
    host.setAttribute("data-connection", state);
  }

  // Connection.
  function wsURL() {
    var u = new URL("/ws?v=1", origin);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    return u.href;
  }

  function connect() {
    if (ws || !opened || refusedText) {
      return;
    }
    clearTimeout(retryTimer);
    setStatus("connecting", "Đang kết nối…");
    var sock;
    try {
      sock = new WebSocket(wsURL());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = sock;
    historyPending = false;
    var greeted = false; // the server's hello frame arrived on this socket
    sock.onmessage = function (ev) {
      var f;
      try {
        f = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (f && typeof f.type === "string") {
        greeted = greeted || f.type === "hello";
        onFrame(f);
      }
    };
    sock.onclose = function (ev) {
      if (ws !== sock) {
        return;
      }
      ws = null;
      clearInterval(pingTimer);
      // Closed with 1008 before the hello frame: the server refuses this page's origin. Retrying cannot help.
      if (!greeted && ev && ev.code === 1008) {
        refuse(typeof ev.reason === "string" ? ev.reason.slice(0, 200) : "");
        return;
      }
      // Messages sent on this connection and not acknowledged are sent again on the next one.
      for (var k in inflight) {
        if (Object.prototype.hasOwnProperty.call(inflight, k) && !inflight[k].acked && inflight[k].sent) {
          inflight[k].sent = false;
        }
      }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    attempts++;
    // Exponential backoff with full jitter in [delay/2, delay], capped.
    var delay = Math.min(BACKOFF_CAP, BACKOFF_BASE * Math.pow(2, attempts - 1));
    delay = delay / 2 + Math.random() * delay / 2;
    setStatus("closed", "Mất kết nối, đang thử lại sau " + Math.ceil(delay / 1000) + " giây…");
    host.setAttribute("data-reconnects", String(attempts));
    retryTimer = setTimeout(connect, delay);
    // A question never waits silently: after a few failed attempts the questions not accepted yet are marked
    // failed, with "Gửi lại", while the widget goes on trying.
    if (attempts === FAIL_AFTER && failWaiting()) {
      notice("Chưa gửi được câu hỏi vì không kết nối được tới máy chủ trợ lý ảo. Hệ thống vẫn đang thử kết nối lại; khi kết nối được, bấm «Gửi lại». Cần hỗ trợ ngay, vui lòng gọi tổng đài " + CONFIG.hotline + ".");
    }
  }

  // failWaiting marks every question not accepted by the server as failed; it reports whether there was one.
  function failWaiting() {
    var any = false;
    for (var k in inflight) {
      if (Object.prototype.hasOwnProperty.call(inflight, k) && !inflight[k].acked) {
        failMessage(k, inflight[k]);
        any = true;
      }
    }
    return any;
  }

  // refuse stops connecting for good (until the page is reloaded): the server refused this page's origin.
  function refuse(reason) {
    clearTimeout(retryTimer);
    refusedText = (reason ? reason + " " : "") + "Trợ lý ảo chưa được bật cho trang này nên không thể trả lời. Vui lòng gọi tổng đài " + CONFIG.hotline + " hoặc tra cứu trên Cổng Dịch vụ công.";
    setStatus("refused", "Không thể kết nối");
    failWaiting();
    notice(refusedText);
  }

  function sendFrame(f) {
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return false;
    }
    ws.send(JSON.stringify(f));
    return true;
  }

  // flush sends the messages not sent yet, in order. Until the server has named the conversation (ack), only
  // one message is sent, so that two quick messages do not start two conversations.
  function flush() {
    for (var k in inflight) {
      if (!Object.prototype.hasOwnProperty.call(inflight, k)) {
        continue;
      }
      var m = inflight[k];
      if (m.sent) {
        if (!conversationId && !m.acked) {
          return;
        }
        continue;
      }
      var f = { type: "message", id: k, text: m.text };
      if (conversationId) {
        f.conversation_id = conversationId;
      }
      if (!sendFrame(f)) {
        return;
      }
      m.sent = true;
      if (!conversationId) {
        return;
      }
    }
  }

  function onFrame(f) {
    var m = f.id ? inflight[f.id] : null;
    switch (f.type) {
      case "hello":
        attempts = 0;
        updateStarters(f.starters);
        if (typeof f.max_chars === "number" && f.max_chars > 0) {
          maxChars = f.max_chars;
          updateCounter();
        }
        setStatus("open", "Đang trực tuyến");
        clearInterval(pingTimer);
        pingTimer = setInterval(function () { sendFrame({ type: "ping" }); }, PING_EVERY);
        if (conversationId) {
          historyPending = true;
          sendFrame({ type: "history", conversation_id: conversationId });
        } else {
          flush();
        }
        break;
      case "ack":
        if (m) {
          m.acked = true;
          if (typeof f.conversation_id === "string" && f.conversation_id) {
            conversationId = f.conversation_id;
          }
          m.userEl.setAttribute("data-state", "sent");
          flush();
        }
        break;
      case "typing":
        if (m && !m.el) {
          m.el = el("div", "msg assistant");
          m.el.setAttribute("data-role", "assistant");
          m.el.setAttribute("data-state", "typing");
          m.el.setAttribute("data-deltas", "0");
          m.el.appendChild(el("p", "text typing", "Đang soạn câu trả lời…"));
          log.appendChild(m.el);
          scrollToStart(m.el);
        }
        break;
      case "delta":
        if (m && typeof f.text === "string") {
          if (!m.el) {
            onFrame({ type: "typing", id: f.id });
          }
          if (m.el.getAttribute("data-state") !== "streaming") {
            m.el.setAttribute("data-state", "streaming");
            m.streamed = "";
          }
          m.streamed += f.text;
          m.el.replaceChild(markdown(m.streamed, "text"), m.el.firstChild);
          m.deltas = (m.deltas || 0) + 1;
          m.el.setAttribute("data-deltas", String(m.deltas));
          scrollToStart(m.el);
        }
        break;
      case "answer":
        if (m) {
          answered(f.id, m, f);
        }
        break;
      case "error":
        onError(f, m);
        break;
      case "history":
        onHistory(f);
        break;
      case "feedback_ok":
        markFeedback(f.message_id);
        break;
    }
  }

  function answered(cid, m, f) {
    delete inflight[cid];
    if (typeof f.conversation_id === "string" && f.conversation_id) {
      conversationId = f.conversation_id;
    }
    var a = {
      role: "assistant",
      text: typeof f.text === "string" ? f.text : "",
      id: typeof f.message_id === "number" ? f.message_id : 0,
      citations: Array.isArray(f.citations) ? f.citations : [],
      options: Array.isArray(f.options) ? f.options : [],
      suggestions: Array.isArray(f.suggestions) ? f.suggestions : [],
      feedback: 0
    };
    messages.push({ role: "user", text: m.text });
    messages.push(a);
    var c = validCentre(f.contact);
    if (c) {
      centre = c;
      renderContact();
    }
    m.userEl.setAttribute("data-state", "sent");
    if (!m.el) {
      m.el = el("div", "msg assistant");
      m.el.setAttribute("data-role", "assistant");
      m.el.setAttribute("data-deltas", "0");
      log.appendChild(m.el);
    }
    dropChoices();
    fillAssistant(m.el, a, true);
    save();
    scrollToStart(m.el);
  }

  function onError(f, m) {
    var text = typeof f.message === "string" && f.message ? f.message : "Đã có lỗi xảy ra, vui lòng thử lại sau.";
    if (!m) {
      historyPending = false;
    }
    if ((f.code === "bad_conversation" || f.code === "not_found") && conversationId) {
      // The stored conversation is gone (retention, deleted): start a new one, sending the message again.
      conversationId = "";
      historyPending = false;
      save();
      if (m) {
        m.sent = false;
      }
      flush();
      return;
    }
    if (m) {
      failMessage(f.id, m);
    }
    notice(text);
    // Messages held back until this one named the conversation go out now.
    flush();
  }

  // failMessage marks the question of client id cid as failed and offers to send it again.
  function failMessage(cid, m) {
    delete inflight[cid];
    m.userEl.setAttribute("data-state", "failed");
    var retry = el("button", "retry", "Gửi lại");
    retry.type = "button";
    retry.addEventListener("click", function () {
      if (m.userEl.parentNode) {
        m.userEl.parentNode.removeChild(m.userEl);
      }
      send(m.text);
    });
    m.userEl.appendChild(retry);
    if (m.el && m.el.parentNode) {
      m.el.parentNode.removeChild(m.el);
    }
  }

  function onHistory(f) {
    historyPending = false;
    if (f.conversation_id !== conversationId || !Array.isArray(f.messages)) {
      flush();
      return;
    }
    // The server's history is authoritative; the stored copy adds what it does not keep (citation names and
    // links, quick replies).
    var local = {};
    messages.forEach(function (m) {
      if (m.role === "assistant" && m.id) {
        local[m.id] = m;
      }
    });
    messages = f.messages.filter(function (h) {
      return h && (h.role === "user" || h.role === "assistant") && typeof h.text === "string";
    }).map(function (h) {
      var m = { role: h.role, text: h.text };
      if (h.role === "assistant") {
        var l = local[h.id] || {};
        m.id = typeof h.id === "number" ? h.id : 0;
        m.feedback = typeof h.feedback === "number" ? h.feedback : 0;
        m.feedbackReason = typeof h.feedback_reason === "string" ? h.feedback_reason : "";
        m.citations = l.citations || (Array.isArray(h.citations) ? h.citations : []);
        m.options = l.options || [];
        m.suggestions = l.suggestions || [];
        if (!m.citations.length && Array.isArray(h.codes)) {
          m.codes = h.codes;
        }
      }
      return m;
    });
    // Messages the server accepted before the connection dropped are in the history if they were answered.
    for (var k in inflight) {
      if (Object.prototype.hasOwnProperty.call(inflight, k) && inflight[k].acked) {
        delete inflight[k];
      }
    }
    host.setAttribute("data-history", String(messages.length));
    save();
    renderAll();
    flush();
  }

  // sendFeedback sends 👍/👎 (with the reason of a 👎, or "") on the answer m rendered in box.
  function sendFeedback(m, value, reason, box) {
    if (!m.id) {
      return;
    }
    var f = { type: "feedback", conversation_id: conversationId, message_id: m.id, value: value };
    if (reason) {
      f.reason = reason;
    }
    if (!sendFrame(f)) {
      notice("Chưa gửi được đánh giá vì mất kết nối, vui lòng thử lại.");
      return;
    }
    m.feedback = value;
    m.feedbackReason = reason;
    var bs = box.querySelectorAll(".feedback button");
    for (var i = 0; i < bs.length; i++) {
      bs[i].setAttribute("aria-pressed", Number(bs[i].getAttribute("data-value")) === value ? "true" : "false");
    }
    var chips = box.querySelector(".reasons");
    if (value === -1 && !chips) {
      renderReasons(box, m);
    } else if (value !== -1 && chips) {
      box.removeChild(chips);
    }
    var rs = box.querySelectorAll(".reason");
    for (var j = 0; j < rs.length; j++) {
      rs[j].setAttribute("aria-pressed", rs[j].getAttribute("data-reason") === reason ? "true" : "false");
    }
    save();
  }

  function markFeedback(id) {
    var e = log.querySelector('[data-message-id="' + Number(id) + '"]');
    if (e) {
      e.setAttribute("data-feedback-ok", "true");
    }
  }

  // Sending.
  function send(text) {
    text = String(text).trim();
    if (!text) {
      return;
    }
    var n = Array.from(text).length;
    if (n > maxChars) {
      notice("Câu hỏi dài " + n + " ký tự, quá giới hạn: vui lòng rút gọn (tối đa " + maxChars + " ký tự).");
      return false;
    }
    dropStarters();
    seq++;
    var cid = "w" + Date.now().toString(36) + "-" + seq;
    var userEl = renderUser({ text: text });
    userEl.setAttribute("data-state", "pending");
    inflight[cid] = { text: text, userEl: userEl, el: null, sent: false, acked: false };
    scrollDown();
    if (refusedText) {
      failMessage(cid, inflight[cid]);
      notice(refusedText);
      return true;
    }
    if (!ws) {
      connect();
    } else if (wsState === "open" && !historyPending) {
      flush();
    }
    return true;
  }

  // submit sends the question typed; one over the limit stays in the box, with the counter and a notice.
  function submit() {
    var t = input.value;
    if (!t.trim()) {
      return;
    }
    if (send(t) === false) {
      return;
    }
    input.value = "";
    updateCounter();
  }

  // updateCounter grows the question box with its text (up to its CSS max-height) and shows the character
  // count near the limit, in red with what to do beyond it.
  function updateCounter() {
    input.style.height = "auto";
    input.style.height = input.scrollHeight + 2 + "px";
    var n = Array.from(input.value.trim()).length; // as send counts
    counter.hidden = n < maxChars * COUNTER_FROM;
    counter.classList.toggle("over", n > maxChars);
    counter.textContent = n > maxChars
      ? n + "/" + maxChars + " ký tự — quá " + (n - maxChars) + " ký tự, vui lòng rút gọn trước khi gửi."
      : n + "/" + maxChars + " ký tự";
    input.setAttribute("aria-invalid", n > maxChars ? "true" : "false");
  }

  // newConversation forgets the conversation (the server keeps it until retention) and starts afresh.
  function newConversation() {
    conversationId = "";
    messages = [];
    centre = null;
    renderContact();
    inflight = {};
    historyPending = false;
    save();
    renderAll();
    input.value = "";
    updateCounter();
    host.setAttribute("data-history", "");
    input.focus();
  }

  // Opening and closing.
  function openPanel() {
    panel.hidden = false;
    wrap.classList.add("open");
    bubble.setAttribute("aria-expanded", "true");
    host.setAttribute("data-open", "true");
    if (!opened) {
      opened = true;
      renderAll(); // once the panel is laid out, so that it can scroll to the last answer's start
    }
    connect();
    input.focus();
    updateCounter();
  }

  function closePanel() {
    panel.hidden = true;
    wrap.classList.remove("open");
    bubble.setAttribute("aria-expanded", "false");
    host.setAttribute("data-open", "false");
    bubble.focus();
  }

  bubble.addEventListener("click", function () {
    if (panel.hidden) {
      openPanel();
    } else {
      closePanel();
    }
  });
  closeBtn.addEventListener("click", closePanel);
  newBtn.addEventListener("click", newConversation);
  sendBtn.addEventListener("click", submit);
  input.addEventListener("input", updateCounter);
  // Enter sends, Shift+Enter starts a new line. Virtual keyboards that do not report the key on keydown still
  // announce the line break as an input event, which is turned into a send too.
  var lineBreakAllowed = false;
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.isComposing) {
      lineBreakAllowed = e.shiftKey;
      if (!e.shiftKey) {
        e.preventDefault();
        submit();
      }
    }
  });
  input.addEventListener("beforeinput", function (e) {
    if (e.inputType === "insertLineBreak" || e.inputType === "insertParagraph") {
      if (lineBreakAllowed) {
        lineBreakAllowed = false;
        return;
      }
      e.preventDefault();
      submit();
    }
  });
  // Back online: reconnect now rather than at the end of the backoff.
  window.addEventListener("online", function () {
    if (!ws && opened) {
      connect();
    }
  });
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      e.preventDefault();
      closePanel();
    }
  });

  // A small API for the page: open and close the panel; drop closes the connection as a network failure would
  // (the widget then reconnects with backoff), for diagnostics and tests.
  window.__trolyaoWidget = {
    version: 1,
    open: openPanel,
    close: closePanel,
    drop: function () {
      if (ws) {
        ws.close();
      }
    }
  };
  load();
  renderContact();

  function mount() {
    document.body.appendChild(host);
    if (attr("open") === "true") {
      openPanel();
    }
  }
  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
})();
