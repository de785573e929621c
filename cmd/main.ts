/**
 * The minik command line: this file only lists the commands; each lives in its own file and
 * loads lazily, so `minik get` does not pay for what `minik up` needs.
 */
import { cac } from "cac";
import { ApiError } from "../core/errors.ts";
import { VERSION } from "../core/version.ts";
import { stdinFilenameArgs } from "./argv.ts";
import { UsageError } from "./usage-error.ts";

const cli = cac("minik");

cli
  .option(
    "-s, --server <url>",
    "API server URL (default: $MINIK_SERVER, then what `minik up` wrote, then http://127.0.0.1:7080)",
  )
  .option("--token <token>", "Bearer token (default: $MINIK_TOKEN, then <data-dir>/token)")
  .option("--data-dir <dir>", "Data directory (default: /var/lib/minik for root, ~/.minik otherwise)")
  .option("-n, --namespace <ns>", "Namespace")
  .option("--debug", "Print stack traces of errors");

cli
  .command("up", "Start minik: API server, controllers, node agent and container runtime")
  .option("--listen <addr>", "Address to listen on (host:port)", { default: "127.0.0.1:7080" })
  .option(
    "--listen-tls <addr>",
    "TLS listener for kubectl and client libraries (default: the one the last start used, else 127.0.0.1:7443, or a free port when --listen is not the default)",
  )
  .option("--anonymous", "Allow requests without the token (loopback listeners only)")
  .option("--write-kubeconfig", "Merge a `minik` context into ~/.kube/config")
  .option("--registry-mirror <mirror>", "Registry mirror, e.g. docker.io=http://127.0.0.1:5100 (repeatable)")
  .option("--runtime <name>", "Container runtime: crun, or none (control plane only)")
  .option("--pod-cidr <cidr>", "Pod address range")
  .option("--service-cidr <cidr>", "Service ClusterIP range")
  .option("--max-pods <n>", "Pods this node takes, as the kubelet's --max-pods (default 110)")
  .option(
    "--idle-memory <policy>",
    "release: a quiet daemon gives back memory it holds unused (default); keep: it never does (steady figures for measurements)",
  )
  .option("--hpa-sync-period <seconds>", "How often autoscalers are evaluated (default 15)")
  .option("--nodeport-address <ip>", "Address NodePorts listen on", { default: "127.0.0.1" })
  .option("--ingress-http <addr>", "Ingress HTTP listener, host:port or off (default 127.0.0.1:80)")
  .option("--ingress-https <addr>", "Ingress HTTPS listener, host:port or off (default 127.0.0.1:443)")
  .option("--container-log-max-size <quantity>", "Rotate a container's log at this size (default 10Mi)")
  .option("--container-log-max-files <n>", "Log files kept per container, the live one included (default 5)")
  .option(
    "--datastore-endpoint <url>",
    "Keep objects in etcd (etcd://host:2379[,host:2379…]) or Postgres (postgres://user:pw@host:5432/db); default: the embedded libsql file",
  )
  .option("--datastore-cafile <file>", "CA certificate of the etcd members / Postgres server (TLS)")
  .option("--datastore-certfile <file>", "Client certificate for etcd / Postgres (TLS)")
  .option("--datastore-keyfile <file>", "Key of the client certificate")
  .option(
    "--datastore-prefix <prefix>",
    "Key prefix in etcd (default /registry); schema in Postgres (default minik)",
  )
  .option("--cluster-cidr <cidr>", "Every node's pods; joined nodes get a /24 of it (default 10.80.0.0/12)")
  .option(
    "--node-ip <ip>",
    "The address other nodes reach this node by (default: the first non-loopback IPv4)",
  )
  .option("--bridge <name>", "The pods' bridge (default minik0)")
  .option("--nft-table <name>", "The service proxy's nftables table (default minik)")
  .option("--netns-prefix <prefix>", "Prefix of the pods' network namespaces (default minik-)")
  .action(async (opts) => (await import("./up.ts")).up(opts));

cli
  .command(
    "agent",
    "Join a cluster as a node: minik agent --server https://HOST:PORT --token-file <server's data-dir>/node-token",
  )
  .option("--token-file <file>", "The server's node-token file (or --token with its content)")
  .option("--node-name <name>", "The Node's name (default: the host name)")
  .option("--node-ip <ip>", "The address the server and other nodes reach this node by")
  .option("--node-port <port>", "The node API's HTTPS port (logs, exec, attach, port-forward; default 10250)")
  .option("--service-cidr <cidr>", "The server's Service range (default 10.96.0.0/16)")
  .option("--cluster-cidr <cidr>", "The server's --cluster-cidr (default 10.80.0.0/12)")
  .option("--registry-mirror <mirror>", "Registry mirror, e.g. docker.io=http://127.0.0.1:5100 (repeatable)")
  .option("--nodeport-address <ip>", "Address NodePorts listen on", { default: "127.0.0.1" })
  .option("--bridge <name>", "The pods' bridge (default minik0)")
  .option("--nft-table <name>", "The service proxy's nftables table (default minik)")
  .option("--netns-prefix <prefix>", "Prefix of the pods' network namespaces (default minik-)")
  .action(async (opts) => (await import("./agent.ts")).agent(opts));

cli
  .command("apply", "Create or update objects from manifests")
  .option("-f, --filename <path>", "File, directory or - for stdin (repeatable)")
  .action(async (opts) => {
    const files = ([] as string[]).concat(opts.filename ?? []);
    if (!files.length) throw new UsageError("must specify -f FILE, a directory, or - for stdin");
    await (await import("./commands/apply.ts")).apply(files, opts);
  });

cli
  .command("get <kind> [...names]", "List objects (kinds: pods, deployments, replicasets, services, all, …)")
  .option("-A, --all-namespaces", "List across all namespaces")
  .option("-o, --output <format>", "wide | yaml | json | name")
  .option("-w, --watch", "Watch for changes after listing")
  .option("-l, --selector <selector>", "Label selector")
  .option("--show-labels", "Show labels as the last column")
  .action(async (kind, names, opts) => (await import("./commands/get.ts")).get(kind, names, opts));

cli
  .command("describe <kind> [...names]", "Show details of objects and their events")
  .option("-A, --all-namespaces", "Across all namespaces")
  .action(async (kind, names, opts) => (await import("./commands/describe.ts")).describe(kind, names, opts));

cli
  .command("delete [...targets]", "Delete objects by file or by KIND NAME")
  .option("-f, --filename <path>", "File, directory or - for stdin (repeatable)")
  .option("--grace-period <seconds>", "Seconds to let pods stop gracefully")
  .option("--wait", "Wait until the objects are gone (default true)", { default: true })
  .option("--ignore-not-found", "Treat missing objects as deleted")
  .option("--cascade <mode>", "background | foreground | orphan", { default: "background" })
  .option("--all", "Delete every object of the kind in the namespace")
  .option("-l, --selector <selector>", "Delete the objects matching a label selector")
  .action(async (targets, opts) => (await import("./commands/delete.ts")).del(targets, opts));

cli
  .command("logs <pod>", "Print the logs of a pod's container")
  .option("-c, --container <name>", "Container name")
  .option("-f, --follow", "Follow the log")
  .option("--tail <n>", "Lines from the end to show", { default: -1 })
  .option("--timestamps", "Prefix each line with its timestamp")
  .option("-p, --previous", "The previous, exited container's logs")
  .action(async (pod, opts) => (await import("./commands/logs.ts")).logs(pod, opts));

cli
  .command("exec <pod> [...command]", "Run a command in a container: minik exec [-it] POD -- CMD…")
  .option("-c, --container <name>", "Container name")
  .option("-i, --stdin", "Pass stdin to the container")
  .option("-t, --tty", "Allocate a terminal")
  .action(async (pod, command, opts) => {
    const cmd = command.length ? command : (opts["--"] ?? []);
    await (await import("./commands/exec.ts")).exec(pod, cmd, opts);
  });

cli
  .command(
    "rollout <action> <target>",
    "Manage a rollout: status | history | undo | pause | resume | restart",
  )
  .option("--to-revision <n>", "undo: the revision to roll back to (default: the previous one)")
  .option("--revision <n>", "history: show the template of one revision")
  .option("--timeout <seconds>", "status: how long to wait")
  .action(async (action, target, opts) => {
    const r = await import("./commands/rollout.ts");
    const actions: Record<string, () => Promise<void>> = {
      status: () => r.status(target, opts),
      history: () => r.history(target, opts),
      undo: () => r.undo(target, opts),
      pause: () => r.setPaused(target, true, opts),
      resume: () => r.setPaused(target, false, opts),
      restart: () => r.restart(target, opts),
    };
    const run = actions[action];
    if (!run)
      throw new UsageError(
        `unknown rollout action "${action}"; use status, history, undo, pause, resume or restart`,
      );
    await run();
  });

cli
  .command("scale [...targets]", "Set the replica count: minik scale deployment/NAME --replicas N")
  .option("--replicas <n>", "The new number of replicas")
  .action(async (targets, opts) => (await import("./commands/scale.ts")).scale(targets, opts));

cli
  .command("set <what> <target> [...pairs]", "minik set image deployment/NAME CONTAINER=IMAGE…")
  .action(async (what, target, pairs, opts) => {
    if (what !== "image") throw new UsageError(`minik set supports "image", not "${what}"`);
    await (await import("./commands/scale.ts")).setImage(target, pairs, opts);
  });

cli
  .command("autoscale <target>", "Create a HorizontalPodAutoscaler for a deployment")
  .option("--min <n>", "Minimum replicas")
  .option("--max <n>", "Maximum replicas")
  .option("--cpu-percent <n>", "Target average CPU utilization (% of requests)")
  .option("--name <name>", "Name of the autoscaler")
  .action(async (target, opts) => (await import("./commands/scale.ts")).autoscale(target, opts));

cli
  .command("cordon [node]", "Mark the node unschedulable")
  .action(async (node, opts) => (await import("./commands/node.ts")).cordon(node, true, opts));
cli
  .command("uncordon [node]", "Mark the node schedulable again")
  .action(async (node, opts) => (await import("./commands/node.ts")).cordon(node, false, opts));
cli
  .command("drain [node]", "Cordon the node and evict its pods gracefully (honouring PodDisruptionBudgets)")
  .option("--grace-period <seconds>", "Grace period for each pod")
  .option("--timeout <seconds>", "Give up after this long")
  .option("--force", "Also delete pods that no controller manages")
  .action(async (node, opts) => (await import("./commands/node.ts")).drain(node, opts));

cli
  .command("top <what>", "Show CPU and memory use: minik top pods")
  .option("-A, --all-namespaces", "Across all namespaces")
  .action(async (what, opts) => {
    if (!/^(pods?|po)$/.test(what)) throw new UsageError(`minik top supports "pods", not "${what}"`);
    await (await import("./commands/top.ts")).topPods(opts);
  });

cli
  .command(
    "port-forward <target> [...ports]",
    "Forward 127.0.0.1:LOCAL to a pod: minik port-forward pod/NAME|svc/NAME LOCAL:REMOTE",
  )
  .option("--address <ip>", "Local address to listen on", { default: "127.0.0.1" })
  .action(async (target, ports, opts) =>
    (await import("./commands/port-forward.ts")).portForward(target, ports, opts),
  );

cli
  .command(
    "inspect <pod>",
    "Show a pod's container as the kernel sees it: namespaces, cgroup limits, rootfs layers",
  )
  .option("-c, --container <name>", "Container (default: the pod's default container)")
  .option("-o, --output <format>", "json | yaml")
  .action(async (pod, opts) => (await import("./commands/inspect.ts")).inspect(pod, opts));

cli
  .command(
    "image <action> [...args]",
    "Manage images: ls | pull NAME | load FILE | rm NAME… | inspect NAME… | history NAME",
  )
  .action(async (action, args, opts) => {
    const i = await import("./commands/image.ts");
    if (action === "ls" || action === "list") return i.imageList(opts);
    if (action === "pull" && args[0]) return i.imagePull(args[0], opts);
    if (action === "load" && args[0]) return i.imageLoad(args[0], opts);
    if ((action === "rm" || action === "remove") && args.length) return i.imageRemove(args, opts);
    if (action === "inspect" && args.length) return i.imageInspect(args, opts);
    if (action === "history" && args[0]) return i.imageHistory(args[0], opts);
    throw new UsageError(
      "usage: minik image ls | pull NAME | load FILE | rm NAME… | inspect NAME… | history NAME",
    );
  });

cli
  .command(
    "reset",
    "Remove everything minik made on this machine: containers, pod networks, bridge, nft table, mounts",
  )
  .option("--all", "Also delete the data directory (objects, images, token)")
  .action(async (opts) => (await import("./commands/reset.ts")).reset(opts));

cli
  .command("version", "Print the client and server versions")
  .action(async (opts) => (await import("./commands/info.ts")).version(opts));

cli
  .command("kubeconfig", "Print a kubeconfig for kubectl and client libraries")
  .action(async (opts) => (await import("./commands/info.ts")).printKubeconfig(opts));

cli
  .command("dashboard", "Print a one-time login link for the status page")
  .action(async (opts) => (await import("./commands/info.ts")).dashboard(opts));

cli.help();
cli.version(VERSION.minik);

async function main() {
  const debug = process.argv.includes("--debug");
  try {
    cli.parse(stdinFilenameArgs(process.argv), { run: false });
    if (!cli.matchedCommand) {
      if (cli.args.length)
        throw new UsageError(`unknown command "${cli.args[0]}" for "minik"; see minik --help`);
      if (!cli.options.help && !cli.options.version) cli.outputHelp();
      return;
    }
    await cli.runMatchedCommand();
  } catch (e) {
    if (debug) console.error(e);
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}`);
    } else if (e instanceof ApiError) {
      const fromServer = !["BadRequest", "ServiceUnavailable"].includes(e.reason) || e.details;
      console.error(fromServer ? `Error from server (${e.reason}): ${e.message}` : `error: ${e.message}`);
    } else {
      console.error(`error: ${(e as Error).message ?? e}`);
    }
    process.exit(1);
  }
}

await main();
