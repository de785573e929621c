import type { Ingress, IngressClass, IngressRule } from "kubernetes-types/networking/v1";
import { since } from "./human-duration.ts";
import { ageColumn, column, nameColumn, type Printer } from "./printer.ts";

/** Ingress and IngressClass rows, as kube-apiserver 1.32's printers make them. */
export const ingressPrinter: Printer = {
  columns: [
    nameColumn,
    column("Class", "string", "The name of the IngressClass resource that should be used for this Ingress"),
    column("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
    column("Address", "string", "Address is a list containing ingress points for the load-balancer"),
    column("Ports", "string", "Ports of TLS configurations that open"),
    ageColumn,
  ],
  cells(obj, now) {
    const ing = obj as unknown as Ingress;
    return [
      ing.metadata?.name,
      ing.spec?.ingressClassName ?? "<none>",
      formatHosts(ing.spec?.rules ?? []),
      formatAddress(ing),
      ing.spec?.tls?.length ? "80, 443" : "80",
      since(ing.metadata?.creationTimestamp, now),
    ];
  },
};

/** Up to three hosts, then `+ N more...`; `*` when no rule names one. */
function formatHosts(rules: readonly IngressRule[]): string {
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (!list.length) return "*";
  return more ? `${list.join(",")} + ${rules.length - max} more...` : list.join(",");
}

// kubectl shortens a long address list in the narrow view (loadBalancerWidth).
const ADDRESS_WIDTH = 16;

function formatAddress(ing: Ingress): string {
  const all = (ing.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || "").filter(Boolean);
  const text = all.join(",");
  return text.length > ADDRESS_WIDTH ? `${text.slice(0, ADDRESS_WIDTH - 3)}...` : text;
}

export const ingressClassPrinter: Printer = {
  columns: [
    nameColumn,
    column("Controller", "string", "Controller that is responsible for handling this class"),
    column("Parameters", "string", "A reference to a resource with additional parameters"),
    ageColumn,
  ],
  cells(obj, now) {
    const cls = obj as unknown as IngressClass;
    const p = cls.spec?.parameters;
    const parameters = p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ""}/${p.name}` : "<none>";
    return [
      cls.metadata?.name,
      cls.spec?.controller,
      parameters,
      since(cls.metadata?.creationTimestamp, now),
    ];
  },
};
