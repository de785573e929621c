/**
 * What the dashboard shows of each kind: its API path, columns and how an object becomes a row,
 * plus the formatting helpers. One self-contained factory, used twice: the server calls it for the
 * first paint (which works without JavaScript) and the page embeds its source text for the live
 * updates, so both render the same cells. It may use nothing from outside its own body.
 */
export function dashboardViews(served: ServedKind[] = []) {
  type Obj = {
    apiVersion?: string;
    kind?: string;
    metadata: {
      name: string;
      namespace?: string;
      uid: string;
      resourceVersion?: string;
      creationTimestamp: string;
      deletionTimestamp?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
      ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
    };
    spec?: any;
    status?: any;
    [field: string]: any;
  };
  /** A column; `opt` ones are hidden on narrow screens, `status` ones are coloured by their value. */
  type Column = { name: string; opt?: boolean; status?: boolean };
  type View = {
    /** Store key, as the live stream names kinds. */
    key: string;
    title: string;
    group: "Workloads" | "Network" | "Config" | "Cluster" | "More";
    /** `/api/v1` or `/apis/<group>/<version>`. */
    base: string;
    plural: string;
    namespaced: boolean;
    cols: Column[];
    row: (o: Obj, now: number) => string[];
  };

  function age(stamp: string | undefined, now: number): string {
    if (!stamp) return "";
    const s = Math.max(0, Math.floor((now - Date.parse(stamp)) / 1000));
    if (s < 120) return `${s}s`;
    if (s < 7200) return `${Math.floor(s / 60)}m`;
    if (s < 172800) return `${Math.floor(s / 3600)}h`;
    return `${Math.floor(s / 86400)}d`;
  }
  const created = (o: Obj, now: number) => age(o.metadata.creationTimestamp, now);

  function cond(o: Obj, type: string): string {
    const c = (o.status?.conditions || []).find((x: { type: string }) => x.type === type);
    return c?.status === "True" ? type : `Not${type}`;
  }

  function podReady(p: Obj): string {
    // Native sidecars (init containers with restartPolicy Always) count as kubectl counts them.
    const sidecars = new Set(
      (p.spec?.initContainers || []).filter((c: Obj) => c.restartPolicy === "Always").map((c: Obj) => c.name),
    );
    const statuses: { name?: string; ready?: boolean }[] = [
      ...(p.status?.containerStatuses || []),
      ...(p.status?.initContainerStatuses || []).filter((c: Obj) => sidecars.has(c.name)),
    ];
    return `${statuses.filter((c) => c.ready).length}/${(p.spec?.containers || []).length + sidecars.size}`;
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

  /** The CSS class of a status value: ok, warn or bad. */
  function tone(v: string): string {
    if (/Err|Crash|Fail|^Not|OOM|BackOff|Warning|Terminating|Unschedulable/.test(v)) return "bad";
    if (/Pending|Creating|Progress|Init/.test(v)) return "warn";
    if (/Running|^Ready|Completed|Active|Succeeded|Normal|Available/.test(v)) return "ok";
    return "";
  }

  /** `1536Mi`, `2Gi`, `1048576Ki`, `123456` → bytes. */
  function bytes(q: string | undefined): number {
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q || "");
    if (!m) return 0;
    const scale: Record<string, number> = {
      Ki: 2 ** 10,
      Mi: 2 ** 20,
      Gi: 2 ** 30,
      Ti: 2 ** 40,
      k: 1e3,
      M: 1e6,
      G: 1e9,
      T: 1e12,
    };
    return Number(m[1]) * (scale[m[2] || ""] || 1);
  }

  /** `250m`, `2`, `1500000n` → cores. */
  function cores(q: string | undefined): number {
    const m = /^(\d+(?:\.\d+)?)(n|u|m)?$/.exec(q || "");
    if (!m) return 0;
    const scale: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3 };
    return Number(m[1]) * (scale[m[2] || ""] || 1);
  }

  function showBytes(n: number): string {
    if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
    if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(0)} MiB`;
    return `${Math.round(n / 1024)} KiB`;
  }

  function showCores(n: number): string {
    return n >= 1 ? `${n.toFixed(2)} cores` : `${Math.round(n * 1000)}m`;
  }

  function ports(s: Obj): string {
    const list: { port: number; nodePort?: number; protocol?: string }[] = s.spec?.ports || [];
    return list.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol || "TCP"}`).join(",");
  }

  function endpointAddresses(e: Obj): string {
    const out: string[] = [];
    for (const subset of e.subsets || [])
      for (const a of subset.addresses || [])
        for (const p of subset.ports || [{ port: "" }]) out.push(`${a.ip}${p.port ? `:${p.port}` : ""}`);
    return out.length
      ? out.slice(0, 4).join(",") + (out.length > 4 ? ` +${out.length - 4} more` : "")
      : "<none>";
  }

  const ns: Column = { name: "Namespace", opt: true };
  const nm: Column = { name: "Name" };
  const ag: Column = { name: "Age", opt: true };

  const views: View[] = [
    {
      key: "deployments.apps",
      title: "Deployments",
      group: "Workloads",
      base: "/apis/apps/v1",
      plural: "deployments",
      namespaced: true,
      cols: [
        ns,
        nm,
        { name: "Ready", status: true },
        { name: "Up-to-date", opt: true },
        { name: "Available", opt: true },
        ag,
      ],
      row: (d, now) => [
        d.metadata.namespace || "",
        d.metadata.name,
        `${d.status?.readyReplicas || 0}/${d.spec?.replicas ?? 0}`,
        String(d.status?.updatedReplicas || 0),
        String(d.status?.availableReplicas || 0),
        created(d, now),
      ],
    },
    {
      key: "replicasets.apps",
      title: "ReplicaSets",
      group: "Workloads",
      base: "/apis/apps/v1",
      plural: "replicasets",
      namespaced: true,
      cols: [ns, nm, { name: "Desired" }, { name: "Current", opt: true }, { name: "Ready" }, ag],
      row: (r, now) => [
        r.metadata.namespace || "",
        r.metadata.name,
        String(r.spec?.replicas ?? 0),
        String(r.status?.replicas || 0),
        String(r.status?.readyReplicas || 0),
        created(r, now),
      ],
    },
    {
      key: "pods",
      title: "Pods",
      group: "Workloads",
      base: "/api/v1",
      plural: "pods",
      namespaced: true,
      cols: [
        ns,
        nm,
        { name: "Ready" },
        { name: "Status", status: true },
        { name: "Restarts", opt: true },
        { name: "IP", opt: true },
        ag,
      ],
      row: (p, now) => [
        p.metadata.namespace || "",
        p.metadata.name,
        podReady(p),
        podStatus(p),
        String(restarts(p)),
        p.status?.podIP || "",
        created(p, now),
      ],
    },
    {
      key: "horizontalpodautoscalers.autoscaling",
      title: "HPAs",
      group: "Workloads",
      base: "/apis/autoscaling/v2",
      plural: "horizontalpodautoscalers",
      namespaced: true,
      cols: [ns, nm, { name: "Reference", opt: true }, { name: "Replicas" }, { name: "Min/Max" }, ag],
      row: (h, now) => [
        h.metadata.namespace || "",
        h.metadata.name,
        `${h.spec?.scaleTargetRef?.kind}/${h.spec?.scaleTargetRef?.name}`,
        String(h.status?.currentReplicas ?? 0),
        `${h.spec?.minReplicas ?? 1}/${h.spec?.maxReplicas ?? ""}`,
        created(h, now),
      ],
    },
    {
      key: "poddisruptionbudgets.policy",
      title: "PDBs",
      group: "Workloads",
      base: "/apis/policy/v1",
      plural: "poddisruptionbudgets",
      namespaced: true,
      cols: [ns, nm, { name: "Min available" }, { name: "Allowed disruptions" }, ag],
      row: (p, now) => [
        p.metadata.namespace || "",
        p.metadata.name,
        String(p.spec?.minAvailable ?? "N/A"),
        String(p.status?.disruptionsAllowed ?? 0),
        created(p, now),
      ],
    },
    {
      key: "services",
      title: "Services",
      group: "Network",
      base: "/api/v1",
      plural: "services",
      namespaced: true,
      cols: [ns, nm, { name: "Type", opt: true }, { name: "Cluster IP" }, { name: "Ports" }, ag],
      row: (s, now) => [
        s.metadata.namespace || "",
        s.metadata.name,
        s.spec?.type || "ClusterIP",
        s.spec?.clusterIP || "",
        ports(s),
        created(s, now),
      ],
    },
    {
      key: "endpoints",
      title: "Endpoints",
      group: "Network",
      base: "/api/v1",
      plural: "endpoints",
      namespaced: true,
      cols: [ns, nm, { name: "Endpoints" }, ag],
      row: (e, now) => [e.metadata.namespace || "", e.metadata.name, endpointAddresses(e), created(e, now)],
    },
    {
      key: "endpointslices.discovery.k8s.io",
      title: "EndpointSlices",
      group: "Network",
      base: "/apis/discovery.k8s.io/v1",
      plural: "endpointslices",
      namespaced: true,
      cols: [ns, nm, { name: "Address type", opt: true }, { name: "Endpoints" }, ag],
      row: (e, now) => [
        e.metadata.namespace || "",
        e.metadata.name,
        e.addressType || "",
        (e.endpoints || []).flatMap((x: { addresses?: string[] }) => x.addresses || []).join(",") || "<none>",
        created(e, now),
      ],
    },
    {
      key: "configmaps",
      title: "ConfigMaps",
      group: "Config",
      base: "/api/v1",
      plural: "configmaps",
      namespaced: true,
      cols: [ns, nm, { name: "Data" }, ag],
      row: (c, now) => [
        c.metadata.namespace || "",
        c.metadata.name,
        String(Object.keys(c.data || {}).length + Object.keys(c.binaryData || {}).length),
        created(c, now),
      ],
    },
    {
      key: "secrets",
      title: "Secrets",
      group: "Config",
      base: "/api/v1",
      plural: "secrets",
      namespaced: true,
      cols: [ns, nm, { name: "Type", opt: true }, { name: "Data" }, ag],
      row: (s, now) => [
        s.metadata.namespace || "",
        s.metadata.name,
        s.type || "Opaque",
        String((s.keys || Object.keys(s.data || {})).length),
        created(s, now),
      ],
    },
    {
      key: "serviceaccounts",
      title: "ServiceAccounts",
      group: "Config",
      base: "/api/v1",
      plural: "serviceaccounts",
      namespaced: true,
      cols: [ns, nm, ag],
      row: (s, now) => [s.metadata.namespace || "", s.metadata.name, created(s, now)],
    },
    {
      key: "nodes",
      title: "Nodes",
      group: "Cluster",
      base: "/api/v1",
      plural: "nodes",
      namespaced: false,
      cols: [nm, { name: "Status", status: true }, { name: "CPU" }, { name: "Memory", opt: true }, ag],
      row: (n, now) => [
        n.metadata.name,
        cond(n, "Ready") + (n.spec?.unschedulable ? ",SchedulingDisabled" : ""),
        String(n.status?.capacity?.cpu ?? ""),
        showBytes(bytes(n.status?.capacity?.memory)),
        created(n, now),
      ],
    },
    {
      key: "namespaces",
      title: "Namespaces",
      group: "Cluster",
      base: "/api/v1",
      plural: "namespaces",
      namespaced: false,
      cols: [nm, { name: "Status", status: true }, ag],
      row: (n, now) => [n.metadata.name, n.status?.phase || "Active", created(n, now)],
    },
    {
      key: "events",
      title: "Events",
      group: "Cluster",
      base: "/api/v1",
      plural: "events",
      namespaced: true,
      cols: [
        ns,
        { name: "Last seen" },
        { name: "Type", status: true },
        { name: "Reason" },
        { name: "Object", opt: true },
        { name: "Message", opt: true },
      ],
      row: (e, now) => [
        e.metadata.namespace || "",
        age(eventTime(e), now),
        e.type || "Normal",
        e.reason || "",
        `${(e.involvedObject?.kind || "").toLowerCase()}/${e.involvedObject?.name || ""}`,
        e.message || "",
      ],
    },
  ];

  // Kinds the API serves that have no view of their own yet (added by later features) get a
  // plain one: namespace, name, age.
  for (const k of served) {
    if (views.some((v) => v.key === k.key)) continue;
    views.push({
      key: k.key,
      title: k.kind.endsWith("s")
        ? `${k.kind}es`
        : k.kind.endsWith("y")
          ? `${k.kind.slice(0, -1)}ies`
          : `${k.kind}s`,
      group: "More",
      base: k.base,
      plural: k.plural,
      namespaced: k.namespaced,
      cols: k.namespaced ? [ns, nm, ag] : [nm, ag],
      row: (o, now) => [
        ...(k.namespaced ? [o.metadata.namespace || ""] : []),
        o.metadata.name,
        created(o, now),
      ],
    });
  }

  function eventTime(e: Obj): string {
    return e.lastTimestamp || e.eventTime || e.metadata.creationTimestamp;
  }

  function byName(a: Obj, b: Obj): number {
    const n = (a.metadata.namespace || "").localeCompare(b.metadata.namespace || "");
    return n || a.metadata.name.localeCompare(b.metadata.name);
  }

  /** Newest first for events, by namespace and name for everything else. */
  function order(key: string): (a: Obj, b: Obj) => number {
    if (key === "events") return (a, b) => Date.parse(eventTime(b)) - Date.parse(eventTime(a));
    return byName;
  }

  function esc(s: unknown): string {
    const entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
    return String(s ?? "").replace(/[&<>"]/g, (c) => entities[c] ?? c);
  }

  /** The object's own page in the dashboard: `#/pods/default/web-1`. */
  function href(view: View, o: Obj): string {
    return `#/${view.plural}/${view.namespaced ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
  }

  /** One table row as HTML: the name links to the object's detail pane. */
  function rowHtml(view: View, o: Obj, now: number): string {
    const cells = view.row(o, now);
    const nameAt = view.cols.findIndex((c) => c.name === "Name");
    const tds = cells.map((v, i) => {
      const col = view.cols[i]!;
      const cls = [col.opt ? "opt" : "", col.status ? tone(v) : "", i === nameAt ? "name" : ""]
        .filter(Boolean)
        .join(" ");
      const inner = i === nameAt ? `<a href="${esc(href(view, o))}">${esc(v)}</a>` : esc(v);
      return `<td${cls ? ` class="${cls}"` : ""}>${inner}</td>`;
    });
    return `<tr data-uid="${esc(o.metadata.uid)}">${tds.join("")}</tr>`;
  }

  function headHtml(view: View): string {
    return `<tr>${view.cols.map((c) => `<th scope="col"${c.opt ? ' class="opt"' : ""}>${c.name}</th>`).join("")}</tr>`;
  }

  return {
    views,
    age,
    tone,
    bytes,
    cores,
    showBytes,
    showCores,
    podStatus,
    eventTime,
    order,
    esc,
    href,
    rowHtml,
    headHtml,
  };
}

/** A kind the API serves, as the server tells the page (so kinds added later get a plain view). */
export interface ServedKind {
  /** Store key: `pods`, `deployments.apps`. */
  key: string;
  kind: string;
  plural: string;
  /** `/api/v1` or `/apis/<group>/<version>`. */
  base: string;
  namespaced: boolean;
}

export type DashboardViews = ReturnType<typeof dashboardViews>;
export type DashboardView = DashboardViews["views"][number];
export type DashboardObject = Parameters<DashboardView["row"]>[0];
