/*
 * qa chat widget: ask questions of the indexed documents from any page.
 *
 *   <script src="http://127.0.0.1:8000/widget.js" defer></script>   adds a launcher button and a chat panel
 *   <qa-chat></qa-chat>                                              shows the chat inline instead
 *
 * Options are attributes of <qa-chat> (theme, lang, shortcut, examples, text-*, filter-*); the same names
 * with a data- prefix on the script tag apply to every <qa-chat> on the page that does not set them itself.
 * Looks come from CSS custom properties (--qa-*), set on qa-chat or any ancestor; see the README.
 *
 * Plain JavaScript, no build step, no requests to anyone but the server this file came from.
 * Every piece of corpus text goes into the page as a text node: nothing here parses HTML.
 */
(() => {
  "use strict";

  if (window.customElements.get("qa-chat")) return; // the script was included twice

  const script = document.currentScript;
  // The API lives where this script was served from, so the widget works embedded on any origin.
  const API = new URL(".", script ? script.src : window.location.href);
  const HISTORY_TURNS = 10;
  const SVG = "http://www.w3.org/2000/svg";
  const PHONE = "(max-width: 480px)";
  const MAC = /Mac|iPhone|iPad|iPod/.test(navigator.platform || navigator.userAgent);

  /*
   * Every visible string and accessible name. An attribute text-KEY on <qa-chat> replaces one string;
   * {name} marks a value filled in when the string is used.
   */
  const STRINGS = {
    en: {
      title: "Ask the documents",
      launcher: "Ask the documents",
      close: "Close",
      intro: "Ask a question; answers are passages quoted from the documents.",
      examples: "Try asking:",
      label: "Your question",
      placeholder: "Ask a question…",
      hint: "Enter sends, Shift+Enter starts a new line.",
      send: "Ask",
      conversation: "Conversation",
      searching: "Searching the documents…",
      "not-answered": "No passage answers this confidently. The closest passages are below.",
      "missing-words": "Not in any document: {words}",
      "also-in": "Also in:",
      "no-passages": "No passages found.",
      passages: "Passages, best first",
      "cite-hint": "Opens the document at this passage.",
      "cite-link-hint": "Opens the source at this passage, in a new tab.",
      "copy-quote": "Copy quote",
      copied: "Quote copied, with its citation.",
      "copy-failed": "Could not copy the quote: {detail}",
      "show-whole": "Show the whole passage",
      "show-short": "Show less",
      page: "{source}, page {page}",
      facts: "{documents} documents · {passages} passages",
      "count-one": "{count} passage",
      "count-other": "{count} passages",
      summary: "Answer, {count}. Best, from {title}: {sentence}",
      back: "← Back to answers",
      opened: "Opened {title} at the cited passage. Escape goes back to the answers.",
      "empty-question": "Type a question first.",
      unreachable: "Could not reach the server at {origin}. Your question is kept; try again.",
      "server-failed": "The server failed ({detail}). Try again.",
      "open-failed": "Could not open the document: {detail}",
      votes: "Was this passage helpful?",
      "vote-up": "Helpful",
      "vote-down": "Not helpful",
      voted: "Thanks: your feedback was sent.",
      "vote-failed": "Could not send the feedback: {detail}",
    },
    fr: {
      title: "Interroger les documents",
      launcher: "Interroger les documents",
      close: "Fermer",
      intro: "Posez une question\u00a0; les réponses sont des passages cités des documents.",
      examples: "Par exemple\u00a0:",
      label: "Votre question",
      placeholder: "Posez une question…",
      hint: "Entrée envoie, Maj+Entrée passe à la ligne.",
      send: "Demander",
      conversation: "Conversation",
      searching: "Recherche dans les documents…",
      "not-answered": "Aucun passage ne répond avec assurance. Les passages les plus proches sont ci-dessous.",
      "missing-words": "Absent des documents\u00a0: {words}",
      "also-in": "Aussi dans\u00a0:",
      "no-passages": "Aucun passage trouvé.",
      passages: "Passages, le meilleur d’abord",
      "cite-hint": "Ouvre le document à ce passage.",
      "cite-link-hint": "Ouvre la source à ce passage, dans un nouvel onglet.",
      "copy-quote": "Copier la citation",
      copied: "Citation copiée, avec sa source.",
      "copy-failed": "Impossible de copier la citation : {detail}",
      "show-whole": "Afficher tout le passage",
      "show-short": "Afficher moins",
      page: "{source}, page {page}",
      facts: "{documents} documents · {passages} passages",
      "count-one": "{count} passage",
      "count-other": "{count} passages",
      summary: "Réponse, {count}. La meilleure, tirée de {title}\u00a0: {sentence}",
      back: "← Retour aux réponses",
      opened: "{title} ouvert au passage cité. Échap revient aux réponses.",
      "empty-question": "Tapez d’abord une question.",
      unreachable: "Impossible de joindre le serveur {origin}. Votre question est conservée\u00a0; réessayez.",
      "server-failed": "Le serveur a échoué ({detail}). Réessayez.",
      "open-failed": "Impossible d’ouvrir le document\u00a0: {detail}",
      votes: "Ce passage vous a-t-il aidé\u00a0?",
      "vote-up": "Utile",
      "vote-down": "Pas utile",
      voted: "Merci\u00a0: votre avis a été envoyé.",
      "vote-failed": "Impossible d’envoyer votre avis\u00a0: {detail}",
    },
  };

  /*
   * Filters: attribute filter-KEY narrows every question to some documents (the server checks them, and
   * says what is wrong). Lists are separated by "|"; since and until are single days (YYYY-MM-DD).
   */
  const FILTERS = { source: "list", "doc-id": "list", type: "list", tag: "list", since: "day", until: "day" };

  /** Options a data- attribute of the script tag may give every <qa-chat> on the page. */
  const OPTIONS = [
    "theme", "lang", "shortcut", "examples", "api-key",
    ...Object.keys(STRINGS.en).map((key) => `text-${key}`),
    ...Object.keys(FILTERS).map((key) => `filter-${key}`),
  ];

  /*
   * The colours of each theme. Each is a private property (--_name) that a public one (--qa-name) overrides
   * in every theme; a page that wants other colours in dark mode sets them in its own media query.
   */
  const COLOURS = {
    //              public name          light      dark
    bg: ["--qa-background", "#ffffff", "#161b22"],
    surface: ["--qa-surface", "#f6f8fa", "#21262d"],
    text: ["--qa-text", "#1f2328", "#e6edf3"],
    muted: ["--qa-muted", "#57606a", "#9198a1"],
    border: ["--qa-border", "#d0d7de", "#3d444d"],
    field: ["--qa-field-border", "#8c959f", "#768390"],
    accent: ["--qa-accent", "#0b57d0", "#8ab4f8"],
    "accent-text": ["--qa-accent-text", "#ffffff", "#0d1117"],
    highlight: ["--qa-highlight", "#ffe066", "#6b5300"],
    warning: ["--qa-warning", "#bf8700", "#d29922"],
    error: ["--qa-error", "#82071e", "#ffb1ad"],
  };
  const palette = (column) =>
    Object.entries(COLOURS)
      .map(([name, row]) => `--_${name}: var(${row[0]}, ${row[column]});`)
      .join(" ");

  const STYLE = `
    :host { display: block; }
    :host([hidden]) { display: none; }
    .root {
      all: initial; display: block;
      ${palette(1)}
      --_focus: var(--qa-focus, var(--_accent));
      --_radius: var(--qa-radius, 12px);
      --_radius-small: calc(var(--_radius) * 2 / 3);
      --_bottom: var(--qa-launcher-bottom, 16px);
      --_right: var(--qa-launcher-right, 16px);
      --_left: var(--qa-launcher-left, auto);
      --_z: var(--qa-z-index, 2147483646);
      color-scheme: light;
      font-family: var(--qa-font-family, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif);
      font-size: var(--qa-font-size, 15px); line-height: 1.5;
      color: var(--_text); text-align: left; letter-spacing: normal; word-spacing: normal;
    }
    /* Tints of the theme's colours; browsers before color-mix() (2023) get plain ones. */
    .root {
      --_notice-bg: var(--_surface); --_error-bg: var(--_bg); --_error-border: var(--_error);
      --_passage-bg: var(--_surface);
    }
    @supports (color: color-mix(in srgb, red 50%, blue)) {
      .root {
        --_notice-bg: color-mix(in srgb, var(--_highlight) 30%, var(--_bg));
        --_error-bg: color-mix(in srgb, var(--_error) 10%, var(--_bg));
        --_error-border: color-mix(in srgb, var(--_error) 40%, var(--_bg));
        --_passage-bg: color-mix(in srgb, var(--_highlight) 45%, var(--_bg));
      }
    }
    :host([theme="dark"]) .root { ${palette(2)} color-scheme: dark; }
    @media (prefers-color-scheme: dark) {
      :host([theme="auto"]) .root { ${palette(2)} color-scheme: dark; }
    }
    *, *::before, *::after { box-sizing: border-box; }
    [hidden] { display: none !important; }
    :focus-visible { outline: 3px solid var(--_focus); outline-offset: 2px; }
    button {
      font: inherit; color: inherit; cursor: pointer; margin: 0;
      border: 1px solid var(--_border); border-radius: var(--_radius-small); background: var(--_bg); padding: 6px 12px;
    }
    button:hover { background: var(--_surface); }
    svg { display: block; flex: none; }
    .sr-only {
      position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0;
      overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
    }
    .launcher {
      position: fixed; right: var(--_right); left: var(--_left); bottom: var(--_bottom); z-index: var(--_z);
      display: flex; align-items: center; gap: 8px; padding: 12px 18px;
      border-radius: var(--qa-launcher-radius, 999px);
      border: 0; background: var(--_accent); color: var(--_accent-text); font-weight: 600;
      box-shadow: 0 4px 14px rgba(0, 0, 0, .25);
    }
    .launcher:hover, .send:hover { background: var(--_accent); filter: brightness(.9); }
    .launcher:focus-visible { outline-color: var(--_text); outline-offset: 3px; }
    .panel {
      display: flex; flex-direction: column; overflow: hidden; position: relative;
      background: var(--_bg); border: 1px solid var(--_border); border-radius: var(--_radius);
      height: var(--qa-chat-height, var(--qa-panel-height, 560px));
    }
    :host([launcher]) .panel {
      position: fixed; right: var(--_right); left: var(--_left); bottom: calc(var(--_bottom) + 64px);
      z-index: calc(var(--_z) + 1);
      width: min(var(--qa-panel-width, 420px), calc(100vw - 32px));
      height: min(var(--qa-panel-height, 640px), calc(100vh - var(--_bottom) - 88px));
      box-shadow: 0 12px 32px rgba(0, 0, 0, .25);
    }
    header {
      display: flex; align-items: center; gap: 8px; padding: 10px 14px;
      border-bottom: 1px solid var(--_border); background: var(--_surface);
    }
    header .titles { flex: 1; min-width: 0; }
    header .close { padding: 8px; line-height: 0; }
    h2 { font-size: 1.07em; margin: 0; font-weight: 650; }
    .facts { margin: 0; font-size: .8em; color: var(--_muted); }
    .view { flex: 1; min-height: 0; display: flex; flex-direction: column; }
    .log { flex: 1; overflow-y: auto; padding: 12px 14px; margin: 0; list-style: none; position: relative; }
    .empty { color: var(--_muted); margin: 8px 0; }
    .empty p { margin: 0 0 8px; }
    .examples { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; align-items: flex-start; gap: 6px; }
    .example {
      text-align: left; color: var(--_accent); border-color: var(--_border); border-radius: var(--_radius);
      overflow-wrap: anywhere;
    }
    .turn { margin: 0 0 18px; }
    .question {
      margin: 0 0 10px auto; width: fit-content; max-width: 88%; padding: 8px 12px;
      border-radius: var(--_radius) var(--_radius) 2px var(--_radius);
      background: var(--_accent); color: var(--_accent-text);
      white-space: pre-wrap; overflow-wrap: anywhere;
    }
    .status { color: var(--_muted); margin: 4px 0; }
    .missing { color: var(--_muted); margin: 0 0 10px; }
    .notice {
      margin: 0 0 10px; padding: 8px 10px; border-left: 4px solid var(--_warning);
      background: var(--_notice-bg); border-radius: 4px;
    }
    .passages { margin: 0; padding: 0 0 0 22px; }
    .passage { margin: 0 0 12px; }
    .passage::marker { color: var(--_muted); font-size: .87em; }
    .cut { color: var(--_muted); }
    .more { display: block; margin: 0 0 6px; padding: 4px 10px; min-height: 32px; font-size: .87em; }
    blockquote {
      margin: 0 0 6px; padding: 8px 10px; background: var(--_surface); border-radius: var(--_radius-small);
      white-space: pre-wrap; overflow-wrap: anywhere;
    }
    mark { background: var(--_highlight); color: inherit; padding: 0 1px; border-radius: 2px; }
    .cite { display: block; width: 100%; text-align: left; padding: 6px 10px; font-size: .87em; }
    a.cite {
      box-sizing: border-box; text-decoration: none; color: inherit;
      border: 1px solid var(--_border); border-radius: var(--_radius-small); background: var(--_bg);
    }
    a.cite:hover { background: var(--_surface); }
    a.cite:hover .cite-title { text-decoration: underline; }
    .votes { display: flex; gap: 6px; margin: 6px 0 0; }
    .votes button { min-width: 44px; min-height: 32px; padding: 2px 10px; font-size: 1em; }
    .votes button { display: inline-flex; align-items: center; justify-content: center; }
    .votes .copy { gap: 6px; font-size: .87em; margin-left: auto; }
    .votes button[aria-pressed="true"] { border-color: var(--_accent); background: var(--_surface); }
    .cite-title { display: block; font-weight: 600; color: var(--_accent); overflow-wrap: anywhere; }
    .cite-where { display: block; color: var(--_muted); overflow-wrap: anywhere; }
    .cite-section { margin: 0 0 4px; font-size: .87em; color: var(--_muted); overflow-wrap: anywhere; }
    .also { margin: 4px 0 0; font-size: .87em; color: var(--_muted); overflow-wrap: anywhere; }
    .also a { color: var(--_accent); text-decoration: underline; }
    .error {
      margin: 0 14px 8px; padding: 8px 10px; border-radius: var(--_radius-small);
      background: var(--_error-bg); color: var(--_error); border: 1px solid var(--_error-border);
    }
    form {
      display: flex; gap: 8px; align-items: flex-end; padding: 10px 14px;
      border-top: 1px solid var(--_border); background: var(--_bg);
    }
    textarea {
      flex: 1; min-width: 0; resize: none; font-family: inherit; font-size: inherit; line-height: inherit;
      color: inherit; margin: 0; padding: 8px 10px; border: 1px solid var(--_field);
      border-radius: var(--_radius-small); background: var(--_bg); min-height: 44px; max-height: 160px;
    }
    textarea::placeholder { color: var(--_muted); opacity: 1; }
    .send {
      background: var(--_accent); color: var(--_accent-text); border-color: var(--_accent);
      font-weight: 600; min-height: 44px;
    }
    .send[aria-disabled="true"] { opacity: .6; cursor: progress; }
    .doc-head { padding: 10px 14px; border-bottom: 1px solid var(--_border); }
    .doc-head h3 { font-size: 1em; margin: 8px 0 0; overflow-wrap: anywhere; }
    .doc-head p { margin: 0; font-size: .87em; color: var(--_muted); overflow-wrap: anywhere; }
    .doc-text {
      flex: 1; overflow-y: auto; margin: 0; padding: 12px 14px; position: relative;
      white-space: pre-wrap; overflow-wrap: anywhere;
    }
    .doc-text mark.passage-mark { background: var(--_passage-bg); }
    .doc-text mark.best { background: var(--_highlight); }
    @media ${PHONE} {
      .root { --_bottom: var(--qa-launcher-bottom, 8px); --_right: var(--qa-launcher-right, 8px); }
      /* 16 px or more, or iOS zooms the page when the question box takes focus. */
      textarea { font-size: max(16px, 1em); }
      :host([launcher]) .panel {
        top: 0; right: 0; bottom: auto; left: 0; width: 100%; height: 100vh;
        border: 0; border-radius: 0; box-shadow: none;
      }
      @supports (height: 100dvh) { :host([launcher]) .panel { height: 100dvh; } }
      /* Set while the on-screen keyboard covers part of the screen: the panel fits what is left. */
      :host([launcher]) .panel.fit { top: var(--qa-viewport-top); height: var(--qa-viewport-height); }
      :host([launcher]) .root.open .launcher { display: none; }
    }
  `;

  /** A new element: props become attributes (or listeners, for on*); string children become text nodes. */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value === true) node.setAttribute(key, "");
      else if (value !== false && value != null) node.setAttribute(key, String(value));
    }
    node.append(...children.filter((child) => child != null));
    return node;
  }

  /** An icon drawn from one SVG path, rather than an emoji or a symbol: not every system has the font. */
  function icon(d, size = 20) {
    const svg = document.createElementNS(SVG, "svg");
    for (const [name, value] of Object.entries({ viewBox: "0 0 24 24", width: size, height: size, "aria-hidden": "true" })) {
      svg.setAttribute(name, String(value));
    }
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", d);
    svg.append(path);
    return svg;
  }
  const BUBBLE = "M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z";
  const CROSS = "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6l5.6-5.6L5 6.4z";
  const THUMB_UP = "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z";
  const THUMB_DOWN = "M15 3H6c-.83 0-1.54.5-1.84 1.22l-3.02 7.05c-.09.23-.14.47-.14.73v2c0 1.1.9 2 2 2h6.31l-.95 4.57-.03.32c0 .41.17.79.44 1.06L9.83 23l6.59-6.59c.36-.36.58-.86.58-1.41V5c0-1.1-.9-2-2-2zm4 0v12h4V3h-4z";
  const COPY = "M16 1H4c-1.1 0-2 .9-2 2v14h2V3h12V1zm3 4H8c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h11c1.1 0 2-.9 2-2V7c0-1.1-.9-2-2-2zm0 16H8V7h11v14z";

  /** Split text at offsets counted in code points, as the server (Python) counts them. */
  function splitAt(text, ...offsets) {
    const chars = Array.from(text);
    const parts = [];
    let from = 0;
    for (const offset of offsets) {
      const to = Math.max(from, Math.min(offset, chars.length));
      parts.push(chars.slice(from, to).join(""));
      from = to;
    }
    parts.push(chars.slice(from).join(""));
    return parts;
  }

  /**
   * A passage's text with its best sentence in a <mark>: the short form (its context span, with "…"
   * where the passage goes on) or, when `whole`, all of it. Text nodes only.
   */
  function quotedParts(passage, whole) {
    const { text, highlight } = passage;
    const length = Array.from(text).length;
    const context = passage.context || { start: 0, end: length };
    const [from, to] = whole ? [0, length] : [context.start, context.end];
    const [, shown] = splitAt(text, from, to);
    const start = Math.max(highlight.start, from) - from;
    const end = Math.min(highlight.end, to) - from;
    const [before, best, after] = splitAt(shown, start, end);
    return [
      from > 0 ? el("span", { class: "cut", "aria-hidden": "true" }, "… ") : null,
      before, best ? el("mark", {}, best) : null, after,
      to < length ? el("span", { class: "cut", "aria-hidden": "true" }, " …") : null,
    ].filter((part) => part != null);
  }

  /** Is there more to the passage than its short form? */
  function isCut(passage) {
    return Boolean(passage.context) && (passage.context.start > 0 || passage.context.end < Array.from(passage.text).length);
  }

  async function problem(response) {
    try {
      const body = await response.json();
      if (typeof body.detail === "string") return body.detail;
    } catch (_) {
      // not JSON: fall through to the status line
    }
    return `HTTP ${response.status}`;
  }

  /**
   * A shortcut such as "mod+k", "ctrl+shift+k" or "/": mod is Cmd on Apple systems and Ctrl elsewhere.
   * Returns null for an empty or unreadable one, so a typo never binds a surprising key.
   */
  function parseShortcut(spec) {
    if (!spec || !spec.trim()) return null;
    const parts = spec.trim().toLowerCase().split(/\s*\+\s*/);
    const key = parts.pop();
    if (!key) return null;
    const wanted = { ctrl: false, meta: false, alt: false, shift: false };
    const names = { ctrl: "ctrl", control: "ctrl", cmd: "meta", command: "meta", meta: "meta", alt: "alt", option: "alt", shift: "shift" };
    for (const part of parts) {
      const name = part === "mod" ? (MAC ? "meta" : "ctrl") : names[part];
      if (!name) return null;
      wanted[name] = true;
    }
    const keyName = key.length === 1 ? key.toUpperCase() : key[0].toUpperCase() + key.slice(1);
    const label = [wanted.ctrl && "Control", wanted.meta && "Meta", wanted.alt && "Alt", wanted.shift && "Shift", keyName];
    return { key, ...wanted, label: label.filter(Boolean).join("+") };
  }

  function shortcutMatches(shortcut, event) {
    if (event.ctrlKey !== shortcut.ctrl || event.metaKey !== shortcut.meta || event.altKey !== shortcut.alt) return false;
    const alphanumeric = /^[a-z0-9]$/.test(shortcut.key);
    // "?" needs Shift on most layouts: for a symbol, Shift counts only when the shortcut names it.
    if ((alphanumeric || shortcut.shift) && event.shiftKey !== shortcut.shift) return false;
    if ((event.key || "").toLowerCase() === shortcut.key) return true;
    // With Alt (Option on a Mac) event.key is another character; the physical key still tells.
    if (/^[a-z]$/.test(shortcut.key)) return event.code === `Key${shortcut.key.toUpperCase()}`;
    if (/^[0-9]$/.test(shortcut.key)) return event.code === `Digit${shortcut.key}`;
    return false;
  }

  const TEXT_INPUTS = new Set(["button", "checkbox", "color", "file", "image", "radio", "range", "reset", "submit"]);

  /** Whether a key event goes to something the user types into: an input, a textarea, a contenteditable. */
  function typingIn(event) {
    const target = event.composedPath()[0];
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    if (target.localName === "textarea" || target.localName === "select") return true;
    if (target.localName === "input") return !TEXT_INPUTS.has(target.type);
    return ["textbox", "searchbox", "combobox"].includes(target.getAttribute("role"));
  }

  let nextId = 0;

  class QAChat extends HTMLElement {
    connectedCallback() {
      // On window, so that the page's own handlers see the key first and can claim it (preventDefault).
      window.addEventListener("keydown", this.onShortcut);
      document.addEventListener("focusin", this.onFocusElsewhere);
      if (this.shadowRoot) return;
      this.takeScriptOptions();
      const id = `qa-chat-${nextId++}`;
      this.launcherMode = this.hasAttribute("launcher");
      this.language = this.pickLanguage();
      this.strings = { ...STRINGS.en, ...STRINGS[this.language] };
      for (const key of Object.keys(STRINGS.en)) {
        const text = this.getAttribute(`text-${key}`);
        if (text != null) this.strings[key] = text;
      }
      this.examples = (this.getAttribute("examples") || "").split("|").map((text) => text.trim()).filter(Boolean);
      this.filters = this.readFilters();
      this.shortcut = parseShortcut(this.getAttribute("shortcut"));
      this.history = [];
      this.answers = 0;
      this.documents = new Map();
      this.pending = false;
      const t = (key, values) => this.t(key, values);

      const shadow = this.attachShadow({ mode: "open" });
      this.live = el("div", { class: "sr-only", role: "status", "aria-live": "polite" });
      this.log = el("ol", { class: "log", "aria-label": t("conversation") });
      this.empty = this.emptyState(id);
      this.log.append(this.empty);
      this.error = el("p", { class: "error", role: "alert", hidden: true });
      this.input = el("textarea", {
        id: `${id}-question`, rows: 2, "aria-describedby": `${id}-hint`,
        placeholder: t("placeholder"), onkeydown: (event) => this.onInputKey(event),
      });
      this.sendButton = el("button", { type: "submit", class: "send" }, t("send"));
      const form = el(
        "form", { onsubmit: (event) => { event.preventDefault(); this.send(); } },
        el("label", { for: `${id}-question`, class: "sr-only" }, t("label")),
        this.input,
        el("span", { id: `${id}-hint`, class: "sr-only" }, t("hint")),
        this.sendButton,
      );
      this.chatView = el("div", { class: "view" }, this.log, this.error, form);
      this.citeHintId = `${id}-cite-hint`;
      this.citeLinkHintId = `${id}-cite-link-hint`;
      this.baseId = id;

      this.backButton = el("button", { type: "button", onclick: () => this.closeDocument() }, t("back"));
      this.docTitle = el("h3", { id: `${id}-doc-title`, tabindex: -1 });
      this.docWhere = el("p");
      this.docText = el("div", {
        class: "doc-text", tabindex: 0, role: "region", "aria-labelledby": `${id}-doc-title`,
      });
      this.docView = el(
        "div", { class: "view", hidden: true },
        el("div", { class: "doc-head" }, this.backButton, this.docTitle, this.docWhere),
        this.docText,
      );

      this.facts = el("p", { class: "facts" });
      const header = el(
        "header", {},
        el("div", { class: "titles" }, el("h2", { id: `${id}-title` }, t("title")), this.facts),
      );
      this.panel = el(
        "section",
        {
          id: `${id}-panel`, class: "panel", "aria-labelledby": `${id}-title`,
          role: this.launcherMode ? "dialog" : "region", "aria-modal": this.launcherMode ? "true" : null,
          hidden: this.launcherMode,
          onkeydown: (event) => this.onPanelKey(event),
          onfocusin: (event) => { this.lastFocus = event.composedPath()[0]; },
        },
        header, this.chatView, this.docView, this.live,
        // Describes every citation button; hidden elements still give a description.
        el("span", { id: this.citeHintId, hidden: true }, t("cite-hint")),
        el("span", { id: this.citeLinkHintId, hidden: true }, t("cite-link-hint")),
      );
      this.root = el("div", { class: "root", lang: this.language });
      if (this.launcherMode) {
        header.append(el(
          "button",
          { type: "button", class: "close", "aria-label": t("close"), onclick: () => this.close() },
          icon(CROSS),
        ));
        this.launcher = el(
          "button",
          {
            type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": `${id}-panel`,
            "aria-keyshortcuts": this.shortcut ? this.shortcut.label : null,
            onclick: () => (this.panel.hidden ? this.open() : this.close()),
          },
          icon(BUBBLE), t("launcher"),
        );
        this.root.append(this.launcher);
      } else if (this.shortcut) {
        this.input.setAttribute("aria-keyshortcuts", this.shortcut.label);
      }
      this.root.append(this.panel);
      shadow.append(el("style", {}, STYLE), this.root);
      if (!this.launcherMode) this.loadFacts();
    }

    disconnectedCallback() {
      window.removeEventListener("keydown", this.onShortcut);
      document.removeEventListener("focusin", this.onFocusElsewhere);
      this.watchViewport(false);
    }

    /** The script tag's data-* options, for those this element does not set itself. */
    takeScriptOptions() {
      if (!script) return;
      for (const name of OPTIONS) {
        const value = script.getAttribute(`data-${name}`);
        if (value != null && !this.hasAttribute(name)) this.setAttribute(name, value);
      }
    }

    /** The filter-* attributes as the `filters` of a question; null when there are none. */
    readFilters() {
      const filters = {};
      for (const [name, kind] of Object.entries(FILTERS)) {
        const value = this.getAttribute(`filter-${name}`);
        if (value == null || !value.trim()) continue;
        const key = name.replace("-", "_");
        filters[key] = kind === "day" ? value.trim() : value.split("|").map((entry) => entry.trim()).filter(Boolean);
      }
      return Object.keys(filters).length ? filters : null;
    }

    /** The bundled language nearest to the element's own lang, or its page's; English otherwise. */
    pickLanguage() {
      const holder = this.closest("[lang]");
      const tag = ((holder && holder.getAttribute("lang")) || "en").toLowerCase().split("-")[0];
      return Object.prototype.hasOwnProperty.call(STRINGS, tag) ? tag : "en";
    }

    t(key, values = {}) {
      return this.strings[key].replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
    }

    number(value) {
      return typeof value === "number" ? value.toLocaleString(this.language) : value;
    }

    count(n) {
      const form = new Intl.PluralRules(this.language).select(n);
      return this.t(form === "one" ? "count-one" : "count-other", { count: this.number(n) });
    }

    location(citation) {
      return citation.page ? this.t("page", { source: citation.source, page: citation.page }) : citation.source;
    }

    emptyState(id) {
      const state = el("li", { class: "empty" }, el("p", {}, this.t("intro")));
      if (this.examples.length) {
        state.append(
          el("p", { id: `${id}-examples` }, this.t("examples")),
          el(
            "ul", { class: "examples", "aria-labelledby": `${id}-examples` },
            ...this.examples.map((question) => el(
              "li", {},
              el("button", { type: "button", class: "example", onclick: () => this.askExample(question) }, question),
            )),
          ),
        );
      }
      return state;
    }

    askExample(question) {
      this.input.value = question;
      this.input.focus(); // the button goes with the empty state; focus must not fall to the page
      this.send();
    }

    open() {
      this.panel.hidden = false;
      this.root.classList.add("open");
      this.launcher.setAttribute("aria-expanded", "true");
      this.watchViewport(true);
      this.input.focus();
      this.loadFacts();
    }

    close() {
      this.panel.hidden = true;
      this.root.classList.remove("open");
      this.launcher.setAttribute("aria-expanded", "false");
      this.watchViewport(false);
      this.launcher.focus();
    }

    get modalOpen() {
      return this.launcherMode && this.panel && !this.panel.hidden;
    }

    onShortcut = (event) => {
      if (!this.shortcut || event.defaultPrevented || event.repeat || event.isComposing) return;
      if (!shortcutMatches(this.shortcut, event)) return;
      const ours = event.composedPath().includes(this);
      if (!ours && typingIn(event)) return; // the key belongs to whatever the user is typing in
      event.preventDefault();
      if (!this.launcherMode) this.input.focus();
      else if (this.panel.hidden) this.open();
      else if (ours) this.close();
      else this.input.focus();
    };

    /** While the launcher's panel is open it is modal: focus that lands on the page comes back. */
    onFocusElsewhere = (event) => {
      if (!this.modalOpen || event.composedPath().includes(this)) return;
      const back = this.lastFocus && this.panel.contains(this.lastFocus) && this.focusable().includes(this.lastFocus);
      (back ? this.lastFocus : this.input).focus();
    };

    focusable() {
      return [...this.panel.querySelectorAll('button, textarea, [tabindex]:not([tabindex="-1"])')].filter(
        (node) => !node.disabled && node.getClientRects().length > 0,
      );
    }

    /** Tab and Shift+Tab go round the panel's controls instead of leaving it. */
    containTab(event) {
      const items = this.focusable();
      if (!items.length) return;
      const active = this.shadowRoot.activeElement;
      const first = items[0];
      const last = items[items.length - 1];
      let target = null;
      if (event.shiftKey && (active === first || !this.panel.contains(active))) target = last;
      else if (!event.shiftKey && (active === last || !this.panel.contains(active))) target = first;
      if (target) {
        event.preventDefault();
        target.focus();
      }
    }

    /**
     * On a phone the panel fills the screen; when the on-screen keyboard takes part of it, the panel
     * shrinks to the visible part, so the question box stays just above the keyboard.
     */
    watchViewport(on) {
      const viewport = window.visualViewport;
      if (!viewport) return;
      if (on) {
        viewport.addEventListener("resize", this.fitViewport);
        viewport.addEventListener("scroll", this.fitViewport);
        this.fitViewport();
      } else {
        viewport.removeEventListener("resize", this.fitViewport);
        viewport.removeEventListener("scroll", this.fitViewport);
        if (this.panel) this.panel.classList.remove("fit");
      }
    }

    fitViewport = () => {
      const viewport = window.visualViewport;
      const squeezed =
        window.matchMedia(PHONE).matches &&
        Math.abs(viewport.scale - 1) < 0.01 && // not while pinch-zoomed
        (viewport.height < window.innerHeight - 1 || viewport.offsetTop > 0);
      this.panel.classList.toggle("fit", squeezed);
      if (!squeezed) return;
      this.panel.style.setProperty("--qa-viewport-top", `${viewport.offsetTop}px`);
      this.panel.style.setProperty("--qa-viewport-height", `${viewport.height}px`);
    };

    onInputKey(event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    }

    onPanelKey(event) {
      if (event.key === "Tab" && this.launcherMode) {
        this.containTab(event);
        return;
      }
      if (event.key !== "Escape") return;
      if (!this.docView.hidden) this.closeDocument();
      else if (this.launcherMode) this.close();
      else return;
      event.preventDefault();
      event.stopPropagation();
    }

    announce(message) {
      this.live.textContent = message;
    }

    async loadFacts() {
      if (this.factsLoaded) return;
      this.factsLoaded = true;
      try {
        const response = await fetch(new URL("health", API), { headers: this.auth() });
        if (!response.ok) throw new Error(await problem(response));
        const { index } = await response.json();
        this.facts.textContent = this.t("facts", {
          documents: this.number(index.documents), passages: this.number(index.passages),
        });
      } catch (_) {
        this.factsLoaded = false; // say nothing here; asking shows the error
      }
    }

    async send() {
      const question = this.input.value;
      if (this.pending) return;
      if (!question.trim()) {
        this.showError(this.t("empty-question"));
        return;
      }
      this.pending = true;
      this.sendButton.setAttribute("aria-disabled", "true");
      this.error.hidden = true;
      this.empty.remove();
      const status = el("p", { class: "status" }, this.t("searching"));
      const turn = el("li", { class: "turn" }, el("p", { class: "question" }, question), status);
      this.log.append(turn);
      this.log.scrollTop = turn.offsetTop;
      this.announce(this.t("searching"));
      try {
        let response;
        try {
          response = await fetch(new URL("ask", API), {
            method: "POST",
            headers: { "Content-Type": "application/json", ...this.auth() },
            body: JSON.stringify({
              question, history: this.history.slice(-HISTORY_TURNS), ...(this.filters ? { filters: this.filters } : {}),
            }),
          });
        } catch (_) {
          throw new Error(this.t("unreachable", { origin: API.origin }));
        }
        if (!response.ok) {
          const detail = await problem(response);
          throw new Error(response.status >= 500 ? this.t("server-failed", { detail }) : detail);
        }
        const answer = await response.json();
        status.replaceWith(this.renderAnswer(answer));
        this.history.push(question);
        if (this.input.value === question) this.input.value = "";
        this.log.scrollTop = turn.offsetTop;
        this.announce(this.summary(answer));
      } catch (error) {
        turn.remove();
        if (!this.log.children.length) this.log.append(this.empty);
        this.showError(error.message);
      } finally {
        this.pending = false;
        this.sendButton.removeAttribute("aria-disabled");
      }
    }

    showError(message) {
      this.error.textContent = message;
      this.error.hidden = false;
      this.announce(message);
    }

    missingWords(answer) {
      const words = answer.missing_words || [];
      return words.length ? this.t("missing-words", { words: words.join(", ") }) : "";
    }

    summary(answer) {
      const line = this.missingWords(answer);
      const missing = line ? `${line}. ` : "";
      const best = answer.passages[0];
      if (!best) return missing + this.t("no-passages");
      const [, sentence] = splitAt(best.text, best.highlight.start, best.highlight.end);
      const count = this.count(answer.passages.length);
      if (!answer.answered) return `${missing}${this.t("not-answered")} ${count}.`;
      return missing + this.t("summary", { count, title: best.citation.title, sentence: sentence || best.text });
    }

    renderAnswer(answer) {
      const box = el("div", { class: "answer" });
      // A typo, or what the documents never mention: said before the passages, not guessed at.
      const missing = this.missingWords(answer);
      if (missing) box.append(el("p", { class: "missing" }, missing));
      if (!answer.answered) box.append(el("p", { class: "notice" }, this.t("not-answered")));
      if (!answer.passages.length) {
        box.append(el("p", { class: "status" }, this.t("no-passages")));
        return box;
      }
      const list = el("ol", { class: "passages", "aria-label": this.t("passages") });
      for (const [index, passage] of answer.passages.entries()) {
        const citation = passage.citation;
        // Named by what it shows (title, then where), and described by what it does: a link to the source
        // at the quote (the server's viewer, or the web page) in a new tab; without one, the document here.
        const parts = [
          el("span", { class: "cite-title" }, citation.title),
          el("span", { class: "cite-where" }, this.location(citation)),
        ];
        let cite;
        if (citation.url && /^https?:/i.test(citation.url)) {
          cite = el(
            "a",
            { class: "cite", href: citation.url, target: "_blank", rel: "noopener noreferrer", "aria-describedby": this.citeLinkHintId },
            ...parts,
          );
        } else {
          cite = el("button", { type: "button", class: "cite", "aria-describedby": this.citeHintId }, ...parts);
          cite.addEventListener("click", () => this.openDocument(passage, cite));
        }
        const quote = el("blockquote", { id: `${this.baseId}-passage-${this.answers}-${index}` }, ...quotedParts(passage, false));
        // Where in the document the quote stands (its headings, outermost first), shown above it.
        const section = (citation.section || []).length
          ? el("p", { class: "cite-section" }, citation.section.join(" › "))
          : null;
        list.append(el(
          "li", { class: "passage" },
          section, quote, isCut(passage) ? this.wholeToggle(passage, quote) : null, cite, this.alsoIn(passage),
          this.voteButtons(answer, passage),
        ));
      }
      this.answers += 1;
      box.append(list);
      return box;
    }

    /** The other places holding the passage's very words (a copied page, a man page and its web page):
     * cited, each linking to its own spot where it has a link, and not quoted again. */
    alsoIn(passage) {
      const places = passage.also || [];
      if (!places.length) return null;
      const line = el("p", { class: "also" }, this.t("also-in"), " ");
      places.forEach((citation, index) => {
        const where = this.location(citation);
        const linked = citation.url && /^https?:/i.test(citation.url);
        line.append(
          index ? ", " : "",
          linked ? el("a", { href: citation.url, target: "_blank", rel: "noopener noreferrer" }, where) : where,
        );
      });
      return line;
    }

    /** The read key of attribute api-key (or data-api-key), sent with every request. */
    auth() {
      const key = (this.getAttribute("api-key") || "").trim();
      return key ? { Authorization: `Bearer ${key}` } : {};
    }

    /** Thumbs up/down for one passage (inline SVG: no emoji font needed), real buttons named in words,
     * aria-pressed on the vote sent; and "Copy quote". */
    voteButtons(answer, passage) {
      const group = el("div", { class: "votes", role: "group", "aria-label": this.t("votes") });
      const buttons = [["up", THUMB_UP, "vote-up"], ["down", THUMB_DOWN, "vote-down"]].map(([vote, shape, label]) => {
        const button = el(
          "button",
          { type: "button", "aria-pressed": "false", "aria-label": this.t(label), title: this.t(label), "data-vote": vote },
          icon(shape, 18),
        );
        button.addEventListener("click", () => this.sendVote(answer, passage, vote, buttons));
        return button;
      });
      const copy = el("button", { type: "button", class: "copy" }, icon(COPY, 16), this.t("copy-quote"));
      copy.addEventListener("click", () => this.copyQuote(passage));
      group.append(...buttons, copy);
      return group;
    }

    /** The passage, verbatim, with its citation: title, source, page, section and link; then the other
     * places that hold its words. */
    quoteText(passage) {
      const citation = passage.citation;
      const where = [this.location(citation), (citation.section || []).join(" › ")].filter(Boolean).join(" · ");
      const also = (passage.also || []).map((place) => [this.location(place), place.url].filter(Boolean).join(" "));
      return [
        `“${passage.text}”`, `— ${citation.title} (${where})`, citation.url,
        also.length ? `${this.t("also-in")} ${also.join(", ")}` : null,
      ].filter(Boolean).join("\n");
    }

    async copyQuote(passage) {
      const text = this.quoteText(passage);
      try {
        if (navigator.clipboard && window.isSecureContext) {
          await navigator.clipboard.writeText(text);
        } else {
          // Plain http on another host has no async clipboard: the old way, through a selection.
          const area = el("textarea", { class: "sr-only", "aria-hidden": "true" });
          area.value = text;
          this.shadowRoot.append(area);
          area.select();
          const done = document.execCommand("copy");
          area.remove();
          if (!done) throw new Error("the browser refused");
        }
        this.announce(this.t("copied"));
      } catch (error) {
        this.showError(this.t("copy-failed", { detail: error.message }));
      }
    }

    async sendVote(answer, passage, vote, buttons) {
      const { doc_id, start, end } = passage.citation;
      try {
        let response;
        try {
          response = await fetch(new URL("feedback", API), {
            method: "POST",
            headers: { "Content-Type": "application/json", ...this.auth() },
            body: JSON.stringify({ question: answer.question, doc_id, start, end, vote }),
          });
        } catch (_) {
          throw new Error(this.t("unreachable", { origin: API.origin }));
        }
        if (!response.ok) throw new Error(await problem(response));
        for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.vote === vote));
        this.announce(this.t("voted"));
      } catch (error) {
        this.showError(this.t("vote-failed", { detail: error.message }));
      }
    }

    /** "Show the whole passage": a real button, so Enter and Space work; aria-expanded says which form shows. */
    wholeToggle(passage, quote) {
      const toggle = el(
        "button",
        { type: "button", class: "more", "aria-expanded": "false", "aria-controls": quote.id },
        this.t("show-whole"),
      );
      toggle.addEventListener("click", () => {
        const whole = toggle.getAttribute("aria-expanded") !== "true";
        quote.replaceChildren(...quotedParts(passage, whole));
        toggle.setAttribute("aria-expanded", String(whole));
        toggle.textContent = this.t(whole ? "show-short" : "show-whole");
      });
      return toggle;
    }

    async fetchDocument(docId) {
      if (!this.documents.has(docId)) {
        const url = new URL(`documents/${encodeURIComponent(docId)}`, API);
        const request = fetch(url, { headers: this.auth() }).then(async (response) => {
          if (!response.ok) throw new Error(await problem(response));
          return response.json();
        });
        this.documents.set(docId, request);
        request.catch(() => this.documents.delete(docId));
      }
      return this.documents.get(docId);
    }

    async openDocument(passage, opener) {
      let doc;
      try {
        doc = await this.fetchDocument(passage.citation.doc_id);
      } catch (error) {
        this.showError(this.t("open-failed", { detail: error.message }));
        return;
      }
      const { start, end } = passage.citation;
      const [before, cited, after] = splitAt(doc.text, start, end);
      const mark = el("mark", { class: "passage-mark" });
      if (cited === passage.text) {
        const [lead, best, rest] = splitAt(cited, passage.highlight.start, passage.highlight.end);
        mark.append(lead, best ? el("mark", { class: "best" }, best) : null, rest);
      } else {
        mark.append(cited);
      }
      this.docTitle.textContent = doc.title;
      this.docWhere.textContent = this.location(passage.citation);
      this.docText.replaceChildren(before, mark, after);
      this.opener = opener;
      this.chatView.hidden = true;
      this.docView.hidden = false;
      // Scroll only the document box; scrollIntoView would also scroll the embedding page.
      this.docText.scrollTop = Math.max(0, mark.offsetTop - this.docText.clientHeight / 4);
      this.docText.focus({ preventScroll: true });
      this.announce(this.t("opened", { title: doc.title }));
    }

    closeDocument() {
      this.docView.hidden = true;
      this.chatView.hidden = false;
      if (this.opener) this.opener.focus();
    }
  }

  window.customElements.define("qa-chat", QAChat);

  function addLauncher() {
    if (document.querySelector("qa-chat") || (script && script.dataset.launcher === "false")) return;
    document.body.append(el("qa-chat", { launcher: true }));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", addLauncher);
  else addLauncher();
})();
