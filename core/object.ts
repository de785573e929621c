import type { ObjectMeta } from "kubernetes-types/meta/v1";

/** Any Kubernetes object as stored and served: apiVersion, kind, metadata, and the rest. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}
