import type { KubeObject } from "../object.ts";
import type { ResourceInfo } from "../resources.ts";
import type { Strategy } from "./strategy.ts";

/** A resource as the registry handles it: table entry, store key and per-kind strategy. */
export interface Kind {
  key: string;
  info: ResourceInfo;
  strategy: Strategy;
  apiVersion: string;
  hasStatus: boolean;
  /**
   * Custom resources: another served version of the kind, rewritten in place to the stored
   * apiVersion (CRD conversion strategy None); false when `apiVersion` is not served.
   */
  acceptVersion?(apiVersion: string, obj: KubeObject): boolean;
  /** Custom resources: removes the fields the schema does not know and returns their paths. */
  unknownFields?(obj: KubeObject): string[];
  /** Custom resources with a scale subresource: the autoscaling/v1 Scale view and its write-back. */
  scale?: {
    toScale(obj: KubeObject): KubeObject;
    withReplicas(obj: KubeObject, replicas: number): KubeObject;
  };
}
