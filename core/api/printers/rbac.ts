import type { RoleBinding } from "kubernetes-types/rbac/v1";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

/** RoleBinding and ClusterRoleBinding: the role as Kind/name; subjects by kind with -o wide. */
export const bindingPrinter: Printer = {
  columns: [
    nameColumn,
    column("Role", "string", "RoleRef is the reference to the role being bound."),
    ageColumn,
    column("Users", "string", "Users in the binding", 1),
    column("Groups", "string", "Groups in the binding", 1),
    column("ServiceAccounts", "string", "ServiceAccounts in the binding", 1),
  ],
  cells(obj, now) {
    const b = obj as unknown as RoleBinding;
    const subjects = b.subjects ?? [];
    const names = (kind: string) =>
      subjects
        .filter((s) => s.kind === kind)
        .map((s) => (kind === "ServiceAccount" ? `${s.namespace ?? ""}/${s.name}` : s.name))
        .join(", ");
    return [
      b.metadata?.name,
      `${b.roleRef?.kind}/${b.roleRef?.name}`,
      since(b.metadata?.creationTimestamp, now),
      names("User"),
      names("Group"),
      names("ServiceAccount"),
    ];
  },
};
