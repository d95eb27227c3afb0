/*
 * qa chat widget: ask questions of the indexed documents from any page.
 *
 *   <script src="http://127.0.0.1:8000/widget.js" defer></script>   adds a launcher button and a chat panel
 *   <qa-chat></qa-chat>                                              shows the chat inline instead
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
  const NOT_ANSWERED = "No passage answers this confidently. The closest passages are below.";
  const HISTORY_TURNS = 10;
  const SVG = "http://www.w3.org/2000/svg";

  const STYLE = `
    :host { display: block; }
    :host([hidden]) { display: none; }
    .root {
      all: initial; display: block;
      font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
      color: #1f2328; text-align: left; letter-spacing: normal; word-spacing: normal;
    }
    *, *::before, *::after { box-sizing: border-box; }
    [hidden] { display: none !important; }
    :focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
    button {
      font: inherit; color: inherit; cursor: pointer; margin: 0;
      border: 1px solid #b7bfc8; border-radius: 8px; background: #fff; padding: 6px 12px;
    }
    button:hover { background: #f1f4f8; }
    .sr-only {
      position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0;
      overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
    }
    .launcher {
      position: fixed; right: 16px; bottom: 16px; z-index: 2147483646;
      display: flex; align-items: center; gap: 8px; padding: 12px 18px; border-radius: 999px;
      border: 0; background: #0b57d0; color: #fff; font-weight: 600;
      box-shadow: 0 4px 14px rgba(0, 0, 0, .25);
    }
    .launcher:hover { background: #0842a0; }
    .launcher:focus-visible { outline-color: #1f2328; outline-offset: 3px; }
    .panel {
      display: flex; flex-direction: column; overflow: hidden; position: relative;
      background: #fff; border: 1px solid #d0d7de; border-radius: 12px;
      height: var(--qa-chat-height, 560px);
    }
    :host([launcher]) .panel {
      position: fixed; right: 16px; bottom: 80px; z-index: 2147483647;
      width: min(420px, calc(100vw - 32px)); height: min(640px, calc(100vh - 104px));
      box-shadow: 0 12px 32px rgba(0, 0, 0, .25);
    }
    @media (max-width: 480px) {
      :host([launcher]) .panel { left: 8px; right: 8px; bottom: 72px; width: auto; height: calc(100vh - 84px); }
      :host([launcher]) .launcher { right: 8px; bottom: 8px; }
    }
    header {
      display: flex; align-items: center; gap: 8px; padding: 10px 14px;
      border-bottom: 1px solid #d0d7de; background: #f6f8fa;
    }
    header .titles { flex: 1; min-width: 0; }
    h2 { font-size: 16px; margin: 0; font-weight: 650; }
    .facts { margin: 0; font-size: 12px; color: #57606a; }
    .view { flex: 1; min-height: 0; display: flex; flex-direction: column; }
    .log { flex: 1; overflow-y: auto; padding: 12px 14px; margin: 0; list-style: none; position: relative; }
    .empty { color: #57606a; margin: 8px 0; }
    .turn { margin: 0 0 18px; }
    .question {
      margin: 0 0 10px auto; width: fit-content; max-width: 88%; padding: 8px 12px;
      border-radius: 12px 12px 2px 12px; background: #0b57d0; color: #fff;
      white-space: pre-wrap; overflow-wrap: anywhere;
    }
    .status { color: #57606a; margin: 4px 0; }
    .notice {
      margin: 0 0 10px; padding: 8px 10px; border-left: 4px solid #bf8700;
      background: #fff8c5; border-radius: 4px;
    }
    .passages { margin: 0; padding: 0 0 0 22px; }
    .passage { margin: 0 0 12px; }
    .passage::marker { color: #57606a; font-size: 13px; }
    blockquote {
      margin: 0 0 6px; padding: 8px 10px; background: #f6f8fa; border-radius: 8px;
      white-space: pre-wrap; overflow-wrap: anywhere;
    }
    mark { background: #ffe066; color: inherit; padding: 0 1px; border-radius: 2px; }
    .cite { display: block; width: 100%; text-align: left; padding: 6px 10px; font-size: 13px; }
    .cite-title { display: block; font-weight: 600; color: #0b57d0; overflow-wrap: anywhere; }
    .cite-where { display: block; color: #57606a; overflow-wrap: anywhere; }
    .error {
      margin: 0 14px 8px; padding: 8px 10px; border-radius: 6px;
      background: #ffebe9; color: #82071e; border: 1px solid #ff818266;
    }
    form { display: flex; gap: 8px; align-items: flex-end; padding: 10px 14px; border-top: 1px solid #d0d7de; }
    textarea {
      flex: 1; min-width: 0; resize: none; font: inherit; color: inherit; margin: 0;
      padding: 8px 10px; border: 1px solid #8c959f; border-radius: 8px; background: #fff;
      min-height: 44px; max-height: 160px;
    }
    .send { background: #0b57d0; color: #fff; border-color: #0b57d0; font-weight: 600; min-height: 44px; }
    .send:hover { background: #0842a0; }
    .send[aria-disabled="true"] { opacity: .6; cursor: progress; }
    .doc-head { padding: 10px 14px; border-bottom: 1px solid #d0d7de; }
    .doc-head h3 { font-size: 15px; margin: 8px 0 0; overflow-wrap: anywhere; }
    .doc-head p { margin: 0; font-size: 13px; color: #57606a; overflow-wrap: anywhere; }
    .doc-text {
      flex: 1; overflow-y: auto; margin: 0; padding: 12px 14px; position: relative;
      white-space: pre-wrap; overflow-wrap: anywhere;
    }
    .doc-text mark.passage-mark { background: #fff3bf; }
    .doc-text mark.best { background: #ffd43b; }
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

  /** A speech-bubble icon, drawn rather than an emoji: not every system has an emoji font. */
  function bubbleIcon() {
    const svg = document.createElementNS(SVG, "svg");
    for (const [name, value] of Object.entries({ viewBox: "0 0 24 24", width: 20, height: 20, "aria-hidden": "true" })) {
      svg.setAttribute(name, String(value));
    }
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    svg.append(path);
    return svg;
  }

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

  /** The passage text with its best sentence in a <mark>. */
  function quoted(text, highlight) {
    const [before, best, after] = splitAt(text, highlight.start, highlight.end);
    return el("blockquote", {}, before, best ? el("mark", {}, best) : null, after);
  }

  function location(citation) {
    return citation.page ? `${citation.source}, page ${citation.page}` : citation.source;
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

  let nextId = 0;

  class QAChat extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      const id = `qa-chat-${nextId++}`;
      this.launcherMode = this.hasAttribute("launcher");
      this.history = [];
      this.documents = new Map();
      this.pending = false;

      const shadow = this.attachShadow({ mode: "open" });
      this.live = el("div", { class: "sr-only", role: "status", "aria-live": "polite" });
      this.log = el("ol", { class: "log", "aria-label": "Conversation" });
      this.empty = el("li", { class: "empty" }, "Ask a question; answers are passages quoted from the documents.");
      this.log.append(this.empty);
      this.error = el("p", { class: "error", role: "alert", hidden: true });
      this.input = el("textarea", {
        id: `${id}-question`, rows: 2, "aria-describedby": `${id}-hint`,
        placeholder: "Ask a question…", onkeydown: (event) => this.onInputKey(event),
      });
      this.sendButton = el("button", { type: "submit", class: "send" }, "Ask");
      const form = el(
        "form", { onsubmit: (event) => { event.preventDefault(); this.send(); } },
        el("label", { for: `${id}-question`, class: "sr-only" }, "Your question"),
        this.input,
        el("span", { id: `${id}-hint`, class: "sr-only" }, "Enter sends, Shift+Enter starts a new line."),
        this.sendButton,
      );
      this.chatView = el("div", { class: "view" }, this.log, this.error, form);

      this.backButton = el("button", { type: "button", onclick: () => this.closeDocument() }, "← Back to answers");
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
        el("div", { class: "titles" }, el("h2", { id: `${id}-title` }, "Ask the documents"), this.facts),
      );
      this.panel = el(
        "section",
        {
          id: `${id}-panel`, class: "panel", "aria-labelledby": `${id}-title`,
          role: this.launcherMode ? "dialog" : "region", hidden: this.launcherMode,
          onkeydown: (event) => this.onPanelKey(event),
        },
        header, this.chatView, this.docView, this.live,
      );
      const root = el("div", { class: "root" });
      if (this.launcherMode) {
        header.append(el("button", { type: "button", "aria-label": "Close", onclick: () => this.close() }, "✕"));
        this.launcher = el(
          "button",
          {
            type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": `${id}-panel`,
            onclick: () => (this.panel.hidden ? this.open() : this.close()),
          },
          bubbleIcon(), "Ask the documents",
        );
        root.append(this.launcher);
      }
      root.append(this.panel);
      shadow.append(el("style", {}, STYLE), root);
      if (!this.launcherMode) this.loadFacts();
    }

    open() {
      this.panel.hidden = false;
      this.launcher.setAttribute("aria-expanded", "true");
      this.input.focus();
      this.loadFacts();
    }

    close() {
      this.panel.hidden = true;
      this.launcher.setAttribute("aria-expanded", "false");
      this.launcher.focus();
    }

    onInputKey(event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    }

    onPanelKey(event) {
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
        const response = await fetch(new URL("health", API));
        if (!response.ok) throw new Error(await problem(response));
        const { index } = await response.json();
        this.facts.textContent = `${index.documents} documents · ${index.passages} passages`;
      } catch (_) {
        this.factsLoaded = false; // say nothing here; asking shows the error
      }
    }

    async send() {
      const question = this.input.value;
      if (this.pending) return;
      if (!question.trim()) {
        this.showError("Type a question first.");
        return;
      }
      this.pending = true;
      this.sendButton.setAttribute("aria-disabled", "true");
      this.error.hidden = true;
      this.empty.remove();
      const status = el("p", { class: "status" }, "Searching the documents…");
      const turn = el("li", { class: "turn" }, el("p", { class: "question" }, question), status);
      this.log.append(turn);
      this.log.scrollTop = turn.offsetTop;
      this.announce("Searching the documents…");
      try {
        let response;
        try {
          response = await fetch(new URL("ask", API), {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ question, history: this.history.slice(-HISTORY_TURNS) }),
          });
        } catch (_) {
          throw new Error(`Could not reach the server at ${API.origin}. Your question is kept; try again.`);
        }
        if (!response.ok) {
          const detail = await problem(response);
          throw new Error(response.status >= 500 ? `The server failed (${detail}). Try again.` : detail);
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

    summary(answer) {
      const best = answer.passages[0];
      if (!best) return "No passages found.";
      const [, sentence] = splitAt(best.text, best.highlight.start, best.highlight.end);
      const count = `${answer.passages.length} passage${answer.passages.length === 1 ? "" : "s"}`;
      if (!answer.answered) return `${NOT_ANSWERED} ${count}.`;
      return `Answer, ${count}. Best, from ${best.citation.title}: ${sentence || best.text}`;
    }

    renderAnswer(answer) {
      const box = el("div", { class: "answer" });
      if (!answer.answered) box.append(el("p", { class: "notice" }, NOT_ANSWERED));
      if (!answer.passages.length) {
        box.append(el("p", { class: "status" }, "No passages found."));
        return box;
      }
      const list = el("ol", { class: "passages", "aria-label": "Passages, best first" });
      for (const passage of answer.passages) {
        const citation = passage.citation;
        const cite = el(
          "button",
          {
            type: "button", class: "cite",
            "aria-label": `Open ${citation.title}, ${location(citation)}, at this passage`,
          },
          el("span", { class: "cite-title" }, citation.title),
          el("span", { class: "cite-where" }, location(citation)),
        );
        cite.addEventListener("click", () => this.openDocument(passage, cite));
        list.append(el("li", { class: "passage" }, quoted(passage.text, passage.highlight), cite));
      }
      box.append(list);
      return box;
    }

    async fetchDocument(docId) {
      if (!this.documents.has(docId)) {
        const request = fetch(new URL(`documents/${encodeURIComponent(docId)}`, API)).then(async (response) => {
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
        this.showError(`Could not open the document: ${error.message}`);
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
      this.docWhere.textContent = location(passage.citation);
      this.docText.replaceChildren(before, mark, after);
      this.opener = opener;
      this.chatView.hidden = true;
      this.docView.hidden = false;
      // Scroll only the document box; scrollIntoView would also scroll the embedding page.
      this.docText.scrollTop = Math.max(0, mark.offsetTop - this.docText.clientHeight / 4);
      this.docText.focus({ preventScroll: true });
      this.announce(`Opened ${doc.title} at the cited passage. Escape goes back to the answers.`);
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
