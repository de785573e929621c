/**
 * What `minik inspect` shows of a container — the three things a container is made of, read back
 * from the kernel rather than from what minik asked for: the namespaces its processes live in, the
 * cgroup that limits them, and the layered root filesystem they see. The runtime fills it in
 * (runtime/crun/container-inspect.ts); the API serves it as JSON to the CLI and the status page.
 */

export type NamespaceType = "pid" | "mnt" | "net" | "uts" | "ipc" | "cgroup" | "user" | "time";

export interface NamespaceView {
  type: NamespaceType;
  /** The namespace's inode, as `ls -l /proc/PID/ns` shows it (`net:[4026532281]`). */
  inode: number;
  /**
   * `pod`: shared by every container of the pod (the sandbox's net, ipc, uts);
   * `host`: the same as the host's (PID 1's), i.e. not isolated; `container`: its own.
   */
  sharedWith: "pod" | "host" | "container";
}

export interface CgroupLimits {
  /** `v1`, `v2`, or `hybrid` (v1 controllers plus a cgroup2 mount). */
  mode: string;
  /** The container's cgroup path, as /proc/PID/cgroup names it. */
  path: string;
  /** CFS quota and period in microseconds; quota undefined = no limit. */
  cpu?: { quotaMicros?: number; periodMicros: number; percentOfOneCpu?: number };
  /** Bytes; undefined = no limit. */
  memoryMaxBytes?: number;
  pidsMax?: number;
  /** The files the figures were read from, so a reader can `cat` them. */
  files: Record<string, string>;
}

export interface LayerView {
  /** `image`: read-only, from the image; `init`: read-only, per pod (hosts, hostname, resolv.conf); `container`: the read-write upper dir. */
  role: "image" | "init" | "container";
  dir: string;
  /** Uncompressed diffID of an image layer. */
  digest?: string;
  sizeBytes?: number;
  /** The image history line that made the layer (`created_by`). */
  createdBy?: string;
  /** Files of a small layer (the init layer), for showing what it holds. */
  files?: string[];
}

export interface RootfsChanges {
  /** Paths in the upper dir that no lower layer has. */
  added: string[];
  /** Paths in the upper dir that shadow a lower layer's. */
  modified: string[];
  /** Whiteouts: paths deleted from the lower layers. */
  deleted: string[];
  /** True when the lists were cut at their bound. */
  truncated?: boolean;
}

export interface ContainerInspection {
  id: string;
  name: string;
  state: string;
  image: string;
  /** PID on the host and (its PID namespace's view) inside the container. */
  pid?: { host: number; inContainer?: number };
  namespaces: NamespaceView[];
  cgroup?: CgroupLimits;
  rootfs: {
    /** Top first, as overlayfs stacks them (upper, then lowerdirs left to right). */
    layers: LayerView[];
    changes: RootfsChanges;
    /** The overlay mount line from the container's mountinfo (or what it would be, once exited). */
    mount?: string;
  };
  /** What could not be read, and why (exited container, missing permission). */
  notes: string[];
}
