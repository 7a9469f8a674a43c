/*!
 * Mesotherapy FAQ assistant: embeddable web chat widget (vanilla JS, no dependencies, no build step).
 *
 *   <script src="https://YOUR-ASSISTANT/webhooks/webchat/widget.js" async
 *           data-primary-color="#0b5c6b" data-position="right"></script>
 *
 * Data attributes (all optional): data-server, data-clinic-name, data-privacy-url,
 * data-primary-color, data-position ("right" | "left"). See widget/README.md.
 *
 * Everything lives in an open Shadow DOM, so the page's CSS cannot reach it. Server and patient text
 * is only ever set with textContent (never innerHTML). Nothing is sent to the server before the
 * patient agrees to the privacy notice; every message then carries `consent: true`.
 *
 * The server issues the chat's session (POST session, once the patient has agreed and first writes);
 * the widget keeps it in localStorage, so the chat survives a reload and a closed tab (a clinician's
 * reply waits in it), and sends it only in the `Authorization` header: never in a URL, never as a
 * cookie (so no other site can make the browser send it). An ended session (401) starts a new chat.
 *
 * The widget writes no safety wording of its own: the disclaimer, the urgent-care notes and the
 * handoff / emergency banners come from the server (`config.texts`, from actions/safety/texts.yml),
 * and replies are shown as the server sends them. The clinic's emergency number and phone are
 * `tel:` links wherever they appear.
 *
 * Under each curated answer (the server marks it `rateable`) the patient can give a thumbs up or down
 * (POST feedback, with the session); a thumbs down opens an optional "What was missing?" note. Never
 * under emergencies, handoffs, small talk or staff replies: the server decides which messages qualify.
 *
 * While a person is looking after the chat (a handoff, not an emergency: then the patient is told to call
 * for urgent help, not to wait for a call), the widget asks "Would you like the clinic to call you?"; "Leave
 * my number" opens a small form (name, phone number, a consent checkbox) sent with POST contact. The number
 * is never kept in the browser: only that one was left.
 */
(function () {
  "use strict";

  if (window.__mesoWebchatLoaded) return;
  window.__mesoWebchatLoaded = true;

  var script =
    document.currentScript ||
    document.querySelector('script[src*="/webchat/widget.js"]') ||
    document.querySelector('script[src*="widget.js"]');
  var attrs = (script && script.dataset) || {};

  var BASE = serverBase();
  var STORE_KEY = "meso-webchat:" + BASE;
  var OPEN_KEY = STORE_KEY + ":open";
  var POLL_FAST = 3000; // while handed off or while the panel is open
  var POLL_SLOW = 20000; // otherwise (unread badge)
  var POST_TIMEOUT = 45000;
  var GET_TIMEOUT = 15000;
  var BACKOFF_MAX = 30000;
  var MAX_LEN = 10000;
  var COMMENT_LEN = 500; // a feedback note ("What was missing?"), as the server keeps it
  var NAME_LEN = 80; // a call-back name and number, as the server takes them
  var PHONE_LEN = 32;
  var SVG_NS = "http://www.w3.org/2000/svg";

  var local = safeStorage("localStorage");
  var session = safeStorage("sessionStorage");

  function serverBase() {
    var server = (attrs.server || "").trim();
    var base;
    try {
      if (server) {
        base = new URL(server, document.baseURI).href.replace(/\/+$/, "");
        if (!/\/webhooks\/webchat$/.test(base)) base += "/webhooks/webchat";
        return base + "/";
      }
      if (script && script.src) return new URL(".", script.src).href;
    } catch (e) {
      /* fall through */
    }
    return new URL("/webhooks/webchat/", location.href).href;
  }

  function safeStorage(name) {
    try {
      var s = window[name];
      s.setItem("__mw_probe", "1");
      s.removeItem("__mw_probe");
      return s;
    } catch (e) {
      var mem = {};
      return {
        getItem: function (k) {
          return Object.prototype.hasOwnProperty.call(mem, k) ? mem[k] : null;
        },
        setItem: function (k, v) {
          mem[k] = String(v);
        },
        removeItem: function (k) {
          delete mem[k];
        },
      };
    }
  }

  function loadSaved() {
    try {
      var v = JSON.parse(local.getItem(STORE_KEY) || "null");
      if (v && typeof v === "object") return v;
    } catch (e) {
      /* ignore */
    }
    return {};
  }

  function save() {
    try {
      local.setItem(STORE_KEY, JSON.stringify(state.saved));
    } catch (e) {
      /* storage full or blocked: the chat still works for this page view */
    }
  }

  // ---------------------------------------------------------------- state

  var state = {
    config: {
      clinic_name: attrs.clinicName || "",
      privacy_url: attrs.privacyUrl || "",
      emergency_number: "",
      phone: "",
    },
    texts: {}, // the widget's fixed safety wording, from the server's config (see renderTexts)
    saved: loadSaved(), // {consent: "agreed" | "declined", session (from the server), agreed_at}
    open: false,
    cursor: 0,
    seen: {},
    handoff: false,
    emergency: false, // handed off because of warning signs: the banner says to call now
    sending: false,
    outbox: [], // {text, display, id, tries, el, statusEl, status: queued | sending | failed}
    lost: false,
    backoff: 1000,
    reconnectTimer: 0,
    pollTimer: 0,
    connTimer: 0,
    epoch: 0,
    unread: 0,
    starting: null, // the request for a new session, while it is on its way
  };
  delete state.saved.session_id; // made by an older widget in the browser: the server no longer accepts it

  function agreed() {
    return state.saved.consent === "agreed";
  }

  function hasSession() {
    return agreed() && typeof state.saved.session === "string" && state.saved.session !== "";
  }

  // ---------------------------------------------------------------- colours

  function rgbOf(value) {
    if (!value) return null;
    try {
      var canvas = document.createElement("canvas");
      canvas.width = canvas.height = 1;
      var ctx = canvas.getContext("2d");
      if (!ctx) return null;
      ctx.fillStyle = "#010203";
      ctx.fillStyle = value;
      if (ctx.fillStyle === "#010203" && !/^#?010203$/i.test(value.trim())) return null; // invalid colour
      ctx.fillRect(0, 0, 1, 1);
      var d = ctx.getImageData(0, 0, 1, 1).data;
      if (d[3] < 255) return null; // only opaque colours: contrast must be predictable
      return [d[0], d[1], d[2]];
    } catch (e) {
      return null;
    }
  }

  function luminance(rgb) {
    var c = rgb.map(function (v) {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }

  function contrast(a, b) {
    var la = luminance(a);
    var lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  function css(rgb) {
    return "rgb(" + rgb.join(",") + ")";
  }

  function palette() {
    var primary = rgbOf(attrs.primaryColor) || [11, 92, 107]; // #0b5c6b
    var white = [255, 255, 255];
    var ink = [17, 17, 17];
    var onPrimary = contrast(primary, white) >= contrast(primary, ink) ? white : ink;
    var bubble = [241, 243, 245];
    // links and option buttons sit on white / light grey: use the brand colour only if it is dark enough
    var link = contrast(primary, bubble) >= 4.5 ? primary : [26, 79, 139];
    return { primary: css(primary), onPrimary: css(onPrimary), link: css(link) };
  }

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function icon(kind, size) {
    var paths = {
      chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
      close: "M6 6l12 12M18 6L6 18",
      warning: "M12 3l10 18H2L12 3zM12 10v5M12 18v.01",
      person: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0",
      up: "M7 11v10H4a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1h3l4-8a2.5 2.5 0 0 1 2.5 2.5V9h5.4a2 2 0 0 1 2 2.3l-1.3 8A2 2 0 0 1 17.6 21H7",
      down: "M17 13V3h3a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1h-3l-4 8a2.5 2.5 0 0 1-2.5-2.5V15H5.1a2 2 0 0 1-2-2.3l1.3-8A2 2 0 0 1 6.4 3H17",
    };
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", String(size || 20));
    svg.setAttribute("height", String(size || 20));
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", paths[kind]);
    path.setAttribute("fill", kind === "chat" ? "currentColor" : "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", kind === "chat" ? "0" : "2.2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.appendChild(path);
    return svg;
  }

  /**
   * A `tel:` href for a configured number ("112 (example: ...)", "+91 00000 00000"): the leading
   * number only, digits and a leading + only; "" when there is none.
   */
  function telHref(number) {
    var m = /^\s*(\+?)(\d[\d\s.\-]*)/.exec(String(number || ""));
    if (!m) return "";
    var digits = m[2].replace(/\D/g, "");
    return digits ? "tel:" + m[1] + digits : "";
  }

  /** The number as a tel: link (its text set with textContent), or plain text when it has no digits. */
  function telLink(number) {
    var href = telHref(number);
    if (!href) return document.createTextNode(number);
    var a = el("a", "tel", number);
    a.href = href;
    return a;
  }

  /** Text with the clinic's emergency number and phone as tel: links and http(s) links clickable. */
  function linkified(text) {
    var frag = document.createDocumentFragment();
    var numbers = [state.config.emergency_number, state.config.phone]
      .filter(function (n) {
        return n && telHref(n);
      })
      .sort(function (a, b) {
        return b.length - a.length;
      });
    var rest = String(text || "");
    while (rest) {
      var at = -1;
      var found = "";
      numbers.forEach(function (n) {
        var i = rest.indexOf(n);
        if (i >= 0 && (at < 0 || i < at)) {
          at = i;
          found = n;
        }
      });
      if (at < 0) {
        frag.appendChild(urlsLinked(rest));
        break;
      }
      if (at > 0) frag.appendChild(urlsLinked(rest.slice(0, at)));
      frag.appendChild(telLink(found));
      rest = rest.slice(at + found.length);
    }
    return frag;
  }

  /** Text with http(s) links made clickable, built from text nodes and <a> elements only. */
  function urlsLinked(text) {
    var frag = document.createDocumentFragment();
    var re = /https?:\/\/[^\s<>"')\]]+/g;
    var last = 0;
    var m;
    while ((m = re.exec(text))) {
      var url = m[0].replace(/[.,;:!?]+$/, "");
      if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
      var a = el("a", "", url);
      a.href = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      frag.appendChild(a);
      last = m.index + url.length;
      re.lastIndex = last;
    }
    if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  var STYLE = [
    ":host{all:initial}",
    "*,*::before,*::after{box-sizing:border-box}",
    ".root{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;font-size:16px;line-height:1.45;color:#1a1a1a;-webkit-text-size-adjust:100%;text-align:left;letter-spacing:normal}",
    ".sr-only{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}",
    "button,textarea{font:inherit;margin:0}",
    "button{cursor:pointer;-webkit-appearance:none;appearance:none}",
    "a{color:var(--mw-link);text-decoration:underline}",
    ":focus{outline:none}",
    ":focus-visible{outline:3px solid #111;outline-offset:2px;box-shadow:0 0 0 2px #fff}",
    "[hidden]{display:none!important}",
    "svg{flex:none}",
    // launcher
    ".launcher{position:fixed;bottom:16px;right:16px;z-index:2147483000;display:inline-flex;align-items:center;gap:8px;min-height:52px;min-width:52px;padding:10px 20px 10px 16px;border:2px solid var(--mw-on-primary);border-radius:999px;background:var(--mw-primary);color:var(--mw-on-primary);font-weight:700;font-size:16px;box-shadow:0 4px 16px rgba(0,0,0,.3)}",
    ".pos-left .launcher{right:auto;left:16px}",
    ".badge{display:inline-flex;align-items:center;justify-content:center;min-width:24px;height:24px;padding:0 6px;border-radius:12px;background:#b3001b;color:#fff;font-size:14px;font-weight:700}",
    // panel
    ".panel{position:fixed;bottom:84px;right:16px;z-index:2147483001;width:390px;max-width:calc(100vw - 32px);height:620px;max-height:calc(100vh - 100px);display:flex;flex-direction:column;background:#fff;color:#1a1a1a;border:1px solid #8a9097;border-radius:14px;box-shadow:0 10px 36px rgba(0,0,0,.3);overflow:hidden}",
    ".pos-left .panel{right:auto;left:16px}",
    ".panel.compact{height:auto}",
    "@media (max-width:480px),(max-height:520px){.panel,.panel.compact,.pos-left .panel{top:0;left:0;right:0;bottom:0;width:100%;max-width:none;height:100%;max-height:none;border:0;border-radius:0}.launcher[aria-expanded=true]{display:none}}",
    ".header{flex:none;display:flex;align-items:center;gap:8px;padding:8px 8px 8px 16px;background:var(--mw-primary);color:var(--mw-on-primary)}",
    ".titles{min-width:0;flex:1}",
    ".title{margin:0;font-size:17px;font-weight:700;line-height:1.3;overflow-wrap:anywhere}",
    ".subtitle{margin:0;font-size:14px;line-height:1.3}",
    ".icon-btn{flex:none;display:inline-flex;align-items:center;justify-content:center;min-width:44px;min-height:44px;border:0;border-radius:10px;background:transparent;color:inherit}",
    ".icon-btn:hover{background:rgba(127,127,127,.25)}",
    ".handoff-banner{flex:none;display:flex;gap:10px;align-items:flex-start;padding:10px 16px;background:#fff3cd;color:#3b2a00;border-bottom:2px solid #b08900;font-size:15px}",
    ".handoff-banner strong{display:block}",
    ".handoff-banner.emergency{background:#fff0f1;color:#2e0007;border-bottom:3px solid #b3001b}",
    ".conn{flex:none;padding:8px 16px;font-size:15px;font-weight:700}",
    ".conn:empty{padding:0}",
    ".conn.lost{background:#fde7e9;color:#7a0012}",
    ".conn.back{background:#e3f4e8;color:#0b4a1d}",
    ".scroll{flex:1 1 auto;min-height:0;overflow-y:auto;overscroll-behavior:contain}",
    ".notice{padding:18px 18px 20px}",
    ".notice h3{margin:0 0 10px;font-size:18px;line-height:1.3}",
    ".notice p{margin:0 0 10px}",
    ".notice .privacy{display:inline-flex;align-items:center;min-height:44px;font-weight:600}",
    ".notice .urgent-note{padding:10px 12px;border-left:4px solid #b3001b;background:#fff5f5;color:#3b0008}",
    ".actions{display:flex;flex-wrap:wrap;gap:10px;margin-top:14px}",
    ".btn{min-height:44px;padding:10px 18px;border-radius:10px;font-weight:700;font-size:16px}",
    ".btn-primary{border:2px solid var(--mw-primary);background:var(--mw-primary);color:var(--mw-on-primary)}",
    ".btn-secondary{border:2px solid #5f6368;background:#fff;color:#1a1a1a}",
    ".log{display:flex;flex-direction:column;gap:10px;padding:14px 14px 8px;min-height:100%}",
    ".log:focus-visible{outline-offset:-3px;box-shadow:none}",
    ".empty-hint{margin:auto 0 0;color:#4a4f55;font-size:15px}",
    ".msg{max-width:88%;padding:10px 14px;border-radius:16px;overflow-wrap:anywhere;word-break:break-word}",
    ".msg p{margin:0;white-space:pre-wrap}",
    ".msg p+p{margin-top:8px}",
    ".msg.user{align-self:flex-end;background:var(--mw-primary);color:var(--mw-on-primary);border-bottom-right-radius:4px}",
    ".msg.bot{align-self:flex-start;background:#f1f3f5;color:#1a1a1a;border-bottom-left-radius:4px}",
    ".msg.staff{align-self:flex-start;background:#e8f0fb;color:#10233a;border:2px solid #2b5f99;border-bottom-left-radius:4px}",
    ".msg.kind-handoff.bot{border-left:5px solid #b08900}",
    ".msg .disclaimer{font-size:14px;color:#474c52}",
    ".msg.kind-emergency{align-self:stretch;max-width:100%;background:#fff0f1;color:#2e0007;border:3px solid #b3001b;border-radius:12px}",
    ".msg.kind-emergency .disclaimer{color:#4d1a21}",
    ".urgent-head{display:flex;align-items:center;gap:8px;margin:0 0 8px;color:#a3001a;font-weight:800;font-size:17px;text-transform:uppercase;letter-spacing:.02em}",
    ".who{display:flex;align-items:center;gap:6px;margin:0 0 4px;font-size:14px;font-weight:700}",
    ".options{display:flex;flex-wrap:wrap;gap:8px;margin-top:10px}",
    ".option{min-height:44px;padding:8px 16px;border:2px solid var(--mw-link);border-radius:22px;background:#fff;color:var(--mw-link);font-weight:700;font-size:15px;text-align:left}",
    ".option:hover:not(:disabled){background:#eef3f8}",
    ".option:disabled{cursor:default;border-color:#9aa0a6;color:#5f6368;background:#f8f9fa}",
    ".outgoing{align-self:flex-end;display:flex;flex-direction:column;align-items:flex-end;max-width:88%}",
    ".outgoing .msg{max-width:100%}",
    ".outgoing.waiting .msg{opacity:.8}",
    ".send-status{display:flex;align-items:center;gap:8px;flex-wrap:wrap;justify-content:flex-end;margin-top:4px;font-size:14px;color:#474c52}",
    ".outgoing.failed .send-status{color:#7a0012;font-weight:700}",
    ".link-btn{min-height:44px;padding:0 10px;border:2px solid currentColor;border-radius:10px;background:#fff;color:var(--mw-link);font-weight:700;font-size:14px}",
    ".typing{flex:none;display:flex;align-items:center;gap:10px;padding:4px 16px 6px;color:#474c52;font-size:14px}",
    ".dots{display:inline-flex;gap:4px}",
    ".dots span{width:8px;height:8px;border-radius:50%;background:#5f6368;animation:mw-bounce 1.2s infinite ease-in-out}",
    ".dots span:nth-child(2){animation-delay:.15s}.dots span:nth-child(3){animation-delay:.3s}",
    "@keyframes mw-bounce{0%,80%,100%{transform:translateY(0);opacity:.5}40%{transform:translateY(-4px);opacity:1}}",
    "@media (prefers-reduced-motion:reduce){.dots span{animation:none}}",
    ".composer{flex:none;display:flex;align-items:flex-end;gap:8px;padding:10px 12px 6px;border-top:1px solid #c4c7cc;background:#fff}",
    ".input{flex:1;min-width:0;min-height:46px;max-height:140px;resize:none;padding:10px 12px;border:2px solid #6b7177;border-radius:10px;background:#fff;color:#1a1a1a;font-size:16px;line-height:1.4}",
    ".input::placeholder{color:#5f6368;opacity:1}",
    ".send{flex:none;min-width:64px;min-height:46px;padding:0 16px;border:2px solid var(--mw-primary);border-radius:10px;background:var(--mw-primary);color:var(--mw-on-primary);font-weight:700;font-size:16px}",
    ".footer{flex:none;display:flex;flex-wrap:wrap;align-items:center;gap:0 14px;padding:0 12px 4px;font-size:13px;color:#474c52;background:#fff}",
    ".footer a,.footer .plain-btn{display:inline-flex;align-items:center;min-height:44px;font-size:13px}",
    ".plain-btn{padding:0;border:0;background:none;color:var(--mw-link);text-decoration:underline}",
    // feedback under a curated answer
    ".feedback{align-self:flex-start;display:flex;flex-wrap:wrap;align-items:center;gap:6px;max-width:88%;margin-top:-4px;font-size:14px;color:#474c52}",
    ".fb-question{margin-right:2px}",
    ".thumb{display:inline-flex;align-items:center;justify-content:center;min-width:44px;min-height:44px;padding:0 10px;border:2px solid #6b7177;border-radius:22px;background:#fff;color:#3c4043}",
    ".thumb:hover:not(:disabled){background:#eef3f8}",
    ".thumb[aria-pressed=true]{border-color:var(--mw-link);background:var(--mw-link);color:#fff}",
    ".thumb:disabled{cursor:progress}",
    ".fb-status{flex-basis:100%;color:#2f3337}",
    ".fb-status:empty{display:none}",
    ".fb-more{flex-basis:100%;display:flex;flex-direction:column;gap:6px;padding:10px 12px;border:1px solid #c4c7cc;border-radius:12px;background:#fff}",
    ".fb-more label{font-weight:700;color:#1a1a1a}",
    ".fb-more textarea{min-height:64px;resize:vertical;padding:8px 10px;border:2px solid #6b7177;border-radius:10px;background:#fff;color:#1a1a1a;font-size:15px;line-height:1.4}",
    ".fb-hint{margin:0;color:#474c52}",
    ".fb-actions{display:flex;flex-wrap:wrap;gap:8px}",
    ".fb-actions .btn{min-height:44px;padding:6px 14px;font-size:15px}",
    // the call-back offer at a handoff
    ".callback{margin:0 14px 14px;padding:12px 14px;border:2px solid #2b5f99;border-radius:12px;background:#f5f8fc;color:#10233a;font-size:15px}",
    ".callback p{margin:0 0 8px}",
    ".callback .actions{margin-top:4px}",
    ".cb-form{display:flex;flex-direction:column;gap:8px}",
    ".cb-form label{font-weight:700;color:#1a1a1a}",
    ".cb-form input[type=text],.cb-form input[type=tel]{min-height:44px;padding:8px 10px;border:2px solid #6b7177;border-radius:10px;background:#fff;color:#1a1a1a;font:inherit}",
    ".cb-consent{display:flex;gap:10px;align-items:flex-start;font-weight:400!important}",
    ".cb-consent input{flex:none;width:22px;height:22px;margin:2px 0 0}",
    ".cb-status{margin:0;font-weight:700}",
    ".cb-status:empty{display:none}",
    ".cb-status.error{color:#7a0012}",
  ].join("\n");

  // ---------------------------------------------------------------- build

  var host = document.createElement("meso-chat-widget");
  host.setAttribute("style", "all:initial!important;display:block!important;position:static!important");
  var root = host.attachShadow({ mode: "open" });
  var styleEl = el("style");
  styleEl.textContent = STYLE;
  root.appendChild(styleEl);

  var colours = palette();
  var wrap = el("div", "root " + (attrs.position === "left" ? "pos-left" : "pos-right"));
  wrap.style.setProperty("--mw-primary", colours.primary);
  wrap.style.setProperty("--mw-on-primary", colours.onPrimary);
  wrap.style.setProperty("--mw-link", colours.link);
  root.appendChild(wrap);

  var launcher = el("button", "launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "mw-panel");
  launcher.appendChild(icon("chat", 22));
  var launcherText = el("span", "", "Questions? Chat with us");
  launcher.appendChild(launcherText);
  var badge = el("span", "badge");
  badge.hidden = true;
  badge.setAttribute("aria-hidden", "true");
  launcher.appendChild(badge);
  var badgeSr = el("span", "sr-only");
  launcher.appendChild(badgeSr);

  var panel = el("section", "panel");
  panel.id = "mw-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-modal", "false");
  panel.setAttribute("aria-labelledby", "mw-title");

  var header = el("div", "header");
  var titles = el("div", "titles");
  var title = el("h2", "title");
  title.id = "mw-title";
  var subtitle = el("p", "subtitle");
  titles.appendChild(title);
  titles.appendChild(subtitle);
  var closeBtn = el("button", "icon-btn close");
  closeBtn.type = "button";
  closeBtn.setAttribute("aria-label", "Close chat");
  closeBtn.appendChild(icon("close", 24));
  header.appendChild(titles);
  header.appendChild(closeBtn);

  var handoffBanner = el("div", "handoff-banner");
  handoffBanner.setAttribute("role", "status");
  handoffBanner.hidden = true;
  var bannerIcons = { handoff: icon("person", 22), emergency: icon("warning", 22) };
  handoffBanner.appendChild(bannerIcons.handoff);
  handoffBanner.appendChild(bannerIcons.emergency);
  var handoffText = el("div");
  var bannerTitle = el("strong");
  var bannerBody = el("span");
  handoffText.appendChild(bannerTitle);
  handoffText.appendChild(bannerBody);
  handoffBanner.appendChild(handoffText);

  var conn = el("div", "conn");
  conn.setAttribute("role", "status");
  conn.setAttribute("aria-live", "polite");

  var scroll = el("div", "scroll");

  // consent notice
  var consentView = el("div", "notice consent");
  consentView.setAttribute("tabindex", "-1");
  consentView.id = "mw-consent";
  var consentHeading = el("h3", "", "Before we start");
  var consentText = el("p");
  var privacyLine = el("p");
  var privacyLink = el("a", "privacy", "Read our privacy notice");
  privacyLink.target = "_blank";
  privacyLink.rel = "noopener noreferrer";
  privacyLine.appendChild(privacyLink);
  var consentUrgent = el("p", "urgent-note");
  var consentActions = el("div", "actions");
  var agreeBtn = el("button", "btn btn-primary", "I agree, start the chat");
  agreeBtn.type = "button";
  var declineBtn = el("button", "btn btn-secondary", "No thanks");
  declineBtn.type = "button";
  consentActions.appendChild(agreeBtn);
  consentActions.appendChild(declineBtn);
  [consentHeading, consentText, privacyLine, consentUrgent, consentActions].forEach(function (n) {
    consentView.appendChild(n);
  });

  // declined note
  var declinedView = el("div", "notice declined");
  declinedView.setAttribute("tabindex", "-1");
  declinedView.hidden = true;
  var declinedHeading = el("h3", "", "The chat is off");
  var declinedText = el("p");
  var declinedUrgent = el("p", "urgent-note");
  var declinedActions = el("div", "actions");
  var reviewBtn = el("button", "btn btn-secondary", "Show the privacy notice again");
  reviewBtn.type = "button";
  declinedActions.appendChild(reviewBtn);
  [declinedHeading, declinedText, declinedUrgent, declinedActions].forEach(function (n) {
    declinedView.appendChild(n);
  });

  // conversation
  var log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-relevant", "additions");
  log.setAttribute("aria-label", "Conversation");
  log.setAttribute("tabindex", "0");
  log.hidden = true;
  var emptyHint = el("p", "empty-hint", "Ask a question about mesotherapy, for example how long the effects last.");
  log.appendChild(emptyHint);

  scroll.appendChild(consentView);
  scroll.appendChild(declinedView);
  scroll.appendChild(log);

  // the call-back offer, while a person is looking after the chat
  var callback = el("section", "callback");
  callback.setAttribute("aria-labelledby", "mw-cb-title");
  callback.hidden = true;
  var cbAsk = el("p");
  cbAsk.id = "mw-cb-title";
  var cbOpen = el("button", "btn btn-secondary", "Leave my number");
  cbOpen.type = "button";
  var cbOffer = el("div", "actions");
  cbOffer.appendChild(cbOpen);
  var cbForm = el("form", "cb-form");
  cbForm.setAttribute("novalidate", "");
  cbForm.hidden = true;
  var cbNameLabel = el("label", "", "Your name");
  cbNameLabel.setAttribute("for", "mw-cb-name");
  var cbName = el("input");
  cbName.type = "text";
  cbName.id = "mw-cb-name";
  cbName.maxLength = NAME_LEN;
  cbName.setAttribute("autocomplete", "name");
  var cbPhoneLabel = el("label", "", "Phone number");
  cbPhoneLabel.setAttribute("for", "mw-cb-phone");
  var cbPhone = el("input");
  cbPhone.type = "tel";
  cbPhone.id = "mw-cb-phone";
  cbPhone.maxLength = PHONE_LEN;
  cbPhone.setAttribute("autocomplete", "tel");
  cbPhone.setAttribute("inputmode", "tel");
  var cbConsentLabel = el("label", "cb-consent");
  var cbConsent = el("input");
  cbConsent.type = "checkbox";
  cbConsent.id = "mw-cb-consent";
  var cbConsentText = el("span");
  cbConsentLabel.appendChild(cbConsent);
  cbConsentLabel.appendChild(cbConsentText);
  var cbActions = el("div", "actions");
  var cbSend = el("button", "btn btn-primary", "Send my number");
  cbSend.type = "submit";
  var cbCancel = el("button", "btn btn-secondary", "Cancel");
  cbCancel.type = "button";
  cbActions.appendChild(cbSend);
  cbActions.appendChild(cbCancel);
  var cbStatus = el("p", "cb-status");
  cbStatus.setAttribute("role", "status");
  cbStatus.setAttribute("aria-live", "polite");
  [cbNameLabel, cbName, cbPhoneLabel, cbPhone, cbConsentLabel, cbActions].forEach(function (n) {
    cbForm.appendChild(n);
  });
  [cbAsk, cbOffer, cbForm, cbStatus].forEach(function (n) {
    callback.appendChild(n);
  });
  scroll.appendChild(callback);

  var typing = el("div", "typing");
  typing.hidden = true;
  var dots = el("span", "dots");
  dots.setAttribute("aria-hidden", "true");
  dots.appendChild(el("span"));
  dots.appendChild(el("span"));
  dots.appendChild(el("span"));
  typing.appendChild(dots);
  typing.appendChild(el("span", "", "The assistant is typing…"));

  var composer = el("form", "composer");
  composer.setAttribute("novalidate", "");
  composer.hidden = true;
  var inputLabel = el("label", "sr-only", "Your message");
  inputLabel.setAttribute("for", "mw-input");
  var input = el("textarea", "input");
  input.id = "mw-input";
  input.rows = 1;
  input.maxLength = MAX_LEN;
  input.placeholder = "Type your question…";
  input.setAttribute("autocomplete", "off");
  input.setAttribute("aria-describedby", "mw-input-help");
  var inputHelp = el("span", "sr-only", "Press Enter to send, Shift and Enter for a new line.");
  inputHelp.id = "mw-input-help";
  var sendBtn = el("button", "send", "Send");
  sendBtn.type = "submit";
  composer.appendChild(inputLabel);
  composer.appendChild(input);
  composer.appendChild(inputHelp);
  composer.appendChild(sendBtn);

  var footer = el("div", "footer");
  footer.hidden = true;
  var footerPrivacy = el("a", "", "Privacy notice");
  footerPrivacy.target = "_blank";
  footerPrivacy.rel = "noopener noreferrer";
  var forgetBtn = el("button", "plain-btn", "Forget this chat on this device");
  forgetBtn.type = "button";
  footer.appendChild(footerPrivacy);
  footer.appendChild(forgetBtn);

  [header, handoffBanner, conn, scroll, typing, composer, footer].forEach(function (n) {
    panel.appendChild(n);
  });
  // DOM order = focus order: the launcher (a disclosure button), then the panel it opens
  wrap.appendChild(launcher);
  wrap.appendChild(panel);

  // ---------------------------------------------------------------- texts from config

  function clinicName() {
    return state.config.clinic_name || "our clinic";
  }

  /**
   * One of the server's texts with {name}, {phone} and {emergency_number} filled in (the numbers as
   * tel: links), as DOM nodes; empty until the config has arrived.
   */
  function served(key) {
    var frag = document.createDocumentFragment();
    var template = state.texts[key] || "";
    var re = /\{([a-z_]+)\}/g;
    var last = 0;
    var m;
    while ((m = re.exec(template))) {
      if (m.index > last) frag.appendChild(document.createTextNode(template.slice(last, m.index)));
      if (m[1] === "name") frag.appendChild(document.createTextNode(clinicName()));
      else if (m[1] === "emergency_number" || m[1] === "phone") {
        var number = state.config[m[1]];
        if (number) frag.appendChild(telLink(number));
      }
      last = re.lastIndex;
    }
    if (last < template.length) frag.appendChild(document.createTextNode(template.slice(last)));
    return frag;
  }

  function setServed(node, key) {
    while (node.firstChild) node.removeChild(node.firstChild);
    node.appendChild(served(key));
    node.hidden = !state.texts[key];
  }

  function renderTexts() {
    title.textContent = state.config.clinic_name || "Chat with us";
    setServed(subtitle, "subtitle");
    setServed(consentText, "consent_notice");
    setServed(consentUrgent, "urgent_note");
    setServed(declinedUrgent, "urgent_note");
    renderBanner();
    var url = safeUrl(state.config.privacy_url);
    privacyLine.hidden = !url;
    footerPrivacy.hidden = !url;
    if (url) {
      privacyLink.href = url;
      footerPrivacy.href = url;
    }
    while (declinedText.firstChild) declinedText.removeChild(declinedText.firstChild);
    declinedText.appendChild(document.createTextNode("No problem: nothing has been sent. You can reach " + clinicName()));
    if (state.config.phone) {
      declinedText.appendChild(document.createTextNode(" by phone on "));
      declinedText.appendChild(telLink(state.config.phone));
      declinedText.appendChild(document.createTextNode(","));
    }
    declinedText.appendChild(document.createTextNode(" or through the contact details on this website."));
  }

  /** The banner under the header: after an emergency it says to call now, else that a clinician will reply. */
  function renderBanner() {
    var kind = state.emergency ? "emergency" : "handoff";
    handoffBanner.className = "handoff-banner " + kind;
    bannerIcons.handoff.style.display = kind === "handoff" ? "" : "none";
    bannerIcons.emergency.style.display = kind === "emergency" ? "" : "none";
    setServed(bannerTitle, kind + "_title");
    setServed(bannerBody, kind + "_body");
  }

  function safeUrl(value) {
    if (!value) return "";
    try {
      var u = new URL(value, document.baseURI);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : "";
    } catch (e) {
      return "";
    }
  }

  // ---------------------------------------------------------------- views

  function renderView() {
    var view = agreed() ? "chat" : state.saved.consent === "declined" ? "declined" : "consent";
    consentView.hidden = view !== "consent";
    declinedView.hidden = view !== "declined";
    log.hidden = view !== "chat";
    composer.hidden = view !== "chat";
    footer.hidden = view !== "chat";
    panel.classList.toggle("compact", view !== "chat");
    if (view !== "chat") {
      typing.hidden = true;
      handoffBanner.hidden = true;
    } else {
      handoffBanner.hidden = !state.handoff;
    }
    if (view === "consent") panel.setAttribute("aria-describedby", "mw-consent");
    else panel.removeAttribute("aria-describedby");
    return view;
  }

  function focusInitial() {
    var view = renderView();
    if (view === "chat") input.focus();
    else if (view === "declined") declinedView.focus();
    else consentView.focus();
  }

  function openPanel(moveFocus) {
    state.open = true;
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    session.setItem(OPEN_KEY, "1");
    state.unread = 0;
    updateBadge();
    renderView();
    scrollToEnd();
    if (moveFocus) focusInitial();
    if (agreed()) schedulePoll(300);
  }

  function closePanel(returnFocus) {
    state.open = false;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    session.removeItem(OPEN_KEY);
    if (returnFocus) launcher.focus();
    schedulePoll();
  }

  function updateBadge() {
    badge.hidden = state.unread === 0;
    badge.textContent = state.unread > 9 ? "9+" : String(state.unread);
    badgeSr.textContent = state.unread ? " (" + state.unread + " new " + (state.unread === 1 ? "message" : "messages") + ")" : "";
  }

  function setHandoff(on, emergency) {
    state.handoff = !!on;
    state.emergency = !!on && !!emergency;
    renderBanner();
    handoffBanner.hidden = !(state.handoff && agreed());
    renderCallback();
  }

  // ---------------------------------------------------------------- call-back offer

  /** Offered while a person looks after the chat, never in an emergency (the patient must call for help now). */
  function renderCallback() {
    var offered = state.handoff && !state.emergency && hasSession();
    if (!offered) {
      callback.hidden = true;
      return;
    }
    var wasHidden = callback.hidden;
    callback.hidden = false;
    if (!wasHidden) return; // already on show: never reset a half-filled form
    cbForm.hidden = true;
    cbOffer.hidden = false;
    cbAsk.hidden = false;
    cbStatus.className = "cb-status";
    if (state.saved.callback_left) {
      cbAsk.textContent = clinicName() + " has your number and will call you.";
      cbOpen.textContent = "Change my number";
      cbStatus.textContent = "";
    } else {
      cbAsk.textContent = "Would you like the clinic to call you?";
      cbOpen.textContent = "Leave my number";
      cbStatus.textContent = "";
    }
    cbConsentText.textContent =
      "I agree that " + clinicName() + " may call me on this number about my question.";
  }

  function callbackProblem(message, field) {
    cbStatus.className = "cb-status error";
    cbStatus.textContent = message;
    if (field) field.focus();
  }

  function phoneDigits(text) {
    return (text.match(/[0-9]/g) || []).length;
  }

  function sendCallback() {
    var name = cbName.value.replace(/\s+/g, " ").trim();
    var phone = cbPhone.value.replace(/\s+/g, " ").trim();
    if (!name) return callbackProblem("Please give the name the clinic should ask for.", cbName);
    if (!/^\+?[0-9 ().-]+$/.test(phone) || phoneDigits(phone) < 7 || phoneDigits(phone) > 15) {
      return callbackProblem("Please check the phone number: 7 to 15 digits, for example +91 98765 43210.", cbPhone);
    }
    if (!cbConsent.checked) return callbackProblem("Please tick the box to agree that the clinic may call you.", cbConsent);
    if (!hasSession()) return;
    cbSend.disabled = true;
    cbStatus.className = "cb-status";
    cbStatus.textContent = "Sending…";
    request(
      "contact",
      {
        method: "POST",
        session: state.saved.session,
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: name, phone: phone, consent: true }),
      },
      GET_TIMEOUT
    )
      .then(
        function () {
          state.saved.callback_left = true; // only that a number was left: never the number itself
          save();
          cbForm.hidden = true;
          cbName.value = "";
          cbPhone.value = "";
          cbConsent.checked = false;
          cbAsk.hidden = true; // the thanks below says it
          cbOpen.textContent = "Change my number";
          cbOffer.hidden = false;
          cbStatus.textContent = "Thank you: " + clinicName() + " will call you on " + phone + ".";
          cbOpen.focus();
        },
        function (err) {
          if (err && err.status === 401) {
            sessionEnded();
            return;
          }
          if (err && err.status === 409) {
            callbackProblem("A person is no longer looking after this chat, so your number was not needed.");
          } else if (err && err.status === 429 && err.message) {
            callbackProblem(err.message);
          } else if (err && err.status === 400) {
            callbackProblem("Please check your name and phone number.", cbPhone);
          } else {
            callbackProblem("Your number could not be sent. Please try again.");
          }
        }
      )
      .then(function () {
        cbSend.disabled = false;
      });
  }

  function setConn(mode) {
    clearTimeout(state.connTimer);
    conn.className = "conn" + (mode ? " " + mode : "");
    conn.textContent = mode === "lost" ? "Connection lost, reconnecting…" : mode === "back" ? "Reconnected" : "";
    if (mode === "back") {
      state.connTimer = setTimeout(function () {
        setConn("");
      }, 5000);
    }
  }

  function scrollToEnd() {
    scroll.scrollTop = scroll.scrollHeight;
  }

  // ---------------------------------------------------------------- messages

  function firstPending() {
    for (var i = 0; i < state.outbox.length; i++) {
      if (state.outbox[i].el.parentNode === log) return state.outbox[i].el;
    }
    return null;
  }

  function addToLog(node) {
    emptyHint.hidden = true;
    log.insertBefore(node, firstPending());
  }

  function disableOptions() {
    var buttons = log.querySelectorAll(".option");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
  }

  function bubble(role, text, kind, buttons) {
    var node = el("div", "msg " + role + (kind ? " kind-" + kind : ""));
    if (kind === "emergency") {
      node.setAttribute("role", "alert");
      var head = el("p", "urgent-head");
      head.appendChild(icon("warning", 22));
      head.appendChild(el("span", "", "Urgent"));
      node.appendChild(head);
    }
    if (role === "staff") {
      var who = el("p", "who");
      who.appendChild(icon("person", 18));
      who.appendChild(el("span", "", "Clinic team"));
      node.appendChild(who);
    } else {
      node.appendChild(el("span", "sr-only", role === "user" ? "You: " : "Assistant: "));
    }
    var paragraphs = String(text || "").split(/\n{2,}/);
    paragraphs.forEach(function (para, i) {
      if (!para && paragraphs.length > 1) return;
      var p = el("p");
      if (role === "user") p.textContent = para;
      else p.appendChild(linkified(para));
      var disclaimer = state.texts.disclaimer;
      if (role !== "user" && i === paragraphs.length - 1 && disclaimer && para.indexOf(disclaimer) >= 0) {
        p.className = "disclaimer";
      }
      node.appendChild(p);
    });
    if (buttons && buttons.length) {
      var group = el("div", "options");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Choose an option");
      buttons.forEach(function (b) {
        if (!b || !b.payload) return;
        var opt = el("button", "option", b.title || b.payload);
        opt.type = "button";
        opt.addEventListener("click", function () {
          send(String(b.payload), String(b.title || b.payload));
          input.focus(); // the options are disabled once one is chosen
        });
        group.appendChild(opt);
      });
      node.appendChild(group);
    }
    return node;
  }

  /**
   * The thumbs under a curated answer: up or down is sent at once (the server keeps the latest); a down
   * opens an optional "What was missing?" note, sent with it. `rated` is the patient's earlier choice.
   */
  function feedbackBar(messageId, rated) {
    var bar = el("div", "feedback");
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Was this answer helpful?");
    bar.appendChild(el("span", "fb-question", "Was this helpful?"));
    bar.lastChild.setAttribute("aria-hidden", "true");
    var thumbs = {};
    [
      ["up", "Yes, this answer helped"],
      ["down", "No, this answer did not help"],
    ].forEach(function (t) {
      var b = el("button", "thumb " + t[0]);
      b.type = "button";
      b.setAttribute("aria-label", t[1]);
      b.setAttribute("aria-pressed", rated === t[0] ? "true" : "false");
      b.appendChild(icon(t[0], 20));
      b.addEventListener("click", function () {
        rate(t[0], null);
      });
      thumbs[t[0]] = b;
      bar.appendChild(b);
    });
    var status = el("span", "fb-status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");

    var more = el("form", "fb-more");
    more.setAttribute("novalidate", "");
    more.hidden = true;
    var fieldId = "mw-fb-" + messageId;
    var label = el("label", "", "What was missing? (optional)");
    label.setAttribute("for", fieldId);
    var note = el("textarea");
    note.id = fieldId;
    note.rows = 2;
    note.maxLength = COMMENT_LEN;
    note.setAttribute("aria-describedby", fieldId + "-hint");
    var hint = el("p", "fb-hint", "Your note goes to the clinic's team to improve the answers. To ask something, write in the chat.");
    hint.id = fieldId + "-hint";
    var actions = el("div", "fb-actions");
    var sendNote = el("button", "btn btn-primary", "Send note");
    sendNote.type = "submit";
    var skip = el("button", "btn btn-secondary", "Skip");
    skip.type = "button";
    actions.appendChild(sendNote);
    actions.appendChild(skip);
    [label, note, hint, actions].forEach(function (n) {
      more.appendChild(n);
    });
    bar.appendChild(more);
    bar.appendChild(status);

    function busy(on) {
      thumbs.up.disabled = on;
      thumbs.down.disabled = on;
      sendNote.disabled = on;
    }

    function rate(value, comment) {
      if (!hasSession()) return;
      busy(true);
      status.textContent = "";
      var body = { message_id: messageId, value: value };
      if (comment) {
        body.comment = comment;
        body.after = state.cursor;
      }
      var epoch = state.epoch;
      request(
        "feedback",
        {
          method: "POST",
          session: state.saved.session,
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        },
        comment ? POST_TIMEOUT : GET_TIMEOUT
      )
        .then(
          function (saved) {
            thumbs.up.setAttribute("aria-pressed", value === "up" ? "true" : "false");
            thumbs.down.setAttribute("aria-pressed", value === "down" ? "true" : "false");
            if (value === "down" && !comment) {
              more.hidden = false;
              status.textContent = "Thanks for the feedback.";
              note.focus();
              if (typeof more.scrollIntoView === "function") more.scrollIntoView({ block: "nearest" });
            } else {
              more.hidden = true;
              note.value = "";
              status.textContent = comment ? "Thanks, your note was sent." : "Thanks for the feedback.";
              if (comment) thumbs.down.focus();
            }
            // a note that may describe warning signs was answered as a message too: show that answer
            if (saved && saved.turn && epoch === state.epoch) apply(saved.turn, true);
          },
          function (err) {
            if (err && err.status === 401) {
              sessionEnded();
              return;
            }
            status.textContent =
              err && err.status === 429 && err.message ? err.message : "Your feedback could not be sent. Please try again.";
          }
        )
        .then(function () {
          busy(false);
        });
    }

    more.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = note.value.trim();
      if (!text) {
        note.focus();
        return;
      }
      rate("down", text.slice(0, COMMENT_LEN));
    });
    note.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        if (typeof more.requestSubmit === "function") more.requestSubmit();
        else more.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    });
    skip.addEventListener("click", function () {
      more.hidden = true;
      thumbs.down.focus();
    });
    return bar;
  }

  /** One message from the server (POST or history), shown once. */
  function showServerMessage(m, live) {
    if (!m || typeof m !== "object") return;
    var numeric = typeof m.id === "number";
    if (numeric) {
      if (state.seen[m.id]) return;
      state.seen[m.id] = true;
    }
    var role = m.role === "user" ? "user" : m.role === "staff" ? "staff" : "bot";
    var text = typeof m.text === "string" ? m.text : "";
    if (role === "user") {
      disableOptions();
      // a message whose send failed may in fact have reached the server: the server's copy wins
      for (var i = 0; i < state.outbox.length; i++) {
        var item = state.outbox[i];
        if (item.status === "failed" && item.display === text) {
          item.el.remove();
          state.outbox.splice(i, 1);
          break;
        }
      }
    }
    var node = bubble(role, text, m.kind === "emergency" || m.kind === "handoff" ? m.kind : "", m.buttons);
    addToLog(node);
    if (role === "bot" && numeric && m.rateable === true) {
      addToLog(feedbackBar(m.id, m.rated === "up" || m.rated === "down" ? m.rated : ""));
    }
    if (live && role !== "user" && !state.open) {
      state.unread += 1;
      updateBadge();
    }
    return node;
  }

  function apply(body, live) {
    if (!body || typeof body !== "object") return;
    if (typeof body.cursor === "number") {
      if (body.cursor < state.cursor) state.seen = {}; // the server's conversation was reset
      state.cursor = body.cursor;
    }
    var firstReply = null;
    (Array.isArray(body.messages) ? body.messages : []).forEach(function (m) {
      var node = showServerMessage(m, live);
      if (node && !firstReply && m.role !== "user") firstReply = node;
    });
    if (typeof body.handoff === "boolean") setHandoff(body.handoff, body.emergency === true);
    scrollToEnd();
    if (live && firstReply) showStartOf(firstReply);
  }

  /** A long reply is read from its start (an emergency's heading must not scroll out of sight). */
  function showStartOf(node) {
    var top = node.getBoundingClientRect().top - scroll.getBoundingClientRect().top;
    if (top < 0) scroll.scrollTop += top - 8;
  }

  // ---------------------------------------------------------------- network

  function NetError(message) {
    this.name = "NetError";
    this.message = message;
  }
  NetError.prototype = Object.create(Error.prototype);

  /** A request to the server; `init.session` (the token) goes in the Authorization header. */
  function request(path, init, timeout) {
    var ctrl = typeof AbortController === "function" ? new AbortController() : null;
    var timer = setTimeout(function () {
      if (ctrl) ctrl.abort();
    }, timeout);
    var opts = { credentials: "omit", cache: "no-store", mode: "cors", headers: {} };
    if (ctrl) opts.signal = ctrl.signal;
    for (var k in init) if (k !== "session") opts[k] = init[k];
    if (init.session) opts.headers.Authorization = "Bearer " + init.session;
    return fetch(BASE + path, opts)
      .catch(function (e) {
        throw new NetError(String((e && e.message) || e));
      })
      .then(function (res) {
        if (res.status >= 500 || res.status === 408) throw new NetError("HTTP " + res.status);
        return res.json().then(
          function (body) {
            if (!res.ok) {
              var err = new Error((body && body.error) || "HTTP " + res.status);
              err.status = res.status;
              throw err;
            }
            return body;
          },
          function () {
            throw res.ok ? new NetError("unreadable reply") : Object.assign(new Error("HTTP " + res.status), { status: res.status });
          }
        );
      })
      .finally(function () {
        clearTimeout(timer);
      });
  }

  function readHistory() {
    return request("history?after=" + state.cursor, { method: "GET", session: state.saved.session }, GET_TIMEOUT);
  }

  /** The chat's session: the one kept, or a new one from the server (resolves to its token). */
  function ensureSession() {
    if (hasSession()) return Promise.resolve(state.saved.session);
    if (state.starting) return state.starting;
    var epoch = state.epoch;
    state.starting = request(
      "session",
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ consent: true }) },
      GET_TIMEOUT
    )
      .then(function (body) {
        if (!body || typeof body.session !== "string" || !body.session) throw new NetError("no session");
        if (epoch === state.epoch && agreed()) {
          state.saved.session = body.session;
          save();
        }
        return body.session;
      })
      .finally(function () {
        state.starting = null;
      });
    return state.starting;
  }

  /** The server no longer knows the session (ended after a long pause, or forgotten elsewhere): the
   * conversation it opened cannot be read any more, so the chat starts again (consent is kept). */
  function sessionEnded() {
    delete state.saved.session;
    delete state.saved.callback_left;
    save();
    state.epoch += 1;
    state.cursor = 0;
    state.seen = {};
    setHandoff(false);
    Array.prototype.slice.call(log.children).forEach(function (node) {
      var unsent = state.outbox.some(function (item) {
        return item.el === node;
      });
      if (node !== emptyHint && !unsent) log.removeChild(node);
    });
    emptyHint.hidden = state.outbox.length > 0;
  }

  function send(text, display) {
    if (!agreed()) return;
    text = String(text || "");
    if (!text.trim()) return;
    if (text.length > MAX_LEN) text = text.slice(0, MAX_LEN);
    disableOptions();
    // the id goes with every sending of this message, so a Retry after a lost answer is not answered twice
    var item = { text: text, display: display || text, status: "queued", id: messageId(), tries: 0 };
    item.el = el("div", "outgoing waiting");
    item.el.appendChild(bubble("user", item.display));
    item.statusEl = el("div", "send-status", "Sending…");
    item.el.appendChild(item.statusEl);
    state.outbox.push(item);
    emptyHint.hidden = true;
    log.appendChild(item.el);
    scrollToEnd();
    if (state.lost) {
      item.statusEl.textContent = "Waiting for the connection…";
      reconnectNow();
    }
    processOutbox();
  }

  function messageId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function markFailed(item, message) {
    item.status = "failed";
    item.el.className = "outgoing failed";
    item.statusEl.textContent = "";
    item.statusEl.appendChild(el("span", "", message));
    var retry = el("button", "link-btn", "Retry");
    retry.type = "button";
    retry.setAttribute("aria-label", "Retry sending: " + item.display.slice(0, 80));
    retry.addEventListener("click", function () {
      item.status = "queued";
      item.el.className = "outgoing waiting";
      item.statusEl.textContent = state.lost ? "Waiting for the connection…" : "Sending…";
      if (state.lost) reconnectNow();
      processOutbox();
      input.focus(); // the Retry button goes away once the message is sent
    });
    item.statusEl.appendChild(retry);
  }

  function processOutbox() {
    if (state.sending || state.lost || !agreed()) return;
    var item = null;
    for (var i = 0; i < state.outbox.length; i++) {
      if (state.outbox[i].status === "queued") {
        item = state.outbox[i];
        break;
      }
    }
    if (!item) return;
    state.sending = true;
    state.epoch += 1;
    clearTimeout(state.pollTimer);
    item.status = "sending";
    item.statusEl.textContent = "Sending…";
    typing.hidden = false;
    scrollToEnd();
    ensureSession()
      .then(function (token) {
        return request(
          "webhook",
          {
            method: "POST",
            session: token,
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({
              message: item.text,
              consent: true,
              after: state.cursor,
              client_message_id: item.id,
              resend: item.tries++ > 0,
            }),
          },
          POST_TIMEOUT
        );
      })
      .then(
        function (body) {
          var index = state.outbox.indexOf(item);
          if (index < 0) return; // the chat was forgotten meanwhile
          state.outbox.splice(index, 1);
          var messages = (body && Array.isArray(body.messages) && body.messages) || [];
          var stored = messages.some(function (m) {
            return m && m.role === "user";
          });
          if (stored) item.el.remove();
          else {
            // not in the conversation (e.g. the dialogue failed): keep the patient's own copy
            item.el.className = "outgoing";
            item.statusEl.remove();
          }
          apply(body, true);
        },
        function (err) {
          if (err instanceof NetError) {
            markFailed(item, "Not sent.");
            state.outbox.forEach(function (other) {
              if (other.status === "queued") markFailed(other, "Not sent.");
            });
            connectionLost();
          } else if (err.status === 401 && !item.renewed) {
            // the session ended: a new chat, and this message is its first (once, never in a loop)
            item.renewed = true;
            item.status = "queued";
            sessionEnded();
          } else if (err.status === 429) {
            // too many messages at once: the server's polite text (with the emergency number when it matters)
            markFailed(item, err.message);
          } else if (err.status === 413) {
            markFailed(item, "Too long to send: please shorten it.");
          } else if (err.status === 403) {
            markFailed(item, "Not sent: please agree to the privacy notice first.");
          } else {
            markFailed(item, "Not sent.");
          }
          scrollToEnd();
        }
      )
      .then(function () {
        state.sending = false;
        typing.hidden = true;
        processOutbox();
        if (!state.sending) schedulePoll();
      });
  }

  function pollDelay() {
    return state.handoff || state.open ? POLL_FAST : POLL_SLOW;
  }

  function schedulePoll(delay) {
    clearTimeout(state.pollTimer);
    if (!hasSession() || state.lost || state.sending || state.cursor === 0) return;
    state.pollTimer = setTimeout(poll, delay == null ? pollDelay() : delay);
  }

  function poll() {
    if (state.sending || state.lost || !hasSession()) return;
    var epoch = state.epoch;
    readHistory().then(
      function (body) {
        if (epoch === state.epoch && !state.sending) apply(body, true);
        schedulePoll();
      },
      function (err) {
        if (err instanceof NetError) connectionLost();
        else if (err.status === 401 && epoch === state.epoch) sessionEnded();
        else schedulePoll(POLL_SLOW);
      }
    );
  }

  function connectionLost() {
    clearTimeout(state.pollTimer);
    if (!state.lost) {
      state.lost = true;
      state.backoff = 1000;
      setConn("lost");
    }
    clearTimeout(state.reconnectTimer);
    var wait = state.backoff * (1 + Math.random() * 0.25);
    state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX);
    state.reconnectTimer = setTimeout(tryReconnect, wait);
  }

  function reconnectNow() {
    if (!state.lost) return;
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = setTimeout(tryReconnect, 0);
  }

  function tryReconnect() {
    clearTimeout(state.reconnectTimer);
    if (!state.lost) return;
    var withHistory = hasSession();
    var probe = withHistory ? readHistory() : request("config", { method: "GET" }, GET_TIMEOUT);
    probe.then(
      function (body) {
        if (!state.lost) return;
        state.lost = false;
        state.backoff = 1000;
        state.epoch += 1;
        setConn("back");
        if (withHistory) apply(body, true);
        state.outbox.forEach(function (item) {
          if (item.status === "queued") item.statusEl.textContent = "Sending…";
        });
        processOutbox();
        schedulePoll();
      },
      function (err) {
        if (err instanceof NetError) connectionLost();
        else {
          state.lost = false;
          setConn("back");
          if (err.status === 401) sessionEnded();
          processOutbox();
          schedulePoll(POLL_SLOW);
        }
      }
    );
  }

  function loadHistory() {
    if (!hasSession()) return; // no chat yet: the first message asks for a session
    state.cursor = 0;
    var epoch = state.epoch;
    readHistory().then(
      function (body) {
        if (epoch !== state.epoch) return; // a message went out meanwhile: its reply brought the history
        apply(body, false);
        schedulePoll();
      },
      function (err) {
        if (err instanceof NetError) connectionLost();
        else if (err.status === 401 && epoch === state.epoch) sessionEnded();
        else if (err.status === 429)
          setTimeout(function () {
            if (epoch === state.epoch) loadHistory();
          }, POLL_FAST);
      }
    );
  }

  /** The clinic's facts and the widget's safety wording; retried until it arrives. Always resolves. */
  function loadConfig() {
    return request("config", { method: "GET" }, GET_TIMEOUT).then(
      function (cfg) {
        if (!cfg || typeof cfg !== "object") return;
        ["clinic_name", "privacy_url", "emergency_number", "phone"].forEach(function (k) {
          var fromAttr = k === "clinic_name" ? attrs.clinicName : k === "privacy_url" ? attrs.privacyUrl : "";
          if (!fromAttr && typeof cfg[k] === "string" && cfg[k]) state.config[k] = cfg[k];
        });
        var texts = cfg.texts && typeof cfg.texts === "object" ? cfg.texts : {};
        Object.keys(texts).forEach(function (k) {
          if (typeof texts[k] === "string") state.texts[k] = texts[k];
        });
        renderTexts();
      },
      function () {
        setTimeout(loadConfig, 5000); // without it the widget has no safety wording to show
      }
    );
  }

  // ---------------------------------------------------------------- consent

  function agree() {
    state.saved = { consent: "agreed", agreed_at: new Date().toISOString() }; // the session comes with the first message
    save();
    state.cursor = 0;
    state.seen = {};
    renderView();
    input.focus();
  }

  function decline() {
    state.saved = { consent: "declined" };
    save();
    renderView();
    declinedView.focus();
  }

  function forget() {
    clearTimeout(state.pollTimer);
    clearTimeout(state.reconnectTimer);
    if (hasSession()) {
      // end the session on the server too, so no copy of the key opens the chat again (best effort)
      request("session", { method: "DELETE", session: state.saved.session }, GET_TIMEOUT).catch(function () {});
    }
    try {
      local.removeItem(STORE_KEY);
    } catch (e) {
      /* ignore */
    }
    state.saved = {};
    state.cursor = 0;
    state.seen = {};
    state.outbox = [];
    state.lost = false;
    state.epoch += 1;
    setConn("");
    setHandoff(false);
    while (log.firstChild) log.removeChild(log.firstChild);
    emptyHint.hidden = false;
    log.appendChild(emptyHint);
    input.value = "";
    renderView();
    consentView.focus();
  }

  // ---------------------------------------------------------------- events

  launcher.addEventListener("click", function () {
    if (state.open) closePanel(true);
    else openPanel(true);
  });
  closeBtn.addEventListener("click", function () {
    closePanel(true);
  });
  wrap.addEventListener("keydown", function (e) {
    if ((e.key === "Escape" || e.key === "Esc") && state.open) {
      e.preventDefault();
      e.stopPropagation();
      closePanel(true);
    }
  });
  agreeBtn.addEventListener("click", agree);
  declineBtn.addEventListener("click", decline);
  reviewBtn.addEventListener("click", function () {
    state.saved = {};
    save();
    renderView();
    consentView.focus();
  });
  forgetBtn.addEventListener("click", forget);
  cbOpen.addEventListener("click", function () {
    cbOffer.hidden = true;
    cbAsk.hidden = false;
    cbForm.hidden = false;
    cbStatus.textContent = "";
    cbName.focus();
    if (typeof cbForm.scrollIntoView === "function") cbForm.scrollIntoView({ block: "nearest" });
  });
  cbCancel.addEventListener("click", function () {
    cbForm.hidden = true;
    cbOffer.hidden = false;
    cbStatus.textContent = "";
    cbOpen.focus();
  });
  cbForm.addEventListener("submit", function (e) {
    e.preventDefault();
    sendCallback();
  });

  composer.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim()) {
      input.focus();
      return;
    }
    input.value = "";
    autosize();
    send(text.trim(), text.trim());
    input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (typeof composer.requestSubmit === "function") composer.requestSubmit();
      else composer.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 4, 140) + "px";
  }
  input.addEventListener("input", autosize);

  window.addEventListener("online", reconnectNow);
  window.addEventListener("offline", function () {
    if (agreed() && !state.lost) connectionLost();
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && agreed() && !state.lost && !state.sending) schedulePoll(200);
  });

  // ---------------------------------------------------------------- start

  function start() {
    document.body.appendChild(host);
    renderTexts();
    renderView();
    // the history waits for the config, so the numbers in earlier replies become tel: links
    loadConfig().then(function () {
      if (agreed() && !state.cursor) loadHistory();
    });
    if (session.getItem(OPEN_KEY) === "1") openPanel(false); // after a reload: reopen, without taking focus
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
