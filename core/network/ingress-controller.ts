import type { Endpoints, Pod, Secret, Service } from "kubernetes-types/core/v1";
import type { EndpointSlice } from "kubernetes-types/discovery/v1";
import type { Ingress, IngressClass } from "kubernetes-types/networking/v1";
import { type Controller, type ControllerContext, createController } from "../controllers/controller.ts";
import type { KubeObject } from "../object.ts";
import type { IngressCertificate, IngressListeners } from "../seams/ingress-listener.ts";
import { classOf, INGRESS_CONTROLLER } from "./ingress-class.ts";
import type { IngressRouter } from "./ingress-router.ts";
import { type IngressProblem, ingressTable } from "./ingress-routes.ts";
import { terminatingPods } from "./service-ports.ts";

type Kube<T> = T & KubeObject;
const KEY = "node";
/** Status writes per reconcile; the rest follow on the requeue (bounded work). */
const STATUS_BATCH = 50;

/**
 * The built-in ingress controller: keeps the router's table and the HTTPS listener's
 * certificates equal to the Ingresses of minik's classes (and those without a class) plus their
 * Services, EndpointSlices and Secrets; writes `status.loadBalancer.ingress` with the listen
 * address; reports a missing Service or Secret as a Warning event on the Ingress (once while it
 * lasts). One key for the whole node, like the service proxy: the table is rebuilt in one go.
 */
export function createIngressController(
  ctx: ControllerContext,
  router: IngressRouter,
  listeners: IngressListeners,
  options: { resyncMs?: number } = {},
): Controller {
  const ingresses = ctx.informers.for<Kube<Ingress>>("ingresses.networking.k8s.io");
  const classes = ctx.informers.for<Kube<IngressClass>>("ingressclasses.networking.k8s.io");
  const services = ctx.informers.for<Kube<Service>>("services");
  const slices = ctx.informers.for<Kube<EndpointSlice>>("endpointslices.discovery.k8s.io");
  const endpoints = ctx.informers.for<Kube<Endpoints>>("endpoints");
  const secrets = ctx.informers.for<Kube<Secret>>("secrets");
  const pods = ctx.informers.for<Kube<Pod>>("pods");
  const events = ctx.events("minik-ingress-controller");
  let lastCerts = "";
  let reported = new Set<string>();

  function served(): Kube<Ingress>[] {
    const mine = new Set(
      classes
        .list()
        .filter((c) => c.spec?.controller === INGRESS_CONTROLLER)
        .map((c) => c.metadata.name),
    );
    // An Ingress without any class is served too (ingress-nginx's --watch-ingress-without-class).
    return ingresses.list().filter((i) => {
      const cls = classOf(i);
      return cls === undefined || mine.has(cls);
    });
  }

  const controller = createController({
    name: "ingress",
    workers: 1,
    log: ctx.log,
    resync: { everyMs: options.resyncMs ?? 30_000, keys: () => [KEY] },
    async reconcile() {
      const mine = served();
      const { table, problems } = ingressTable({
        ingresses: mine,
        services: services.list(),
        endpointSlices: slices.list(),
        endpoints: endpoints.list(),
        secrets: secrets.list(),
        terminatingPods: terminatingPods(pods.list()),
      });
      router.setTable(table);
      await applyCertificates(table.certificates);
      reportProblems(problems);
      return writeStatus(mine);
    },
  });

  async function applyCertificates(certs: IngressCertificate[]): Promise<void> {
    const text = JSON.stringify(certs);
    if (text === lastCerts) return;
    await listeners.setCertificates(certs);
    lastCerts = text;
  }

  function reportProblems(problems: IngressProblem[]): void {
    const now = new Set<string>();
    for (const p of problems) {
      const id = `${p.ingress}|${p.message}`;
      now.add(id);
      if (reported.has(id)) continue;
      const [namespace, name] = p.ingress.split("/");
      const ing = ingresses.get(namespace ?? "", name ?? "");
      if (ing) events.record(ing, "Warning", p.reason, p.message);
    }
    reported = now;
  }

  /**
   * Served Ingresses get the listen address; one that left minik's class (or lost it) has the
   * address this controller wrote taken away again, as ingress-nginx does.
   */
  async function writeStatus(mine: Kube<Ingress>[]): Promise<{ requeueAfterMs: number } | undefined> {
    const want = JSON.stringify([{ ip: listeners.address }]);
    const served = new Set(mine);
    const shown = (i: Kube<Ingress>) => JSON.stringify(i.status?.loadBalancer?.ingress ?? []);
    const stale = ingresses
      .list()
      .filter((i) => !i.metadata.deletionTimestamp)
      .filter((i) => (served.has(i) ? shown(i) !== want : shown(i) === want));
    for (const ing of stale.slice(0, STATUS_BATCH)) {
      const loadBalancer = served.has(ing) ? { ingress: JSON.parse(want) } : {};
      const updated = await ctx.client.updateStatus<Kube<Ingress>>("ingresses.networking.k8s.io", {
        ...ing,
        status: { ...ing.status, loadBalancer },
      });
      ingresses.observe(updated);
    }
    return stale.length > STATUS_BATCH ? { requeueAfterMs: 1 } : undefined;
  }

  const kick = () => controller.enqueue(KEY);
  for (const informer of [ingresses, classes, services, slices, endpoints, secrets]) informer.onEvent(kick);
  pods.onEvent((e) => {
    if (e.type === "DELETED" || !!e.object.metadata.deletionTimestamp !== !!e.old?.metadata.deletionTimestamp)
      kick();
  });
  return {
    ...controller,
    start() {
      controller.start();
      controller.enqueue(KEY);
    },
  };
}
