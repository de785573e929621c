/**
 * The status page's browser script, written as a typed function so it is checked and formatted
 * like the rest of the code. It must stay self-contained: `status-page.ts` embeds its source text
 * (`Function.prototype.toString`) in the page, so it may use nothing from outside its own body.
 */
export function statusPageScript(): void {
  type Obj = {
    metadata: {
      name: string;
      namespace?: string;
      uid: string;
      creationTimestamp: string;
      deletionTimestamp?: string;
    };
    spec?: any;
    status?: any;
  };
  type Kind = { path: string; cols: string[]; row: (o: Obj) => unknown[] };

  const kinds: Record<string, Kind> = {
    nodes: {
      path: "/api/v1/nodes",
      cols: ["Name", "Status", "CPU", "Memory", "Age"],
      row: (n) => [
        n.metadata.name,
        cond(n, "Ready"),
        n.status?.capacity?.cpu,
        mem(n.status?.capacity?.memory),
        age(n),
      ],
    },
    deployments: {
      path: "/apis/apps/v1/deployments",
      cols: ["Namespace", "Name", "Ready", "Up-to-date", "Available", "Age"],
      row: (d) => [
        d.metadata.namespace,
        d.metadata.name,
        `${d.status?.readyReplicas || 0}/${d.spec?.replicas ?? 0}`,
        d.status?.updatedReplicas || 0,
        d.status?.availableReplicas || 0,
        age(d),
      ],
    },
    pods: {
      path: "/api/v1/pods",
      cols: ["Namespace", "Name", "Ready", "Status", "Restarts", "IP", "Age"],
      row: (p) => [
        p.metadata.namespace,
        p.metadata.name,
        ready(p),
        podStatus(p),
        restarts(p),
        p.status?.podIP || "",
        age(p),
      ],
    },
  };
  const state: Record<string, Map<string, Obj>> = {};

  function esc(s: unknown): string {
    const entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
    return String(s ?? "").replace(/[&<>"]/g, (c) => entities[c] ?? c);
  }

  function age(o: Obj): string {
    const s = Math.max(0, Math.floor((Date.now() - Date.parse(o.metadata.creationTimestamp)) / 1000));
    if (s < 120) return `${s}s`;
    if (s < 7200) return `${Math.floor(s / 60)}m`;
    if (s < 172800) return `${Math.floor(s / 3600)}h`;
    return `${Math.floor(s / 86400)}d`;
  }

  function cond(o: Obj, type: string): string {
    const c = (o.status?.conditions || []).find((x: { type: string }) => x.type === type);
    return c?.status === "True" ? type : `Not${type}`;
  }

  function ready(p: Obj): string {
    const statuses: { ready?: boolean }[] = p.status?.containerStatuses || [];
    return `${statuses.filter((c) => c.ready).length}/${(p.spec?.containers || []).length}`;
  }

  function restarts(p: Obj): number {
    const statuses: { restartCount?: number }[] = p.status?.containerStatuses || [];
    return statuses.reduce((sum, c) => sum + (c.restartCount || 0), 0);
  }

  function podStatus(p: Obj): string {
    if (p.metadata.deletionTimestamp) return "Terminating";
    for (const c of p.status?.containerStatuses || []) {
      const reason = c.state?.waiting?.reason || c.state?.terminated?.reason;
      if (reason) return reason;
    }
    return p.status?.phase || "Pending";
  }

  function cls(v: string): string {
    if (/Err|Crash|Fail|Not|OOM|BackOff/.test(v)) return "bad";
    if (/Pending|Creating|Terminating/.test(v)) return "warn";
    if (/Running|Ready|Completed/.test(v)) return "ok";
    return "";
  }

  function mem(q: string | undefined): string | undefined {
    const m = /^(\d+)Ki$/.exec(q || "");
    return m ? `${(Number(m[1]) / 1048576).toFixed(1)} GiB` : q;
  }

  function byName(a: Obj, b: Obj): number {
    const ns = (a.metadata.namespace || "").localeCompare(b.metadata.namespace || "");
    return ns || a.metadata.name.localeCompare(b.metadata.name);
  }

  function render(kind: string): void {
    const k = kinds[kind];
    const table = document.getElementById(kind);
    if (!k || !table) return;
    const items = [...(state[kind] || new Map<string, Obj>()).values()].sort(byName);
    const head = `<tr>${k.cols.map((c) => `<th>${c}</th>`).join("")}</tr>`;
    const rows = items.map((o) => {
      const cells = k.row(o).map((v) => `<td class="${cls(String(v))}">${esc(v)}</td>`);
      return `<tr>${cells.join("")}</tr>`;
    });
    table.innerHTML =
      head + (rows.length ? rows.join("") : '<tr><td class="muted" colspan="9">none</td></tr>');
  }

  function say(text: string): void {
    const conn = document.getElementById("conn");
    if (conn) conn.textContent = text;
  }

  /** Applies one watch line; an ERROR event ends the watch so the list is read again. */
  function apply(kind: string, line: string): void {
    const ev = JSON.parse(line);
    if (ev.type === "ERROR") throw new Error(ev.object.message);
    const items = state[kind];
    if (!items) return;
    if (ev.type === "DELETED") items.delete(ev.object.metadata.uid);
    else items.set(ev.object.metadata.uid, ev.object);
    render(kind);
  }

  /** Reads a watch stream line by line until the server ends it. */
  async function watch(kind: string, url: string): Promise<void> {
    const res = await fetch(url, { credentials: "same-origin" });
    if (!res.body) return;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim()) apply(kind, line);
      }
    }
  }

  /** List, then watch from the list's resourceVersion; on any break, wait a second and list again. */
  async function follow(kind: string): Promise<void> {
    const k = kinds[kind];
    if (!k) return;
    for (;;) {
      try {
        const list = await (await fetch(k.path, { credentials: "same-origin" })).json();
        if (list.kind === "Status") {
          say(`${list.message} — run \`minik dashboard\` for a login link`);
          return;
        }
        state[kind] = new Map(list.items.map((o: Obj) => [o.metadata.uid, o]));
        render(kind);
        say("live");
        await watch(kind, `${k.path}?watch=1&resourceVersion=${list.metadata.resourceVersion}`);
      } catch (e) {
        say(`reconnecting… (${e instanceof Error ? e.message : e})`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  for (const kind of Object.keys(kinds)) void follow(kind);
  // Ages move on even when nothing changes.
  setInterval(() => {
    for (const kind of Object.keys(kinds)) if (state[kind]) render(kind);
  }, 5000);
}
