/** Names of the storage machinery, defined once for the registry, the controllers and the agent. */
export const PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection";
export const PV_PROTECTION_FINALIZER = "kubernetes.io/pv-protection";
/** Marks the StorageClass claims without `storageClassName` get. */
export const DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class";
/** The built-in class and its provisioner (the name k3s's local-path-provisioner uses). */
export const LOCAL_PATH_CLASS = "local-path";
export const LOCAL_PATH_PROVISIONER = "rancher.io/local-path";
/** Annotations the PV controller writes, as kube-controller-manager does. */
export const PROVISIONED_BY_ANNOTATION = "pv.kubernetes.io/provisioned-by";
export const BOUND_BY_CONTROLLER_ANNOTATION = "pv.kubernetes.io/bind-completed";
export const SELECTED_NODE_ANNOTATION = "volume.kubernetes.io/selected-node";
export const STORAGE_PROVISIONER_ANNOTATION = "volume.kubernetes.io/storage-provisioner";
