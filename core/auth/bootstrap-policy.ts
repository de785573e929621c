import type { ClusterRole, ClusterRoleBinding, PolicyRule } from "kubernetes-types/rbac/v1";
import { isApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { Client } from "../seams/client.ts";
import { MASTERS_GROUP, RBAC_GROUP } from "./rbac-authorizer.ts";

/**
 * The default ClusterRoles and ClusterRoleBindings kube-apiserver creates at start (its
 * bootstrappolicy): cluster-admin for system:masters, discovery and self-review for every
 * authenticated user, and the user-facing admin/edit/view roles, which aggregate the
 * `system:aggregate-to-*` roles (and any ClusterRole labelled to join them). Objects carrying the
 * autoupdate annotation are put back to these rules on every start; others are left as edited.
 */
const AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate";
const BOOTSTRAP_LABEL = { "kubernetes.io/bootstrapping": "rbac-defaults" };
const AGGREGATE = (to: string) => `rbac.authorization.k8s.io/aggregate-to-${to}`;

const READ = ["get", "list", "watch"];
const WRITE = ["create", "delete", "deletecollection", "patch", "update"];
const rule = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule => ({
  apiGroups,
  resources,
  verbs,
});

const VIEW_CORE = [
  "bindings",
  "configmaps",
  "endpoints",
  "events",
  "limitranges",
  "namespaces",
  "namespaces/status",
  "persistentvolumeclaims",
  "persistentvolumeclaims/status",
  "pods",
  "pods/log",
  "pods/status",
  "replicationcontrollers",
  "replicationcontrollers/scale",
  "replicationcontrollers/status",
  "resourcequotas",
  "resourcequotas/status",
  "serviceaccounts",
  "services",
  "services/status",
];
const APPS = [
  "controllerrevisions",
  "daemonsets",
  "daemonsets/status",
  "deployments",
  "deployments/scale",
  "deployments/status",
  "replicasets",
  "replicasets/scale",
  "replicasets/status",
  "statefulsets",
  "statefulsets/scale",
  "statefulsets/status",
];
const WORKLOAD_GROUPS: Array<[string, string[]]> = [
  ["apps", APPS],
  ["autoscaling", ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]],
  ["batch", ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]],
  ["policy", ["poddisruptionbudgets", "poddisruptionbudgets/status"]],
  ["networking.k8s.io", ["ingresses", "ingresses/status", "networkpolicies"]],
];

function aggregateRole(name: string, to: string[], rules: PolicyRule[]): ClusterRole {
  return {
    metadata: {
      name,
      labels: { ...BOOTSTRAP_LABEL, ...Object.fromEntries(to.map((t) => [AGGREGATE(t), "true"])) },
    },
    rules,
  };
}

function aggregatingRole(name: string, from: string): ClusterRole {
  return {
    metadata: { name, labels: BOOTSTRAP_LABEL },
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE(from)]: "true" } }] },
    rules: [],
  };
}

/** The role of joined nodes (`minik agent`), bound to their group as Kubernetes' Node authorizer's peers. */
export const NODE_ROLE = "system:node";
export const NODES_GROUP = "system:nodes";

export const DEFAULT_CLUSTER_ROLES: ClusterRole[] = [
  {
    metadata: { name: "cluster-admin", labels: BOOTSTRAP_LABEL },
    rules: [rule(["*"], ["*"], ["*"]), { nonResourceURLs: ["*"], verbs: ["*"] }],
  },
  {
    metadata: { name: "system:discovery", labels: BOOTSTRAP_LABEL },
    rules: [
      {
        nonResourceURLs: [
          "/api",
          "/api/*",
          "/apis",
          "/apis/*",
          "/healthz",
          "/livez",
          "/openapi",
          "/openapi/*",
          "/readyz",
          "/version",
          "/version/",
        ],
        verbs: ["get"],
      },
    ],
  },
  {
    metadata: { name: "system:basic-user", labels: BOOTSTRAP_LABEL },
    rules: [
      rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"]),
      rule(["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]),
    ],
  },
  {
    metadata: { name: "system:public-info-viewer", labels: BOOTSTRAP_LABEL },
    rules: [{ nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"], verbs: ["get"] }],
  },
  {
    metadata: { name: "system:service-account-issuer-discovery", labels: BOOTSTRAP_LABEL },
    rules: [{ nonResourceURLs: ["/.well-known/openid-configuration", "/openid/v1/jwks"], verbs: ["get"] }],
  },
  {
    // What a joined node's agent (kubelet, service proxy, DNS) does with the API — not admin: it
    // cannot touch workloads, RBAC or other namespaces' objects beyond pods and what pods mount.
    metadata: { name: NODE_ROLE, labels: BOOTSTRAP_LABEL },
    rules: [
      rule([""], ["nodes"], [...READ, "create", "update", "patch", "delete"]),
      rule([""], ["nodes/status"], ["update", "patch"]),
      rule([""], ["pods"], [...READ, "delete"]),
      rule([""], ["pods/status"], ["update", "patch"]),
      rule([""], ["events"], [...READ, "create", "update", "patch"]),
      rule([""], ["services", "endpoints", "configmaps", "secrets", "serviceaccounts", "namespaces"], READ),
      rule([""], ["persistentvolumeclaims", "persistentvolumes"], READ),
      rule([""], ["serviceaccounts/token"], ["create"]),
      rule(["discovery.k8s.io"], ["endpointslices"], READ),
      // the node enforces NetworkPolicies itself (as a CNI plugin's node agent does)
      rule(["networking.k8s.io"], ["networkpolicies"], READ),
      rule(["coordination.k8s.io"], ["leases"], [...READ, "create", "update", "patch"]),
    ],
  },
  aggregatingRole("admin", "admin"),
  aggregatingRole("edit", "edit"),
  aggregatingRole("view", "view"),
  aggregateRole(
    "system:aggregate-to-admin",
    ["admin"],
    [
      rule([RBAC_GROUP], ["rolebindings", "roles"], [...READ, ...WRITE]),
      rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
    ],
  ),
  aggregateRole(
    "system:aggregate-to-edit",
    ["admin", "edit"],
    [
      rule(
        [""],
        ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"],
        [...READ],
      ),
      rule([""], ["serviceaccounts"], ["impersonate"]),
      rule(
        [""],
        ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"],
        ["create", "delete", "deletecollection", "patch", "update"],
      ),
      rule([""], ["pods/eviction"], ["create"]),
      rule(
        [""],
        [
          "configmaps",
          "events",
          "persistentvolumeclaims",
          "replicationcontrollers",
          "replicationcontrollers/scale",
          "secrets",
          "serviceaccounts",
          "services",
          "services/proxy",
        ],
        WRITE,
      ),
      rule([""], ["serviceaccounts/token"], ["create"]),
      ...WORKLOAD_GROUPS.map(([g, rs]) =>
        rule(
          [g],
          rs.filter((r) => !r.endsWith("/status")),
          WRITE,
        ),
      ),
      rule(["coordination.k8s.io"], ["leases"], [...READ, ...WRITE]),
      rule(["discovery.k8s.io"], ["endpointslices"], WRITE),
    ],
  ),
  aggregateRole(
    "system:aggregate-to-view",
    ["admin", "edit", "view"],
    [
      rule([""], VIEW_CORE, READ),
      ...WORKLOAD_GROUPS.map(([g, rs]) => rule([g], rs, READ)),
      rule(["discovery.k8s.io"], ["endpointslices"], READ),
    ],
  ),
];

export const DEFAULT_CLUSTER_ROLE_BINDINGS: ClusterRoleBinding[] = [
  binding("cluster-admin", "cluster-admin", [MASTERS_GROUP]),
  binding("system:discovery", "system:discovery", ["system:authenticated"]),
  binding("system:basic-user", "system:basic-user", ["system:authenticated"]),
  binding("system:service-account-issuer-discovery", "system:service-account-issuer-discovery", [
    "system:serviceaccounts",
  ]),
  binding(NODE_ROLE, NODE_ROLE, [NODES_GROUP]),
  binding("system:public-info-viewer", "system:public-info-viewer", [
    "system:authenticated",
    "system:unauthenticated",
  ]),
];

function binding(name: string, role: string, groups: string[]): ClusterRoleBinding {
  return {
    metadata: { name, labels: BOOTSTRAP_LABEL },
    roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: role },
    subjects: groups.map((g) => ({ apiGroup: RBAC_GROUP, kind: "Group", name: g })),
  };
}

/** Creates the default roles and bindings, and resets those still marked for auto-update. */
export async function ensureBootstrapPolicy(
  client: Pick<Client, "tryGet" | "create" | "update">,
): Promise<void> {
  const kinds: Array<[string, string, (ClusterRole | ClusterRoleBinding)[], string[]]> = [
    [`clusterroles.${RBAC_GROUP}`, "ClusterRole", DEFAULT_CLUSTER_ROLES, ["rules", "aggregationRule"]],
    [`clusterrolebindings.${RBAC_GROUP}`, "ClusterRoleBinding", DEFAULT_CLUSTER_ROLE_BINDINGS, ["subjects"]],
  ];
  for (const [resource, kind, objects, fields] of kinds) {
    for (const wanted of objects) {
      const name = wanted.metadata?.name ?? "";
      const obj = {
        apiVersion: `${RBAC_GROUP}/v1`,
        kind,
        ...wanted,
        metadata: { ...wanted.metadata, annotations: { [AUTOUPDATE]: "true" } },
      } as unknown as KubeObject;
      const existing = await client.tryGet(resource, "", name);
      if (!existing) {
        try {
          await client.create(resource, obj);
        } catch (e) {
          if (!isApiError(e, "AlreadyExists")) throw e;
        }
        continue;
      }
      if (existing.metadata.annotations?.[AUTOUPDATE] !== "true") continue;
      // aggregated roles' rules belong to the aggregation controller
      const owned = fields.filter((f) => !(f === "rules" && (wanted as ClusterRole).aggregationRule));
      if (
        owned.every(
          (f) => JSON.stringify(existing[f]) === JSON.stringify((obj as Record<string, unknown>)[f]),
        )
      )
        continue;
      const next: KubeObject = { ...existing };
      for (const f of owned) next[f] = (obj as Record<string, unknown>)[f];
      await client.update(resource, next);
    }
  }
}
