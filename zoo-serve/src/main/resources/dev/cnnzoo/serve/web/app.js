// The catalog's two pages. The data come from the server (/api/catalog, /api/models/ID), which
// takes them from the zoo's library; this script only lays them out. No build step.
"use strict";

const grouped = n => n == null ? "" : Number(n).toLocaleString("en-US");
const count = n => n >= 1e9 ? (n / 1e9).toFixed(2) + "G" : n >= 1e6 ? (n / 1e6).toFixed(1) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "K" : String(n);
const bytes = b => b >= 2 ** 30 ? (b / 2 ** 30).toFixed(2) + " GiB" : b >= 2 ** 20 ? (b / 2 ** 20).toFixed(1) + " MiB" : (b / 1024).toFixed(1) + " KiB";

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

async function getJson(url) {
  const r = await fetch(url);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || r.status + " " + r.statusText);
  return body;
}

function showError(id, e) {
  const p = document.getElementById(id);
  p.textContent = String(e.message || e);
  p.hidden = false;
}

function reportedError(m) {
  if (!m.reported) return "";
  const r = m.reported;
  return [r.top1 != null ? r.top1 + "%" : "–", r.top5 != null ? r.top5 + "%" : "–"].join(" / ");
}

function benchSummary(m) {
  return m.bench.map(b => `${Math.round(b.images_per_second).toLocaleString("en-US")} img/s @${b.batch} (p50 ${b.p50_ms.toFixed(2)} ms)`).join("; ");
}

// ---- the catalog --------------------------------------------------------------------------

function catalogPage() {
  const state = { models: [], key: null, desc: false };
  const tbody = document.querySelector("#catalog tbody");
  const sortValue = {
    id: m => m.id, family: m => m.family, year: m => m.year, parameters: m => m.parameters, macs: m => m.macs,
    input: m => m.input, paper: m => m.paper.citation, top1: m => m.reported && m.reported.top1 != null ? m.reported.top1 : Infinity,
    bench: m => m.bench.length ? m.bench[0].images_per_second : -1,
  };

  function render() {
    let rows = state.models.slice();
    if (state.key) {
      const f = sortValue[state.key];
      rows.sort((a, b) => { const x = f(a), y = f(b); return (x < y ? -1 : x > y ? 1 : 0) * (state.desc ? -1 : 1); });
    }
    tbody.replaceChildren(...rows.map(m => el("tr", { "data-id": m.id },
      el("td", {}, el("a", { href: "/models/" + encodeURIComponent(m.id), text: m.id }),
        m.served ? el("span", { class: "badge served", text: "served", title: m.served_with }) : null,
        m.pretrained ? el("span", { class: "badge pretrained", text: "pretrained" }) : null),
      el("td", { text: m.family }),
      el("td", { class: "num", text: m.year }),
      el("td", { class: "num", text: grouped(m.parameters) }),
      el("td", { class: "num", text: count(m.macs) }),
      el("td", { text: m.input }),
      el("td", { class: "paper" }, m.paper.url ? el("a", { href: m.paper.url, text: m.paper.citation }) : m.paper.citation),
      el("td", { class: "num", text: reportedError(m), title: m.reported ? m.reported.protocol : "" }),
      el("td", { class: "num", text: benchSummary(m) }))));
  }

  async function load(glob) {
    try {
      const doc = await getJson("/api/catalog" + (glob ? "?glob=" + encodeURIComponent(glob) : ""));
      state.models = doc.models;
      document.getElementById("count").textContent = `${doc.models.length} of ${doc.total} models`;
      const served = doc.models.filter(m => m.served).map(m => m.id);
      if (!glob) document.getElementById("served").textContent = served.length ? served.join(", ") : "no model (catalog only)";
      if (doc.bench_machine) {
        const p = document.getElementById("bench-machine");
        p.textContent = "Benchmark figures (zoo bench): " + doc.bench_machine;
        p.hidden = false;
      }
      document.getElementById("error").hidden = true;
      render();
    } catch (e) {
      showError("error", e);
    }
  }

  document.querySelectorAll("#catalog th").forEach(th => th.addEventListener("click", () => {
    const key = th.dataset.key;
    state.desc = state.key === key ? !state.desc : false;
    state.key = key;
    document.querySelectorAll("#catalog th").forEach(h => h.classList.remove("asc", "desc"));
    th.classList.add(state.desc ? "desc" : "asc");
    render();
  }));
  let timer = null;
  const filter = document.getElementById("filter");
  filter.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(filter.value.trim()), 150);
  });
  load("");
}

// ---- one model ----------------------------------------------------------------------------

function modelPage() {
  const id = decodeURIComponent(location.pathname.split("/").pop());
  document.getElementById("model-id").textContent = id;
  document.title = "cnn-zoo: " + id;

  async function loadInfo(depth) {
    try {
      const m = await getJson("/api/models/" + encodeURIComponent(id) + (depth ? "?depth=" + depth : ""));
      document.getElementById("description").textContent = m.description;
      const info = [
        ["family", m.family],
        ["paper", m.paper.url ? el("a", { href: m.paper.url, text: m.paper.citation }) : m.paper.citation],
        ["venue", m.paper.venue],
        ["input", `${m.input}, ${m.classes} classes`],
        ["preprocessing", m.preprocessing],
        ["reported", m.reported ? [m.reported.top1 != null ? `top-1 error ${m.reported.top1}%` : null,
          m.reported.top5 != null ? `top-5 error ${m.reported.top5}%` : null].filter(x => x).join(", ") + ` (${m.reported.protocol})` : "–"],
        ["parameters", grouped(m.parameters) + (m.parameters_with_auxiliary !== m.parameters ? ` (${grouped(m.parameters_with_auxiliary)} with the auxiliary classifiers)` : "") + `; ${grouped(m.state_scalars)} state`],
        ["MACs", grouped(m.macs) + " per image"],
        ["memory", `weights ${bytes(m.weight_bytes)}; activations ${bytes(m.inference_activation_bytes)} at inference (batch 1), ${bytes(m.training_activation_bytes_batch_32)} in training (batch 32)`],
        ...Object.entries(m.options).map(([k, v]) => ["option " + k, v]),
        ...(m.bench.length ? [["benchmark", benchSummary(m)]] : []),
      ];
      document.querySelector("#info tbody").replaceChildren(...info.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", {}, v))));
      document.querySelector("#layers tbody").replaceChildren(...m.layers.map(r => el("tr", {},
        el("td", { text: r.layer }), el("td", { text: r.ops, title: r.ops }), el("td", { text: r.output }),
        el("td", { class: "num", text: grouped(r.parameters) }), el("td", { class: "num", text: grouped(r.macs) }))));
      document.querySelector("#layers tfoot").replaceChildren(el("tr", {}, el("th", { text: "total" }), el("th"), el("th"),
        el("th", { class: "num", text: grouped(m.parameters_with_auxiliary) }), el("th", { class: "num", text: grouped(m.macs) })));
      const note = document.getElementById("try-note");
      if (m.classifies) {
        note.textContent = `Upload an image: ${m.served_with} classifies it, preprocessed as zoo predict does (${m.preprocessing}).`;
      } else {
        note.textContent = m.served ? "This model is served without its classifier: use /v2/models/" + id + "/infer."
          : `This model is not served here; start the server with it: zoo serve ${id} --weights FILE.safetensors` + (m.pretrained ? " (or --weights pretrained)" : "");
        document.getElementById("try-form").hidden = true;
      }
    } catch (e) {
      showError("error", e);
    }
  }

  document.getElementById("depth").addEventListener("change", e => loadInfo(e.target.value));
  document.getElementById("image").addEventListener("change", e => {
    const f = e.target.files[0];
    if (f) {
      const img = document.getElementById("preview");
      img.src = URL.createObjectURL(f);
      img.hidden = false;
    }
  });
  document.getElementById("try-form").addEventListener("submit", async e => {
    e.preventDefault();
    const f = document.getElementById("image").files[0];
    const err = document.getElementById("try-error");
    err.hidden = true;
    if (!f) { showError("try-error", "choose an image first"); return; }
    const list = document.getElementById("top");
    list.replaceChildren();
    try {
      const r = await fetch("/v2/models/" + encodeURIComponent(id) + "/classify?top=5", {
        method: "POST", headers: { "Content-Type": f.type || "application/octet-stream" }, body: f });
      const body = await r.json();
      if (!r.ok) throw new Error(body.error || r.statusText);
      list.replaceChildren(...body.classes.map(c => el("li", { "data-index": c.index },
        el("span", { class: "label", text: c.label }), " ",
        el("span", { class: "probability", text: (100 * c.probability).toFixed(2) + "%" }),
        el("span", { class: "bar", style: `width:${Math.max(1, Math.round(200 * c.probability))}px` }))));
    } catch (x) {
      showError("try-error", x);
    }
  });
  loadInfo("");
}
