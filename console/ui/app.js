// The Spool console: one page, routed by the URL's fragment, reading the
// node's JSON API under /v1/. Every value from the API is put into the page
// as text, never as markup.
"use strict";

const main = document.getElementById("main");
const statusEl = document.getElementById("status");
let timers = [];

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

async function api(path) {
  const resp = await fetch("/v1/" + path, { headers: { Accept: "application/json" } });
  let body;
  try { body = await resp.json(); } catch (e) { body = { error: resp.status + " " + resp.statusText }; }
  if (!resp.ok) throw new Error(body.error || resp.statusText);
  return body;
}

let session = { read_only: true, principal: "" };

// change sends a write; the header is what the node requires of changes.
async function change(method, path, body) {
  const resp = await fetch("/v1/" + path, {
    method, headers: { "Content-Type": "application/json", "X-Requested-By": "spool-console" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let out;
  try { out = await resp.json(); } catch (e) { out = { error: resp.status + " " + resp.statusText }; }
  if (!resp.ok) throw new Error(out.error || resp.statusText);
  return out;
}

// form builds a small form whose button runs act and reports the outcome.
function form(title, fields, label, act) {
  const note = h("span", { class: "muted" });
  const btn = h("button", { type: "submit", class: label.startsWith("Delete") ? "danger" : "" }, label);
  const f = h("form", { class: "toolbar" }, h("b", {}, title), ...fields, btn, note);
  f.addEventListener("submit", async ev => {
    ev.preventDefault();
    btn.disabled = true;
    note.className = "muted"; note.textContent = "…";
    try { note.textContent = await act(); note.className = "ok"; }
    catch (e) { note.textContent = String(e.message || e); note.className = "bad"; }
    btn.disabled = false;
  });
  return f;
}

function every(ms, fn) {
  fn();
  timers.push(setInterval(fn, ms));
}

function errorBox(err) { return h("div", { class: "error" }, String(err.message || err)); }

function bytes(n) {
  if (n === undefined || n === null || n < 0) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}

function num(n) { return n === undefined || n === null || n < 0 ? "–" : Number(n).toLocaleString("en-US"); }
function ids(list) { return list && list.length ? list.join(", ") : "–"; }
function when(ms) { return ms > 0 ? new Date(ms).toISOString().replace("T", " ").replace("Z", " UTC") : "–"; }
function card(label, value, cls) { return h("div", { class: "card" }, h("div", { class: "label" }, label), h("div", { class: "value " + (cls || "") }, value)); }

function table(headers, rows, numeric) {
  numeric = numeric || [];
  return h("div", { class: "scroll" }, h("table", {},
    h("thead", {}, h("tr", {}, headers.map((x, i) => h("th", { class: numeric.includes(i) ? "num" : "" }, x)))),
    h("tbody", {}, rows.length ? rows.map(r => h("tr", {}, r.map((c, i) => h("td", { class: numeric.includes(i) ? "num" : (c instanceof Node ? "wrap" : "") }, c))))
      : h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, "none")))));
}

function link(href, text) { return h("a", { href: href }, text); }
function topicLink(name) { return link("#/topics/" + encodeURIComponent(name), name); }
function groupLink(name) { return link("#/groups/" + encodeURIComponent(name), name); }

// drawChart draws lines of [time ms, value] points on a canvas.
function drawChart(canvas, series, format) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, ht = canvas.clientHeight;
  canvas.width = w * dpr; canvas.height = ht * dpr;
  const ctx = canvas.getContext("2d");
  ctx.scale(dpr, dpr);
  ctx.clearRect(0, 0, w, ht);
  const pts = series.flatMap(s => s.points);
  const left = 70, right = 10, top = 10, bottom = 22;
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#667085";
  if (pts.length < 2) { ctx.fillText("collecting samples…", left, ht / 2); return; }
  const t0 = Math.min(...pts.map(p => p[0])), t1 = Math.max(...pts.map(p => p[0]));
  const vmax = Math.max(1, ...pts.map(p => p[1])) * 1.1;
  const x = t => left + (t1 === t0 ? 0 : (t - t0) / (t1 - t0)) * (w - left - right);
  const y = v => top + (1 - v / vmax) * (ht - top - bottom);
  ctx.strokeStyle = "#e3e6eb"; ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = vmax * i / 4;
    ctx.beginPath(); ctx.moveTo(left, y(v)); ctx.lineTo(w - right, y(v)); ctx.stroke();
    ctx.fillText(format(v), 4, y(v) + 4);
  }
  ctx.fillText(new Date(t0).toLocaleTimeString(), left, ht - 6);
  const end = new Date(t1).toLocaleTimeString();
  ctx.fillText(end, w - right - ctx.measureText(end).width, ht - 6);
  for (const s of series) {
    ctx.strokeStyle = s.color; ctx.lineWidth = 2; ctx.beginPath();
    s.points.forEach((p, i) => i ? ctx.lineTo(x(p[0]), y(p[1])) : ctx.moveTo(x(p[0]), y(p[1])));
    ctx.stroke();
  }
}

// rates turns cumulative samples into per-second rates of field.
function rates(samples, field) {
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = (samples[i].t - samples[i - 1].t) / 1000;
    if (dt > 0) out.push([samples[i].t, Math.max(0, samples[i][field] - samples[i - 1][field]) / dt]);
  }
  return out;
}

// ---- Overview ----
function overview() {
  const top = h("div", {}), charts = h("div", {});
  main.replaceChildren(h("h1", {}, "Overview"), top, h("h2", {}, "Throughput of this broker"), charts);
  const bytesCanvas = h("canvas", { class: "chart", id: "chart-bytes" });
  const recCanvas = h("canvas", { class: "chart", id: "chart-records" });
  charts.append(h("div", { class: "grid2" },
    h("div", {}, h("div", { class: "legend" }, h("span", { class: "in" }, "■ produced bytes/s"), h("span", { class: "out" }, "■ fetched bytes/s")), bytesCanvas),
    h("div", {}, h("div", { class: "legend" }, h("span", { class: "in" }, "■ produced records/s")), recCanvas)));
  every(5000, async () => {
    try { top.replaceChildren(...renderCluster(await api("cluster"))); } catch (e) { top.replaceChildren(errorBox(e)); }
  });
  every(2000, async () => {
    try {
      const s = (await api("throughput")).samples;
      drawChart(bytesCanvas, [{ color: "#2f6fdd", points: rates(s, "bytes_in") }, { color: "#e07b00", points: rates(s, "bytes_out") }], bytes);
      drawChart(recCanvas, [{ color: "#2f6fdd", points: rates(s, "records_in") }], v => num(Math.round(v)));
    } catch (e) { charts.replaceChildren(errorBox(e)); }
  });
}

function renderCluster(c) {
  const hl = c.health, q = c.quorum;
  const out = [h("div", { class: "cards" },
    card("Cluster id", c.cluster_id),
    card("Health", hl.healthy ? "healthy" : "unhealthy", hl.healthy ? "ok" : "bad"),
    card("Brokers", num(c.brokers.length)),
    card("Topics", num(c.topics)),
    card("Partitions", num(c.partitions)),
    card("Quorum leader", q.leader_id >= 0 ? q.leader_id : "none"),
    card("Quorum epoch", num(q.epoch)),
    card("Metadata offset", num(c.metadata_offset)))];
  out.push(h("h2", {}, "Health"));
  out.push(table(["Check", "Result"], [
    ["Unhealthy reasons", hl.unhealthy_reasons.length ? h("span", { class: "bad" }, hl.unhealthy_reasons.join(", ")) : h("span", { class: "ok" }, "none")],
    ["Active controller", hl.controller_id >= 0 ? String(hl.controller_id) : "none"],
    ["Brokers", ids(hl.brokers)], ["Fenced brokers", ids(hl.fenced_brokers)], ["Offline brokers", ids(hl.offline_brokers)],
    ["Leaderless partitions (" + hl.leaderless_partitions.length + ")", ids(hl.leaderless_partitions.slice(0, 20))],
    ["Under-replicated partitions (" + hl.under_replicated_partitions.length + ")", ids(hl.under_replicated_partitions.slice(0, 20))],
  ]));
  out.push(h("h2", {}, "Brokers"));
  out.push(table(["Id", "Rack", "State", "Listeners", "Partitions", "Leaders"], c.brokers.map(b => [
    String(b.id), b.rack || "–",
    b.fenced ? h("span", { class: "bad" }, "fenced") : b.in_controlled_shutdown ? h("span", { class: "warn" }, "shutting down") : h("span", { class: "ok" }, "unfenced"),
    h("span", {}, b.listeners.map(l => l.name + " " + l.host + ":" + l.port).join(", ")),
    num(b.partitions), num(b.leaders)]), [4, 5]));
  out.push(h("h2", {}, "Controller quorum"));
  if (q.error) out.push(errorBox(q.error));
  out.push(table(["Voter", "Role", "Log end offset", "Lag"], q.voters.map(v => [
    String(v.id), v.id === q.leader_id ? "leader" : "follower", num(v.end_offset), num(v.lag)]).concat(
    q.observers.map(v => [String(v.id), "observer", num(v.end_offset), num(v.lag)])), [2, 3]));
  out.push(h("p", { class: "muted" }, "High watermark " + num(q.high_watermark) + " (" + (q.source || "unknown") + ")"));
  return out;
}

// ---- Topics ----
function topics() {
  const search = h("input", { type: "search", id: "topic-search", placeholder: "Filter topics", value: sessionStorage.getItem("topicFilter") || "" });
  const showInternal = h("input", { type: "checkbox", id: "show-internal" });
  const body = h("div", {});
  main.replaceChildren(h("h1", {}, "Topics"), h("div", { class: "toolbar" }, search, h("label", {}, showInternal, " internal topics")), body);
  if (!session.read_only) {
    const name = h("input", { id: "create-name", placeholder: "name", required: true });
    const parts = h("input", { id: "create-partitions", type: "number", min: 1, placeholder: "partitions (default)" });
    const rf = h("input", { id: "create-rf", type: "number", min: 1, placeholder: "replication (default)" });
    main.append(h("h2", {}, "Create a topic"), form("", [name, parts, rf], "Create", async () => {
      const r = await change("POST", "topics", { name: name.value.trim(), partitions: Number(parts.value) || 0, replication_factor: Number(rf.value) || 0 });
      return "created " + r.created + " with " + r.partitions + " partitions";
    }));
  }
  let data = null;
  const render = () => {
    if (!data) return;
    const f = search.value.toLowerCase();
    sessionStorage.setItem("topicFilter", search.value);
    const matching = data.topics.filter(t => t.name.toLowerCase().includes(f) && (showInternal.checked || !t.internal));
    const rows = matching.slice(0, 500); // a page stays quick with many topics; the filter narrows it
    body.replaceChildren(
      data.size_error ? errorBox("sizes unavailable: " + data.size_error) : "",
      table(["Topic", "Partitions", "Replication", "Under-replicated", "Leaderless", "Size"], rows.map(t => [
        topicLink(t.name), num(t.partitions), num(t.replication_factor),
        t.under_replicated ? h("span", { class: "bad" }, num(t.under_replicated)) : "0",
        t.leaderless ? h("span", { class: "bad" }, num(t.leaderless)) : "0", bytes(t.size)]), [1, 2, 3, 4, 5]),
      h("p", { class: "muted" }, matching.length + " of " + data.topics.length + " topics" + (rows.length < matching.length ? "; the first " + rows.length + " shown, filter to see others" : "")));
  };
  search.addEventListener("input", render);
  showInternal.addEventListener("change", render);
  every(10000, async () => {
    try { data = await api("topics"); render(); } catch (e) { body.replaceChildren(errorBox(e)); }
  });
}

function topic(name) {
  const enc = encodeURIComponent(name);
  const info = h("div", {}), changes = h("div", {}), browser = h("div", {}), producers = h("div", {});
  main.replaceChildren(h("h1", {}, "Topic ", name), info, changes, h("h2", {}, "Messages"), browser, h("h2", {}, "Producers"), producers);
  let built = false;
  every(10000, async () => {
    let t;
    try { t = await api("topics/" + enc); } catch (e) { info.replaceChildren(errorBox(e)); return; }
    info.replaceChildren(
      h("div", { class: "cards" }, card("Partitions", num(t.partitions)), card("Replication", num(t.replication_factor)),
        card("Under-replicated", num(t.under_replicated), t.under_replicated ? "bad" : ""), card("Size", bytes(t.size)), card("Topic id", t.id)),
      ...t.errors.map(errorBox),
      h("h2", {}, "Partitions"),
      table(["Partition", "Leader", "Epoch", "Replicas", "ISR", "Log start", "High watermark", "Size"], t.partition_list.map(p => [
        String(p.partition), p.leader >= 0 ? String(p.leader) : h("span", { class: "bad" }, "none"), String(p.leader_epoch),
        ids(p.replicas), p.isr.length < p.replicas.length ? h("span", { class: "bad" }, ids(p.isr)) : ids(p.isr),
        num(p.log_start_offset), num(p.high_watermark), bytes(p.size)]), [5, 6, 7]),
      h("h2", {}, "Configs (not at their defaults)"),
      table(["Name", "Value", "Source"], t.configs.map(c => [c.name, c.sensitive ? "(sensitive)" : (c.value === null ? "null" : h("span", {}, c.value)), c.source])));
    if (!built) {
      built = true;
      buildBrowser(browser, producers, name, t.partitions);
      if (!session.read_only) changes.append(topicChanges(name, t.partitions));
    }
  });
}

function topicChanges(name, partitions) {
  const enc = encodeURIComponent(name);
  const key = h("input", { id: "config-key", placeholder: "config, e.g. retention.ms", required: true });
  const value = h("input", { id: "config-value", placeholder: "value (empty: back to default)" });
  const part = h("select", { id: "trim-partition" }, Array.from({ length: partitions }, (_, i) => h("option", { value: i }, "partition " + i)));
  const before = h("input", { id: "trim-before", type: "number", min: -1, placeholder: "before offset (-1: all)", required: true });
  return h("div", {}, h("h2", {}, "Change"),
    form("Config", [key, value], "Apply", async () => {
      const k = key.value.trim();
      await change("PUT", "topics/" + enc + "/configs", value.value === "" ? { delete: [k] } : { set: { [k]: value.value } });
      return value.value === "" ? k + " is back to its default" : k + " = " + value.value;
    }),
    form("Delete records", [part, before], "Delete", async () => {
      if (!confirm("Delete the records of " + name + " partition " + part.value + " before offset " + before.value + "?")) return "cancelled";
      const r = await change("POST", "topics/" + enc + "/partitions/" + part.value + "/delete-records", { before_offset: Number(before.value) });
      return "log start offset is now " + r.log_start_offset;
    }),
    form("Delete topic", [], "Delete " + name, async () => {
      if (prompt("Type the topic's name to delete it and all its records:") !== name) return "cancelled";
      await change("DELETE", "topics/" + enc);
      location.hash = "#/topics";
      return "deleted";
    }));
}

function buildBrowser(box, producersBox, name, partitions) {
  const enc = encodeURIComponent(name);
  const part = h("select", { id: "browse-partition" }, Array.from({ length: partitions }, (_, i) => h("option", { value: i }, "partition " + i)));
  const mode = h("select", { id: "browse-mode" }, h("option", { value: "latest" }, "latest"), h("option", { value: "earliest" }, "earliest"),
    h("option", { value: "offset" }, "from offset"), h("option", { value: "timestamp" }, "from time"));
  const at = h("input", { id: "browse-at", placeholder: "offset or 2026-01-02T15:04:05Z", size: 24 });
  const limit = h("select", { id: "browse-limit" }, [20, 50, 100].map(n => h("option", { value: n }, n + " records")));
  const out = h("div", { id: "browse-out" });
  const go = async () => {
    const p = new URLSearchParams({ limit: limit.value });
    if (mode.value === "offset") p.set("offset", at.value.trim());
    else if (mode.value === "timestamp") {
      const ms = /^\d+$/.test(at.value.trim()) ? Number(at.value.trim()) : Date.parse(at.value.trim());
      if (isNaN(ms)) { out.replaceChildren(errorBox("not a time: " + at.value)); return; }
      p.set("timestamp", ms);
    } else p.set("offset", mode.value);
    out.replaceChildren(h("p", { class: "muted" }, "Reading…"));
    try { out.replaceChildren(...renderRecords(await api("topics/" + enc + "/partitions/" + part.value + "/records?" + p))); }
    catch (e) { out.replaceChildren(errorBox(e)); }
    loadProducers();
  };
  const loadProducers = async () => {
    try {
      const r = await api("topics/" + enc + "/partitions/" + part.value + "/producers");
      producersBox.replaceChildren(h("p", { class: "muted" }, "Partition " + r.partition + ", leader " + r.leader),
        table(["Producer id", "Epoch", "Last sequence", "Last write", "Coordinator epoch", "Open transaction from"], r.producers.map(x => [
          String(x.producer_id), String(x.producer_epoch), String(x.last_sequence), when(x.last_timestamp), String(x.coordinator_epoch),
          x.current_txn_start_offset >= 0 ? num(x.current_txn_start_offset) : "–"]), [0, 1, 2]));
    } catch (e) { producersBox.replaceChildren(errorBox(e)); }
  };
  box.append(h("div", { class: "toolbar" }, part, mode, at, limit, h("button", { id: "browse-go", onclick: go }, "Read")), out);
  part.addEventListener("change", go);
  go();
}

function shown(v) {
  if (!v) return h("span", { class: "muted" }, "null");
  return h("div", {}, h("span", { class: "tag" }, v.encoding), h("span", { class: "tag" }, bytes(v.size)),
    v.truncated ? h("span", { class: "tag warn" }, "truncated") : "", h("pre", {}, v.text));
}

function renderRecords(r) {
  const head = h("p", { class: "muted" }, "Log start " + num(r.log_start_offset) + ", high watermark " + num(r.high_watermark) +
    "; read from offset " + num(r.from_offset) + ", " + r.records.length + " records");
  return [head, ...r.records.map(rec => h("div", { class: "rec" },
    h("div", { class: "meta" }, "offset " + rec.offset + " · " + when(rec.timestamp) + " · leader epoch " + rec.leader_epoch),
    h("div", { class: "field" }, h("b", {}, "key"), shown(rec.key)),
    h("div", { class: "field" }, h("b", {}, "value"), shown(rec.value)),
    rec.headers.length ? h("div", { class: "field" }, h("b", {}, "headers"), h("div", {}, rec.headers.map(x => h("div", {}, h("span", { class: "tag" }, x.key), shown(x.value))))) : ""))];
}

// ---- Groups ----
function groups() {
  const body = h("div", {});
  main.replaceChildren(h("h1", {}, "Consumer groups"), body);
  every(5000, async () => {
    try {
      const resp = await api("groups"), g = resp.groups;
      body.replaceChildren(resp.lag_omitted ? h("p", { class: "muted" }, "Lag is computed for the first 200 groups; open a group for its lag.") : "", table(["Group", "State", "Protocol type", "Coordinator", "Members", "Total lag"], g.map(x => [
        groupLink(x.group), x.state, x.protocol_type || "–", String(x.coordinator), num(x.members),
        x.error ? h("span", { class: "bad" }, x.error) : num(x.total_lag)]), [3, 4, 5]));
    } catch (e) { body.replaceChildren(errorBox(e)); }
  });
}

function group(name) {
  const enc = encodeURIComponent(name);
  const info = h("div", {}), canvas = h("canvas", { class: "chart", id: "chart-lag" });
  main.replaceChildren(h("h1", {}, "Group ", name), info, h("h2", {}, "Total lag over time"),
    h("div", { class: "legend" }, h("span", { class: "lag" }, "■ total lag (records), read every 5 s while any page of this group is open")), canvas);
  if (!session.read_only) main.append(groupReset(name));
  every(5000, async () => {
    let g;
    try { g = await api("groups/" + enc); } catch (e) { info.replaceChildren(errorBox(e)); return; }
    drawChart(canvas, [{ color: "#8a3ffc", points: g.lag_history }], v => num(Math.round(v)));
    info.replaceChildren(
      h("div", { class: "cards" }, card("State", g.state), card("Protocol", (g.protocol_type || "–") + (g.protocol ? " / " + g.protocol : "")),
        card("Coordinator", String(g.coordinator)), card("Members", num(g.members)), card("Total lag", num(g.total_lag))),
      g.error ? errorBox(g.error) : "",
      h("h2", {}, "Members"),
      table(["Member", "Instance", "Client id", "Host", "Assigned"], g.member_list.map(m => [
        h("span", {}, m.member_id), m.instance_id || "–", m.client_id, m.client_host,
        h("span", {}, m.assigned.map(a => a.topic + " [" + a.partitions.join(",") + "]").join("; ") || "–")])),
      h("h2", {}, "Committed offsets and lag"),
      table(["Topic", "Partition", "Committed", "Log start", "End", "Lag", "Member"], g.offsets.map(o => [
        topicLink(o.topic), String(o.partition), num(o.committed), num(o.log_start_offset), num(o.end_offset),
        o.error ? h("span", { class: "bad" }, o.error) : num(o.lag), h("span", {}, o.member_id || "–")]), [1, 2, 3, 4, 5]));
  });
}

function groupReset(name) {
  const topic = h("input", { id: "reset-topic", placeholder: "topic", required: true });
  const to = h("select", { id: "reset-to" }, ["earliest", "latest", "offset", "timestamp"].map(x => h("option", { value: x }, x)));
  const at = h("input", { id: "reset-at", placeholder: "offset or time" });
  return h("div", {}, h("h2", {}, "Reset offsets"), h("p", { class: "muted" }, "Only while the group has no members, as kafka-consumer-groups --reset-offsets requires."),
    form("", [topic, to, at], "Reset", async () => {
      const body = { topic: topic.value.trim(), to: to.value };
      if (to.value === "offset") body.offset = Number(at.value);
      if (to.value === "timestamp") body.timestamp = /^\d+$/.test(at.value.trim()) ? Number(at.value.trim()) : Date.parse(at.value.trim());
      if (!confirm("Reset " + name + "'s offsets of " + body.topic + " to " + to.value + "?")) return "cancelled";
      const r = await change("POST", "groups/" + encodeURIComponent(name) + "/offsets", body);
      return r.offsets.map(o => o.partition + "→" + o.offset).join(", ");
    }));
}

// ---- Transactions ----
function transactions() {
  const body = h("div", {});
  const open = h("div", {});
  const scan = async () => {
    open.replaceChildren(h("p", { class: "muted" }, "Scanning partitions…"));
    try {
      const o = await api("transactions/open");
      open.replaceChildren(h("p", { class: "muted" }, o.partitions_scanned + " partitions scanned" + (o.truncated ? " (the first ones only)" : "") +
        "; hanging: open longer than transaction.max.timeout.ms (" + o.transaction_max_timeout_ms + " ms) without an ongoing transaction at the coordinator covering the partition"),
        table(["Partition", "Producer id", "Epoch", "Open since offset", "Last write", "Transactional id", "Coordinator", "Hanging"], o.open.map(x => [
          h("span", {}, x.topic + "-" + x.partition), String(x.producer_id), String(x.producer_epoch), num(x.start_offset), when(x.last_timestamp),
          x.transactional_id || "–", x.coordinator_state || "unknown", x.hanging ? h("span", { class: "bad" }, "hanging") : "no"]), [1, 2, 3]));
    } catch (e) { open.replaceChildren(errorBox(e)); }
  };
  main.replaceChildren(h("h1", {}, "Transactions"), body,
    h("p", { class: "muted" }, "Ongoing for longer than its timeout is marked overdue. The producers of a partition are on its topic page."),
    h("h2", {}, "Open transactions on partitions"), h("div", { class: "toolbar" }, h("button", { id: "scan-open", onclick: scan }, "Scan again")), open);
  scan();
  every(5000, async () => {
    try {
      const t = (await api("transactions")).transactions;
      body.replaceChildren(table(["Transactional id", "State", "Coordinator", "Producer id", "Epoch", "Timeout", "Started", "Partitions"], t.map(x => [
        x.transactional_id, x.overdue ? h("span", { class: "bad" }, x.state + " (overdue)") : x.state, String(x.coordinator),
        String(x.producer_id), String(x.producer_epoch), x.timeout_ms ? x.timeout_ms + " ms" : "–", when(x.start_timestamp),
        x.error ? h("span", { class: "bad" }, x.error) : h("span", {}, x.partitions.map(p => p.topic + " [" + p.partitions.join(",") + "]").join("; ") || "–")]), [2, 3, 4]));
    } catch (e) { body.replaceChildren(errorBox(e)); }
  });
}

// ---- ACLs and quotas ----
function security() {
  const acls = h("div", {}), quotas = h("div", {});
  main.replaceChildren(h("h1", {}, "ACLs & quotas"), h("h2", {}, "ACLs"), acls, h("h2", {}, "Client quotas"), quotas);
  every(10000, async () => {
    try {
      const a = await api("acls");
      acls.replaceChildren(a.enabled ? table(["Resource type", "Resource", "Pattern", "Principal", "Host", "Operation", "Permission"], a.acls.map(x => [
        x.resource_type, x.resource_name, x.pattern_type, x.principal, x.host, x.operation,
        h("span", { class: x.permission === "ALLOW" ? "ok" : "bad" }, x.permission)]))
        : h("p", { class: "muted" }, "No authorizer is configured (authorizer.class.name): the cluster has no ACLs."));
    } catch (e) { acls.replaceChildren(errorBox(e)); }
    try {
      const q = (await api("quotas")).quotas;
      quotas.replaceChildren(table(["User", "Client id", "IP", "Quotas"], q.map(x => [
        x.entity.user || "–", x.entity["client-id"] || "–", x.entity.ip || "–",
        h("span", {}, Object.entries(x.values).map(([k, v]) => k + "=" + v).join(", "))])));
    } catch (e) { quotas.replaceChildren(errorBox(e)); }
  });
}

function route() {
  timers.forEach(clearInterval);
  timers = [];
  const parts = (location.hash.replace(/^#\/?/, "") || "").split("/").map(decodeURIComponent);
  const page = parts[0] || "overview";
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === page);
  window.scrollTo(0, 0);
  switch (page) {
    case "topics": parts[1] ? topic(parts.slice(1).join("/")) : topics(); break;
    case "groups": parts[1] ? group(parts.slice(1).join("/")) : groups(); break;
    case "transactions": transactions(); break;
    case "security": security(); break;
    default: overview();
  }
}

window.addEventListener("hashchange", route);
api("console").then(s => { session = s; }).catch(() => {}).finally(() => {
  statusEl.textContent = (session.principal ? session.principal + " · " : "") + (session.read_only ? "read-only" : "changes allowed");
  route();
});
