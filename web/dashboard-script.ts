import type { DashboardKit } from "./dashboard-kit.ts";
import type { DashboardObject, DashboardView, DashboardViews } from "./dashboard-views.ts";

/**
 * The dashboard's browser script: one WebSocket carrying every kind (resumed from the last
 * resourceVersion after a drop or a minik restart), hash routes for views and detail panes,
 * metrics polled into charts, pod logs, and the few changes it offers, each confirmed and sent
 * with the session's CSRF token. Embedded by its source text, so it uses nothing from outside its
 * body but its two arguments (`dashboardViews()` and `dashboardKit()`) and the browser's globals.
 */
export function dashboardScript(V: DashboardViews, K: DashboardKit): void {
  type Obj = DashboardObject;
  type View = DashboardView;
  type Sample = { cpu: number; mem: number };
  type Route = { view?: View; namespace?: string; name?: string };

  /** Samples kept per chart: 15 minutes at one sample every 5 s. */
  const HISTORY = 180;
  /** Objects kept per kind, as many as the server's reset sends. */
  const MAX_PER_KIND = 2000;
  const byKey = new Map(V.views.map((v) => [v.key, v]));
  const byPlural = new Map(V.views.map((v) => [v.plural, v]));
  const state = new Map<string, Map<string, Obj>>();
  const rvs = new Map<string, string>();
  const nodeHistory: Sample[] = [];
  const podHistory = new Map<string, Sample[]>();
  let metricsProblem = "";
  let csrf: string | null = null;
  // The session: handed over in the login redirect's fragment, kept in this origin's
  // localStorage and sent as a header — never a cookie other ports would get (core/api/auth.ts).
  const handed = /[#&]minik-session=([^&]+)/.exec(location.hash);
  if (handed) {
    localStorage.setItem("minik.session", handed[1]!);
    history.replaceState(null, "", location.pathname + location.search);
  }
  const authed = (headers: Record<string, string> = {}): Record<string, string> => ({
    ...headers,
    "X-Minik-Session": localStorage.getItem("minik.session") || "",
  });
  let expiresAt = 0;
  let lastRefresh = 0;
  let ended = false;
  let attempts = 0;
  let drawn = "";
  let pending = false;
  let logAbort: AbortController | undefined;
  let namespace = localStorage.getItem("minik.namespace") || "";
  const decoder = new TextDecoder();
  const el = (id: string) => document.getElementById(id);

  function say(text: string, tone: string): void {
    const conn = el("conn");
    if (!conn) return;
    K.setText(conn, text);
    conn.className = tone;
  }

  function note(text: string, tone = ""): void {
    const n = el("note");
    if (!n) return;
    n.textContent = text;
    n.className = tone;
  }

  function setStale(stale: boolean): void {
    el("main")?.classList.toggle("stale", stale);
    el("detail")?.classList.toggle("stale", stale);
  }

  // ---- session ----------------------------------------------------------------------------

  async function checkSession(): Promise<"ok" | "gone" | "down"> {
    try {
      const res = await fetch("/minik/v1/dashboard/session", {
        credentials: "same-origin",
        headers: authed(),
        cache: "no-store",
      });
      if (res.status === 401) return "gone";
      if (!res.ok) return "down";
      const s = await res.json();
      csrf = s.csrfToken;
      if (s.session) localStorage.setItem("minik.session", s.session);
      expiresAt = s.expiresAt ? Date.parse(s.expiresAt) : 0;
      lastRefresh = Date.now();
      const who = el("who");
      if (who) who.textContent = expiresAt ? `session until ${new Date(expiresAt).toLocaleTimeString()}` : "";
      const logout = el("logout");
      if (logout) logout.hidden = !csrf;
      return "ok";
    } catch {
      return "down";
    }
  }

  function sessionGone(why: string): void {
    ended = true;
    socket?.close();
    logAbort?.abort();
    setStale(true);
    say("signed out", "bad");
    const login = el("login");
    const text = el("login-why");
    if (text) text.textContent = why;
    if (login) login.hidden = false;
  }

  async function logout(): Promise<void> {
    if (!confirm("Log out of the minik dashboard?")) return;
    await fetch("/minik/v1/dashboard/logout", {
      method: "POST",
      credentials: "same-origin",
      headers: authed({ "X-CSRF-Token": csrf || "" }),
    }).catch(() => undefined);
    localStorage.removeItem("minik.session");
    sessionGone("You logged out.");
  }

  // ---- the live stream --------------------------------------------------------------------

  let socket: WebSocket | undefined;

  function connect(): void {
    if (ended) return;
    const kinds = V.views.map((v) => (rvs.has(v.key) ? `${v.key}:${rvs.get(v.key)}` : v.key)).join(",");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // a WebSocket cannot carry headers: the session rides as a second subprotocol offered
    const kept = localStorage.getItem("minik.session");
    const ws = new WebSocket(`${scheme}://${location.host}/minik/v1/dashboard/stream?kinds=${kinds}`, [
      "minik.dashboard.v1",
      ...(kept ? [`minik.session.${kept}`] : []),
    ]);
    socket = ws;
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      attempts = 0;
      setStale(false);
      say("live", "ok");
    };
    ws.onmessage = (m) => receive(JSON.parse(typeof m.data === "string" ? m.data : decoder.decode(m.data)));
    ws.onclose = (e) => {
      if (socket === ws) socket = undefined;
      if (!ended) void reconnect(e.code);
    };
  }

  async function reconnect(code: number): Promise<void> {
    setStale(true);
    say("reconnecting…", "warn");
    const session = await checkSession();
    if (session === "gone")
      return sessionGone(
        "Your session has ended: it expired, was logged out, or this minik does not know it.",
      );
    attempts++;
    const delay = session === "ok" && code === 4401 ? 0 : Math.min(10_000, 250 * 2 ** attempts);
    say(`reconnecting… (attempt ${attempts})`, "warn");
    setTimeout(connect, delay);
  }

  function receive(m: any): void {
    if (m.t === "reset") {
      state.set(m.kind, new Map(m.items.map((o: Obj) => [o.metadata.uid, o])));
      rvs.set(m.kind, m.rv);
    } else if (m.t === "event") {
      const items = state.get(m.kind) ?? new Map<string, Obj>();
      state.set(m.kind, items);
      if (m.type === "DELETED") items.delete(m.object.metadata.uid);
      else items.set(m.object.metadata.uid, m.object);
      // bounded like the server's reset: the oldest-seen objects go first (events, mostly)
      if (items.size > MAX_PER_KIND) items.delete(items.keys().next().value!);
      if (m.object.metadata.resourceVersion) rvs.set(m.kind, m.object.metadata.resourceVersion);
    } else if (m.t === "error") {
      note(`${byKey.get(m.kind)?.title ?? m.kind}: ${m.message}`, "bad");
      return;
    } else return;
    schedule();
  }

  function schedule(): void {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      update();
    });
  }

  // ---- data helpers -----------------------------------------------------------------------

  function items(key: string): Obj[] {
    const view = byKey.get(key);
    const all = [...(state.get(key)?.values() ?? [])];
    const shown = view?.namespaced && namespace ? all.filter((o) => o.metadata.namespace === namespace) : all;
    return shown.sort(V.order(key));
  }

  function find(view: View, ns: string | undefined, name: string): Obj | undefined {
    for (const o of state.get(view.key)?.values() ?? [])
      if (o.metadata.name === name && (!view.namespaced || o.metadata.namespace === ns)) return o;
    return undefined;
  }

  function byUid(uid: string): { view: View; obj: Obj } | undefined {
    for (const view of V.views) {
      const obj = state.get(view.key)?.get(uid);
      if (obj) return { view, obj };
    }
    return undefined;
  }

  function apiPath(view: View, o: Obj): string {
    const ns = view.namespaced ? `/namespaces/${o.metadata.namespace}` : "";
    return `${view.base}${ns}/${view.plural}/${o.metadata.name}`;
  }

  function link(view: View, o: Obj): string {
    return `<a href="${V.esc(V.href(view, o))}">${V.esc(`${view.plural}/${o.metadata.name}`)}</a>`;
  }

  function route(): Route {
    const [plural, a, b] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    const view = plural ? byPlural.get(plural) : undefined;
    if (!view) return {};
    return view.namespaced ? { view, namespace: a, name: b } : { view, name: a };
  }

  // ---- rendering --------------------------------------------------------------------------

  function tableHtml(view: View, id: string): string {
    return `<div class="scroll"><table aria-label="${view.title}"><thead>${V.headHtml(view)}</thead><tbody id="${id}"></tbody></table></div>`;
  }

  function overviewHtml(): string {
    const deployments = byKey.get("deployments.apps")!;
    const pods = byKey.get("pods")!;
    return `<section><h2>Overview</h2><div class="cards" id="cards"></div></section>
<section><h2>Node use</h2><div class="cards" id="node-charts"></div></section>
<section><h2>Recent warnings</h2><div id="warnings"></div></section>
<section><h2>Deployments</h2>${tableHtml(deployments, "rows-deployments.apps")}</section>
<section><h2>Pods</h2>${tableHtml(pods, "rows-pods")}</section>`;
  }

  function listHtml(view: View): string {
    return `<section><h2>${view.title}${view.namespaced && namespace ? ` in ${V.esc(namespace)}` : ""}</h2>${tableHtml(view, `rows-${view.key}`)}</section>`;
  }

  /** Rebuilds the skeleton when the route or namespace changes; `update` then fills it. */
  function render(): void {
    const r = route();
    const main = el("main");
    if (!main) return;
    const shape = `${r.view?.key ?? "overview"}|${namespace}`;
    if (shape !== drawn) {
      drawn = shape;
      main.innerHTML = r.view ? listHtml(r.view) : overviewHtml();
    }
    for (const a of Array.from(document.querySelectorAll("nav a"))) {
      const current = a.getAttribute("href") === `#/${r.view?.plural ?? ""}`;
      if (current) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    openDetail(r);
    update();
  }

  function update(): void {
    const now = Date.now();
    const r = route();
    const selected = r.view && r.name ? find(r.view, r.namespace, r.name)?.metadata.uid : undefined;
    for (const view of V.views) {
      const tbody = el(`rows-${view.key}`);
      if (tbody && state.has(view.key)) K.patchRows(tbody, view, items(view.key), now, selected);
      K.setText(el(`count-${view.key}`), state.has(view.key) ? String(items(view.key).length) : "");
    }
    updateNamespaces();
    if (!r.view) updateOverview(now);
    updateDetail(r, now);
  }

  function updateNamespaces(): void {
    const select = el("ns") as HTMLSelectElement | null;
    if (!select) return;
    const names = items("namespaces").map((n) => n.metadata.name);
    if (namespace && !names.includes(namespace)) names.push(namespace);
    const html = [`<option value="">All namespaces</option>`]
      .concat(names.map((n) => `<option${n === namespace ? " selected" : ""}>${V.esc(n)}</option>`))
      .join("");
    K.setHtml(select, html);
  }

  function updateOverview(now: number): void {
    const pods = items("pods");
    const phases = new Map<string, number>();
    for (const p of pods) phases.set(V.podStatus(p), (phases.get(V.podStatus(p)) || 0) + 1);
    const deployments = items("deployments.apps");
    const available = deployments.filter(
      (d) => (d.status?.availableReplicas || 0) >= (d.spec?.replicas ?? 0),
    );
    const nodes = items("nodes");
    const ready = nodes.filter((n) => /^Ready/.test(byKey.get("nodes")!.row(n, now)[1]!));
    const warnings = items("events").filter((e) => e.type === "Warning");
    const card = (title: string, value: string, detail: string, tone = "") =>
      `<div class="card"><span class="muted">${title}</span><b class="${tone}">${V.esc(value)}</b><span>${V.esc(detail)}</span></div>`;
    const latest = nodeHistory[nodeHistory.length - 1];
    const node = nodes[0];
    const cpuCap = V.cores(node?.status?.capacity?.cpu);
    const memCap = V.bytes(node?.status?.capacity?.memory);
    K.setHtml(
      el("cards"),
      [
        card(
          "Nodes ready",
          `${ready.length}/${nodes.length}`,
          node ? `${cpuCap} CPUs, ${V.showBytes(memCap)}` : "",
          ready.length === nodes.length ? "ok" : "bad",
        ),
        card("Pods", String(pods.length), [...phases].map(([k, v]) => `${v} ${k}`).join(", ") || "none"),
        card(
          "Deployments available",
          `${available.length}/${deployments.length}`,
          "",
          available.length === deployments.length ? "ok" : "warn",
        ),
        card("Node CPU in use", latest ? V.showCores(latest.cpu) : "–", cpuCap ? `of ${cpuCap} CPUs` : ""),
        card(
          "Node memory in use",
          latest ? V.showBytes(latest.mem) : "–",
          memCap ? `of ${V.showBytes(memCap)}` : "",
        ),
      ].join(""),
    );
    K.setHtml(
      el("node-charts"),
      K.chart(
        "Node CPU",
        nodeHistory.map((s) => s.cpu),
        V.showCores,
        metricsProblem,
      ) +
        K.chart(
          "Node memory",
          nodeHistory.map((s) => s.mem),
          V.showBytes,
          metricsProblem,
        ),
    );
    const recent = warnings.slice(0, 8);
    K.setHtml(
      el("warnings"),
      recent.length
        ? `<ul>${recent.map((e) => `<li><span class="bad">${V.esc(e.reason)}</span> ${V.esc(`${e.involvedObject?.kind}/${e.involvedObject?.name}`)}: ${V.esc(e.message)} <span class="muted">${V.age(V.eventTime(e), now)} ago</span></li>`).join("")}</ul>`
        : `<p class="muted">No warnings.</p>`,
    );
  }

  // ---- the detail pane --------------------------------------------------------------------

  let detailUid = "";

  function openDetail(r: Route): void {
    const pane = el("detail");
    const shell = el("shell");
    if (!pane || !shell) return;
    const obj = r.view && r.name ? find(r.view, r.namespace, r.name) : undefined;
    const open = !!(r.view && r.name);
    pane.hidden = !open;
    shell.classList.toggle("open", open);
    if (!open || !r.view) {
      detailUid = "";
      logAbort?.abort();
      return;
    }
    const uid = obj?.metadata.uid ?? `missing:${r.name}`;
    if (uid === detailUid) return;
    detailUid = uid;
    logAbort?.abort();
    const title = `${r.view.title.replace(/s$/, "")} ${r.namespace ? `${r.namespace}/` : ""}${r.name}`;
    pane.innerHTML = `<header><h2 tabindex="-1" id="detail-title">${V.esc(title)}</h2><a href="#/${r.view.plural}" aria-label="Close details">Close</a></header>
<div class="actions" id="actions"></div><div id="facts"></div><div id="extra"></div>
<h3>Events</h3><div id="obj-events"></div><h3>YAML</h3><pre id="yaml"></pre>`;
    if (obj) {
      K.setHtml(el("extra"), extraHtml(r.view, obj));
      if (r.view.key === "pods") {
        void showLogs(obj, true);
        void showInspect(obj);
      }
    }
    el("detail-title")?.focus();
  }

  function updateDetail(r: Route, now: number): void {
    if (!r.view || !r.name) return;
    const obj = find(r.view, r.namespace, r.name);
    if (!obj) {
      K.setHtml(el("facts"), `<p class="muted">Not found (yet): it may have been deleted.</p>`);
      return;
    }
    if (`missing:${r.name}` === detailUid) {
      detailUid = "";
      openDetail(r);
    }
    K.setHtml(el("actions"), actionsHtml(r.view, obj));
    K.setHtml(el("facts"), factsHtml(r.view, obj, now));
    if (r.view.key === "pods") K.setHtml(el("pod-charts"), podChartsHtml(obj));
    const events = items("events").filter(
      (e) =>
        e.involvedObject?.uid === obj.metadata.uid ||
        (e.involvedObject?.name === obj.metadata.name && e.involvedObject?.kind === obj.kind),
    );
    K.setHtml(
      el("obj-events"),
      events.length
        ? `<ul>${events
            .slice(0, 20)
            .map(
              (e) =>
                `<li><span class="${V.tone(e.type)}">${V.esc(e.reason)}</span> ${V.esc(e.message)} <span class="muted">${V.age(V.eventTime(e), now)} ago</span></li>`,
            )
            .join("")}</ul>`
        : `<p class="muted">No events.</p>`,
    );
    K.setText(el("yaml"), K.yaml(obj));
  }

  function factsHtml(view: View, o: Obj, now: number): string {
    const rows = view.cols.map(
      (c, i) =>
        `<tr><th scope="row">${c.name}</th><td class="wrap ${c.status ? V.tone(view.row(o, now)[i]!) : ""}">${V.esc(view.row(o, now)[i])}</td></tr>`,
    );
    const chain: string[] = [];
    let owner = o.metadata.ownerReferences?.find((x) => x.controller) ?? o.metadata.ownerReferences?.[0];
    for (let depth = 0; owner && depth < 5; depth++) {
      const found = byUid(owner.uid);
      chain.push(found ? link(found.view, found.obj) : V.esc(`${owner.kind}/${owner.name}`));
      owner = found?.obj.metadata.ownerReferences?.find((x) => x.controller);
    }
    if (chain.length)
      rows.push(`<tr><th scope="row">Owners</th><td class="wrap">${chain.join(" → ")}</td></tr>`);
    const conditions: any[] = o.status?.conditions || [];
    const pods = relatedPods(view, o);
    return `<div class="scroll"><table>${rows.join("")}</table></div>${
      conditions.length
        ? `<h3>Conditions</h3><div class="scroll"><table><tr><th>Type</th><th>Status</th><th>Reason</th><th class="opt">Message</th></tr>${conditions.map((c) => `<tr><td>${V.esc(c.type)}</td><td class="${c.status === "True" ? "ok" : "warn"}">${V.esc(c.status)}</td><td>${V.esc(c.reason)}</td><td class="opt wrap">${V.esc(c.message)}</td></tr>`).join("")}</table></div>`
        : ""
    }${pods ? `<h3>Pods</h3>${pods.length ? `<ul>${pods.map((p) => `<li>${link(byKey.get("pods")!, p)} <span class="${V.tone(V.podStatus(p))}">${V.esc(V.podStatus(p))}</span></li>`).join("")}</ul>` : `<p class="muted">No pods.</p>`}` : ""}`;
  }

  function relatedPods(view: View, o: Obj): Obj[] | undefined {
    const pods = [...(state.get("pods")?.values() ?? [])];
    const ownedBy = (uid: string) => (p: Obj) => p.metadata.ownerReferences?.some((x) => x.uid === uid);
    if (view.key === "replicasets.apps") return pods.filter(ownedBy(o.metadata.uid));
    if (view.key === "deployments.apps") {
      const sets = [...(state.get("replicasets.apps")?.values() ?? [])].filter(ownedBy(o.metadata.uid));
      return pods.filter((p) => sets.some((s) => ownedBy(s.metadata.uid)(p)));
    }
    if (view.key === "nodes") return pods.filter((p) => p.spec?.nodeName === o.metadata.name);
    if (view.key === "services") {
      const selector: Record<string, string> = o.spec?.selector || {};
      if (!Object.keys(selector).length) return [];
      return pods.filter(
        (p) =>
          p.metadata.namespace === o.metadata.namespace &&
          Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v),
      );
    }
    return undefined;
  }

  function extraHtml(view: View, o: Obj): string {
    if (view.key === "pods") {
      const containers: { name: string }[] = o.spec?.containers || [];
      return `<div class="cards" id="pod-charts"></div><h3>Inside the container</h3><div id="inspect" class="inspect"><p class="muted">Reading namespaces, cgroup and layers…</p></div><h3>Logs</h3><div class="actions"><label>Container <select id="log-container">${containers.map((c) => `<option>${V.esc(c.name)}</option>`).join("")}</select></label><label><input type="checkbox" id="log-follow" checked> Follow</label></div><pre id="logs" aria-label="Container logs" tabindex="0"></pre>`;
    }
    if (view.key === "secrets")
      return `<h3>Data</h3><p class="muted">Keys: ${V.esc((o.keys || []).join(", ") || "none")}</p><div class="actions"><button type="button" data-act="reveal">Show values</button></div><pre id="secret-values" hidden></pre>`;
    if (view.key === "configmaps") return `<h3>Data</h3><pre>${V.esc(K.yaml(o.data || {}))}</pre>`;
    return "";
  }

  function podChartsHtml(p: Obj): string {
    const history = podHistory.get(`${p.metadata.namespace}/${p.metadata.name}`) ?? [];
    return (
      K.chart(
        "Pod CPU",
        history.map((s) => s.cpu),
        V.showCores,
        metricsProblem,
      ) +
      K.chart(
        "Pod memory",
        history.map((s) => s.mem),
        V.showBytes,
        metricsProblem,
      )
    );
  }

  /**
   * The article's picture of a container, read back by the node (`minik inspect`): the layer stack
   * (read-write on top, the pod's init layer, the image's read-only layers), the namespaces it
   * shares with the pod or the host, and its CPU use as a gauge against the CFS quota.
   */
  async function showInspect(p: Obj): Promise<void> {
    const box = el("inspect");
    if (!box) return;
    if (!p.spec?.nodeName) {
      box.innerHTML = `<p class="muted">Not on a node yet: no containers to inspect.</p>`;
      return;
    }
    const container = (el("log-container") as HTMLSelectElement | null)?.value ?? "";
    const url = `/minik/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/inspect?container=${encodeURIComponent(container)}`;
    const res = await fetch(url, { credentials: "same-origin", headers: authed() }).catch(() => undefined);
    const body = res ? await res.json().catch(() => ({})) : {};
    if (!res?.ok) {
      box.innerHTML = `<p class="muted">${V.esc(body.message || "The node could not be asked.")}</p>`;
      return;
    }
    box.innerHTML = inspectHtml(
      body,
      podHistory.get(`${p.metadata.namespace}/${p.metadata.name}`)?.at(-1)?.cpu,
    );
  }

  function inspectHtml(
    insp: {
      namespaces: any[];
      cgroup?: any;
      rootfs: { layers: any[]; changes: { added: string[]; modified: string[]; deleted: string[] } };
      notes: string[];
    },
    cpuCores: number | undefined,
  ): string {
    const layerLabel = (l: {
      role: string;
      digest?: string;
      sizeBytes?: number;
      createdBy?: string;
      files?: string[];
    }) =>
      l.role === "container"
        ? `read-write layer: ${insp.rootfs.changes.added.length} added, ${insp.rootfs.changes.modified.length} changed, ${insp.rootfs.changes.deleted.length} deleted`
        : l.role === "init"
          ? `init layer (never committed): ${(l.files || []).join(", ")}`
          : `read-only ${String(l.digest || "")
              .replace(/^sha256:/, "")
              .slice(0, 12)} ${V.showBytes(l.sizeBytes || 0)} ${l.createdBy || ""}`;
    const stack = insp.rootfs.layers
      .map((l) => `<li class="layer ${V.esc(l.role)}">${V.esc(layerLabel(l))}</li>`)
      .join("");
    const whiteouts = insp.rootfs.changes.deleted.length
      ? `<p class="muted">Whiteouts: ${insp.rootfs.changes.deleted.map((d) => V.esc(d)).join(", ")}</p>`
      : "";
    const namespaces = insp.namespaces.length
      ? `<table><tr><th>Namespace</th><th>Inode</th><th>Shared</th></tr>${insp.namespaces
          .map(
            (n) =>
              `<tr><td>${V.esc(n.type)}</td><td>${n.inode}</td><td>${n.sharedWith === "pod" ? "with the pod" : n.sharedWith === "host" ? "the host's" : "its own"}</td></tr>`,
          )
          .join("")}</table>`
      : "";
    const cpu = insp.cgroup?.cpu;
    const quota = cpu?.quotaMicros ? cpu.quotaMicros / cpu.periodMicros : undefined;
    const gauge =
      quota !== undefined
        ? `<div class="gauge" role="meter" aria-label="CPU against the quota" aria-valuemin="0" aria-valuemax="${quota}" aria-valuenow="${cpuCores ?? 0}"><div style="width:${Math.min(100, ((cpuCores ?? 0) / quota) * 100).toFixed(0)}%"></div></div><p>CPU ${cpuCores === undefined ? "…" : V.showCores(cpuCores)} of a quota of ${cpu.quotaMicros}/${cpu.periodMicros} µs = ${cpu.percentOfOneCpu}% of one CPU</p>`
        : `<p class="muted">No CPU limit (no CFS quota).</p>`;
    const notes = insp.notes.map((n) => `<p class="muted">${V.esc(n)}</p>`).join("");
    return `<ol class="layers" aria-label="Root filesystem layers, top first">${stack}</ol>${whiteouts}${gauge}${namespaces}${notes}`;
  }

  async function showLogs(p: Obj, follow: boolean): Promise<void> {
    logAbort?.abort();
    const abort = new AbortController();
    logAbort = abort;
    const pre = el("logs");
    const container = (el("log-container") as HTMLSelectElement | null)?.value ?? "";
    if (!pre) return;
    pre.textContent = "";
    if (!p.spec?.nodeName) {
      pre.textContent = "No logs: the pod is not on a node yet.";
      return;
    }
    const url = `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/log?container=${encodeURIComponent(container)}&tailLines=500${follow ? "&follow=true" : ""}`;
    try {
      const res = await fetch(url, { credentials: "same-origin", headers: authed(), signal: abort.signal });
      if (!res.ok || !res.body) {
        pre.textContent = (await res.json().catch(() => ({}))).message || `no logs (${res.status})`;
        return;
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
        pre.textContent = ((pre.textContent ?? "") + value).slice(-200_000);
        if (atEnd) pre.scrollTop = pre.scrollHeight;
      }
    } catch (e) {
      if (!abort.signal.aborted)
        pre.textContent += `\n[log stream ended: ${e instanceof Error ? e.message : e}]`;
    }
  }

  // ---- actions ----------------------------------------------------------------------------

  function actionsHtml(view: View, o: Obj): string {
    if (view.key === "deployments.apps")
      return `<label>Replicas <input type="number" min="0" max="100" id="replicas" value="${o.spec?.replicas ?? 1}"></label><button type="button" data-act="scale">Scale</button><button type="button" data-act="restart">Restart</button><button type="button" data-act="undo">Undo rollout</button>`;
    if (view.key === "pods")
      return `<button type="button" class="danger" data-act="delete">Delete pod</button>`;
    if (view.key === "nodes")
      return o.spec?.unschedulable
        ? `<button type="button" data-act="uncordon">Uncordon</button>`
        : `<button type="button" data-act="cordon">Cordon</button>`;
    return "";
  }

  async function send(method: string, url: string, body?: unknown, type = "application/merge-patch+json") {
    const res = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: authed({ "Content-Type": type, "X-CSRF-Token": csrf || "" }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401) sessionGone("Your session has ended.");
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).message || `HTTP ${res.status}`);
  }

  async function act(what: string): Promise<void> {
    const r = route();
    const obj = r.view && r.name ? find(r.view, r.namespace, r.name) : undefined;
    if (!r.view || !obj) return;
    const view = r.view;
    const path = apiPath(view, obj);
    const name = `${view.plural}/${obj.metadata.name}`;
    if (what === "reveal") return reveal(path);
    if (!csrf) return note("Changes need a login session: run `minik dashboard` and open its link.", "bad");
    const replicas = Number((el("replicas") as HTMLInputElement | null)?.value);
    const plans: Record<string, [string, () => Promise<void>]> = {
      scale: [`Scale ${name} to ${replicas} replicas?`, () => send("PATCH", path, { spec: { replicas } })],
      restart: [
        `Restart the rollout of ${name}? Its pods are replaced one by one.`,
        () =>
          send("PATCH", path, {
            spec: {
              template: {
                metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": new Date().toISOString() } },
              },
            },
          }),
      ],
      undo: [`Roll ${name} back to its previous revision?`, () => undo(path, obj)],
      delete: [`Delete ${name}? Its controller, if any, creates a replacement.`, () => send("DELETE", path)],
      cordon: [
        `Cordon ${name}? New pods will not be scheduled on it.`,
        () => send("PATCH", path, { spec: { unschedulable: true } }),
      ],
      uncordon: [`Uncordon ${name}?`, () => send("PATCH", path, { spec: { unschedulable: null } })],
    };
    const plan = plans[what];
    if (!plan || !confirm(plan[0])) return;
    try {
      await plan[1]();
      note(`${what}: ${name} done`, "ok");
    } catch (e) {
      note(`${what} ${name} failed: ${e instanceof Error ? e.message : e}`, "bad");
    }
  }

  async function undo(path: string, d: Obj): Promise<void> {
    const revision = (o: Obj) => Number(o.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0);
    const current = revision(d);
    const previous = [...(state.get("replicasets.apps")?.values() ?? [])]
      .filter(
        (s) => s.metadata.ownerReferences?.some((x) => x.uid === d.metadata.uid) && revision(s) < current,
      )
      .sort((a, b) => revision(b) - revision(a))[0];
    if (!previous) throw new Error("no earlier revision to roll back to");
    const template = structuredClone(previous.spec.template);
    delete template.metadata?.labels?.["pod-template-hash"];
    await send(
      "PATCH",
      path,
      [{ op: "replace", path: "/spec/template", value: template }],
      "application/json-patch+json",
    );
  }

  async function reveal(path: string): Promise<void> {
    const pre = el("secret-values");
    if (!pre) return;
    const res = await fetch(path, { credentials: "same-origin", headers: authed() });
    const secret = await res.json();
    const data: Record<string, string> = secret.data || {};
    pre.textContent = Object.entries(data)
      .map(([k, v]) => {
        try {
          return `${k}: ${atob(v)}`;
        } catch {
          return `${k}: (binary)`;
        }
      })
      .join("\n");
    pre.hidden = false;
  }

  // ---- metrics ----------------------------------------------------------------------------

  /** Whether the API serves metrics.k8s.io (only with a node); asked once, so no request fails. */
  let metricsServed: Promise<boolean> | undefined;

  async function pollMetrics(): Promise<void> {
    if (ended || document.hidden) return;
    metricsServed ??= fetch("/apis", { credentials: "same-origin", headers: authed() })
      .then((r) => r.json())
      .then((g) => (g.groups || []).some((x: { name: string }) => x.name === "metrics.k8s.io"))
      .catch(() => {
        metricsServed = undefined;
        return false;
      });
    if (!(await metricsServed)) {
      metricsProblem = "No metrics: this minik runs without a container runtime.";
      return schedule();
    }
    try {
      const [nodes, pods] = await Promise.all([
        fetch("/apis/metrics.k8s.io/v1beta1/nodes", { credentials: "same-origin", headers: authed() }),
        fetch("/apis/metrics.k8s.io/v1beta1/pods", { credentials: "same-origin", headers: authed() }),
      ]);
      if (!nodes.ok) {
        metricsProblem =
          (await nodes.json().catch(() => ({}))).message || `metrics unavailable (${nodes.status})`;
        return;
      }
      metricsProblem = "";
      const n = (await nodes.json()).items?.[0];
      if (n) push(nodeHistory, { cpu: V.cores(n.usage.cpu), mem: V.bytes(n.usage.memory) });
      const seen = new Set<string>();
      for (const p of pods.ok ? (await pods.json()).items : []) {
        const key = `${p.metadata.namespace}/${p.metadata.name}`;
        seen.add(key);
        const sum = (f: (c: any) => number) => p.containers.reduce((s: number, c: any) => s + f(c), 0);
        const history = podHistory.get(key) ?? [];
        podHistory.set(key, history);
        push(history, { cpu: sum((c) => V.cores(c.usage.cpu)), mem: sum((c) => V.bytes(c.usage.memory)) });
      }
      for (const key of podHistory.keys()) if (!seen.has(key)) podHistory.delete(key);
    } catch {
      // the stream's state says whether minik is reachable
    } finally {
      schedule();
    }
  }

  function push(history: Sample[], s: Sample): void {
    history.push(s);
    if (history.length > HISTORY) history.shift();
  }

  // ---- wiring -----------------------------------------------------------------------------

  addEventListener("hashchange", render);
  addEventListener("keydown", (e: KeyboardEvent) => {
    const r = route();
    if (e.key === "Escape" && r.view && r.name) location.hash = `#/${r.view.plural}`;
  });
  document.addEventListener("change", (e) => {
    const target = e.target as HTMLElement;
    if (target.id === "ns") {
      namespace = (target as HTMLSelectElement).value;
      localStorage.setItem("minik.namespace", namespace);
      render();
    }
    if (target.id === "log-container" || target.id === "log-follow") {
      const r = route();
      const pod = r.view && r.name ? find(r.view, r.namespace, r.name) : undefined;
      if (pod) void showLogs(pod, (el("log-follow") as HTMLInputElement).checked);
      if (pod && target.id === "log-container") void showInspect(pod);
    }
  });
  document.addEventListener("click", (e) => {
    const button = (e.target as HTMLElement).closest("button");
    if (button?.id === "logout") void logout();
    else if (button?.dataset.act) void act(button.dataset.act);
    if (!ended && Date.now() - lastRefresh > 60_000) void checkSession();
  });
  setInterval(() => {
    if (!ended && expiresAt && Date.now() > expiresAt)
      void checkSession().then((s) => s === "gone" && sessionGone("Your session has expired."));
    if (!ended) update();
  }, 5000);
  setInterval(() => void pollMetrics(), 5000);

  void (async () => {
    const session = await checkSession();
    if (session === "gone") return sessionGone("You are not logged in.");
    drawn = "";
    connect();
    render();
    void pollMetrics();
  })();
}
