// corpusmap explorer: small progressive enhancements, no library.
// Every text from the server is put into the page with textContent, never innerHTML.
"use strict";

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function showSources(output, start, length) {
  const box = document.getElementById("sources");
  const list = document.getElementById("sources-list");
  const title = document.getElementById("sources-title");
  const params = new URLSearchParams({
    gen_id: output.dataset.genId, results: output.dataset.results, start: start, length: length,
  });
  box.hidden = false;
  list.replaceChildren(el("p", "meta", "looking up…"));
  document.querySelectorAll("mark.span.chosen, tr.span-row.chosen").forEach((m) => m.classList.remove("chosen"));
  document.querySelectorAll(`mark.span[data-start="${start}"][data-length="${length}"]`).forEach((m) => m.classList.add("chosen"));
  document.querySelectorAll(`tr.span-row[data-start="${start}"][data-length="${length}"]`).forEach((m) => m.classList.add("chosen"));
  fetch("/api/span?" + params.toString())
    .then((r) => r.json().then((data) => ({ ok: r.ok, data })))
    .then(({ ok, data }) => {
      list.replaceChildren();
      if (!ok) { list.append(el("p", "error", data.error)); return; }
      title.textContent = `${data.length} tokens, ${data.count.toLocaleString()} occurrence(s) in the corpus` +
        (data.hits.length < data.count ? `; the first ${data.hits.length} shown` : "");
      for (const h of data.hits) {
        const hit = el("div", "hit");
        const meta = el("div", "hit-meta");
        const a = el("a", "doc-link", h.id);
        a.href = `/document/${encodeURIComponent(data.results)}/${h.doc_id}`;
        meta.append(a, el("span", "meta", `  ${h.source || ""} · row ${h.row} · doc ${h.doc_id} · token ${h.offset}`));
        const m = typeof h.meta === "string" ? h.meta : JSON.stringify(h.meta);
        if (m && m !== "{}" && m !== "null") meta.append(el("div", "meta txt", m));
        const ctx = el("div", "ctx");
        ctx.append(document.createTextNode(h.before + " "), el("mark", "hit-match", h.match),
                   document.createTextNode(" " + h.after));
        hit.append(meta, ctx);
        list.append(hit);
      }
      if (!data.hits.length) list.append(el("p", "note", "No occurrence found."));
    })
    .catch((err) => list.replaceChildren(el("p", "error", "lookup failed: " + err)));
}

function setupGeneration() {
  const output = document.getElementById("output");
  if (!output) return;
  output.addEventListener("click", (ev) => {
    const m = ev.target.closest("mark.span");
    if (m) showSources(output, m.dataset.start, m.dataset.length);
  });
  output.addEventListener("mouseover", (ev) => {
    const m = ev.target.closest("mark.span");
    output.querySelectorAll("mark.hover").forEach((x) => x.classList.remove("hover"));
    if (m) output.querySelectorAll(`mark.span[data-span="${m.dataset.span}"]`).forEach((x) => x.classList.add("hover"));
  });
  document.querySelectorAll("a.show-span").forEach((a) => a.addEventListener("click", (ev) => {
    ev.preventDefault();
    const row = a.closest("tr");
    showSources(output, row.dataset.start, row.dataset.length);
  }));
  document.querySelectorAll('input[name="colour"]').forEach((r) => r.addEventListener("change", () => {
    output.classList.toggle("by-length", r.value === "length" && r.checked);
    output.classList.toggle("by-count", r.value === "count" && r.checked);
  }));
}

document.addEventListener("DOMContentLoaded", setupGeneration);
