import type { Ingress, IngressClass } from "kubernetes-types/networking/v1";
import { isApiError } from "../errors.ts";
import type { KubeObject } from "../object.ts";
import type { AdmissionHook } from "../registry/admission.ts";
import type { Client } from "../seams/client.ts";

/** The built-in IngressClass, its controller name, and the annotations Kubernetes reads. */
export const INGRESS_CLASS = "minik";
export const INGRESS_CONTROLLER = "minik.dev/ingress";
export const DEFAULT_INGRESS_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class";
/** The pre-1.18 way of naming a class, still honoured by controllers (and by the admission below). */
export const LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class";

type Kube<T> = T & KubeObject;
const CLASSES = "ingressclasses.networking.k8s.io";

/** Creates the `minik` IngressClass at start, marked default unless another class already is. */
export async function ensureIngressClass(client: Client): Promise<void> {
  if (await client.tryGet(CLASSES, "", INGRESS_CLASS)) return;
  const others = (await client.list<Kube<IngressClass>>(CLASSES)).items;
  const markDefault = !others.some(isDefaultClass);
  try {
    await client.create<Kube<IngressClass>>(CLASSES, {
      apiVersion: "networking.k8s.io/v1",
      kind: "IngressClass",
      metadata: {
        name: INGRESS_CLASS,
        ...(markDefault ? { annotations: { [DEFAULT_INGRESS_CLASS_ANNOTATION]: "true" } } : {}),
      },
      spec: { controller: INGRESS_CONTROLLER },
    });
  } catch (e) {
    if (!isApiError(e, "AlreadyExists")) throw e;
  }
}

export function isDefaultClass(cls: IngressClass): boolean {
  return cls.metadata?.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION] === "true";
}

/**
 * kube-apiserver's DefaultIngressClass admission plugin: a new Ingress that names no class (neither
 * `spec.ingressClassName` nor the legacy annotation) gets the default one. Two defaults: the
 * newest wins, as in Kubernetes 1.32.
 */
export function defaultIngressClassAdmission(client: () => Client): AdmissionHook {
  return async ({ resource, operation, object }) => {
    if (resource !== "ingresses.networking.k8s.io" || operation !== "CREATE") return;
    const ingress = object as Kube<Ingress> & { spec?: { ingressClassName?: string } };
    if (!ingress.spec || ingress.spec.ingressClassName) return;
    if (ingress.metadata.annotations?.[LEGACY_CLASS_ANNOTATION]) return;
    const defaults = (await client().list<Kube<IngressClass>>(CLASSES)).items.filter(isDefaultClass);
    if (!defaults.length) return;
    defaults.sort((a, b) =>
      (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""),
    );
    ingress.spec.ingressClassName = defaults[0]!.metadata.name;
  };
}

/** The class an Ingress asks for: spec first, then the legacy annotation. */
export function classOf(ingress: Ingress): string | undefined {
  return ingress.spec?.ingressClassName ?? ingress.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
}
