/**
 * Field tables of the Kubernetes protobuf messages that typed-client `create` commands send
 * (Deployment, ReplicaSet, Service, ConfigMap, Secret, Namespace, ServiceAccount, Pod, Node, Event,
 * Endpoints, EndpointSlice, HorizontalPodAutoscaler (v2 and v1), PodDisruptionBudget, Eviction, Job, CronJob, Ingress, IngressClass and
 * all they contain), as "number:jsonName:type[:r|:m]" (r = repeated, m = map<string, type>).
 * Generated from k8s.io/api @10b39a39 and k8s.io/apimachinery @eed236ce `generated.proto`
 * (package prefixes k8s.io.api. / k8s.io.apimachinery.pkg.(apis.) dropped). Wire facts only.
 */
export const MESSAGES: Record<string, string> = {
  "apps.v1.Deployment":
    "1:metadata:meta.v1.ObjectMeta 2:spec:apps.v1.DeploymentSpec 3:status:apps.v1.DeploymentStatus",
  "apps.v1.DeploymentCondition":
    "1:type:string 2:status:string 4:reason:string 5:message:string 6:lastUpdateTime:meta.v1.Time 7:lastTransitionTime:meta.v1.Time",
  "apps.v1.DeploymentSpec":
    "1:replicas:int32 2:selector:meta.v1.LabelSelector 3:template:core.v1.PodTemplateSpec 4:strategy:apps.v1.DeploymentStrategy 5:minReadySeconds:int32 6:revisionHistoryLimit:int32 7:paused:bool 9:progressDeadlineSeconds:int32",
  "apps.v1.DeploymentStatus":
    "1:observedGeneration:int64 2:replicas:int32 3:updatedReplicas:int32 4:availableReplicas:int32 5:unavailableReplicas:int32 6:conditions:apps.v1.DeploymentCondition:r 7:readyReplicas:int32 8:collisionCount:int32 9:terminatingReplicas:int32",
  "apps.v1.DeploymentStrategy": "1:type:string 2:rollingUpdate:apps.v1.RollingUpdateDeployment",
  "apps.v1.ReplicaSet":
    "1:metadata:meta.v1.ObjectMeta 2:spec:apps.v1.ReplicaSetSpec 3:status:apps.v1.ReplicaSetStatus",
  "apps.v1.ReplicaSetCondition":
    "1:type:string 2:status:string 3:lastTransitionTime:meta.v1.Time 4:reason:string 5:message:string",
  "apps.v1.ReplicaSetSpec":
    "1:replicas:int32 2:selector:meta.v1.LabelSelector 3:template:core.v1.PodTemplateSpec 4:minReadySeconds:int32",
  "apps.v1.ReplicaSetStatus":
    "1:replicas:int32 2:fullyLabeledReplicas:int32 3:observedGeneration:int64 4:readyReplicas:int32 5:availableReplicas:int32 6:conditions:apps.v1.ReplicaSetCondition:r 7:terminatingReplicas:int32",
  "apps.v1.RollingUpdateDeployment":
    "1:maxUnavailable:util.intstr.IntOrString 2:maxSurge:util.intstr.IntOrString",
  "autoscaling.v1.CrossVersionObjectReference": "1:kind:string 2:name:string 3:apiVersion:string",
  "autoscaling.v1.HorizontalPodAutoscaler":
    "1:metadata:meta.v1.ObjectMeta 2:spec:autoscaling.v1.HorizontalPodAutoscalerSpec 3:status:autoscaling.v1.HorizontalPodAutoscalerStatus",
  "autoscaling.v1.HorizontalPodAutoscalerSpec":
    "1:scaleTargetRef:autoscaling.v1.CrossVersionObjectReference 2:minReplicas:int32 3:maxReplicas:int32 4:targetCPUUtilizationPercentage:int32",
  "autoscaling.v1.HorizontalPodAutoscalerStatus":
    "1:observedGeneration:int64 2:lastScaleTime:meta.v1.Time 3:currentReplicas:int32 4:desiredReplicas:int32 5:currentCPUUtilizationPercentage:int32",
  "autoscaling.v2.ContainerResourceMetricSource":
    "1:name:string 2:target:autoscaling.v2.MetricTarget 3:container:string",
  "autoscaling.v2.ContainerResourceMetricStatus":
    "1:name:string 2:current:autoscaling.v2.MetricValueStatus 3:container:string",
  "autoscaling.v2.CrossVersionObjectReference": "1:kind:string 2:name:string 3:apiVersion:string",
  "autoscaling.v2.ExternalMetricSource":
    "1:metric:autoscaling.v2.MetricIdentifier 2:target:autoscaling.v2.MetricTarget",
  "autoscaling.v2.ExternalMetricStatus":
    "1:metric:autoscaling.v2.MetricIdentifier 2:current:autoscaling.v2.MetricValueStatus",
  "autoscaling.v2.HPAScalingPolicy": "1:type:string 2:value:int32 3:periodSeconds:int32",
  "autoscaling.v2.HPAScalingRules":
    "1:selectPolicy:string 2:policies:autoscaling.v2.HPAScalingPolicy:r 3:stabilizationWindowSeconds:int32 4:tolerance:api.resource.Quantity",
  "autoscaling.v2.HorizontalPodAutoscaler":
    "1:metadata:meta.v1.ObjectMeta 2:spec:autoscaling.v2.HorizontalPodAutoscalerSpec 3:status:autoscaling.v2.HorizontalPodAutoscalerStatus",
  "autoscaling.v2.HorizontalPodAutoscalerBehavior":
    "1:scaleUp:autoscaling.v2.HPAScalingRules 2:scaleDown:autoscaling.v2.HPAScalingRules",
  "autoscaling.v2.HorizontalPodAutoscalerCondition":
    "1:type:string 2:status:string 3:lastTransitionTime:meta.v1.Time 4:reason:string 5:message:string 6:observedGeneration:int64",
  "autoscaling.v2.HorizontalPodAutoscalerSpec":
    "1:scaleTargetRef:autoscaling.v2.CrossVersionObjectReference 2:minReplicas:int32 3:maxReplicas:int32 4:metrics:autoscaling.v2.MetricSpec:r 5:behavior:autoscaling.v2.HorizontalPodAutoscalerBehavior",
  "autoscaling.v2.HorizontalPodAutoscalerStatus":
    "1:observedGeneration:int64 2:lastScaleTime:meta.v1.Time 3:currentReplicas:int32 4:desiredReplicas:int32 5:currentMetrics:autoscaling.v2.MetricStatus:r 6:conditions:autoscaling.v2.HorizontalPodAutoscalerCondition:r",
  "autoscaling.v2.MetricIdentifier": "1:name:string 2:selector:meta.v1.LabelSelector",
  "autoscaling.v2.MetricSpec":
    "1:type:string 2:object:autoscaling.v2.ObjectMetricSource 3:pods:autoscaling.v2.PodsMetricSource 4:resource:autoscaling.v2.ResourceMetricSource 5:external:autoscaling.v2.ExternalMetricSource 7:containerResource:autoscaling.v2.ContainerResourceMetricSource",
  "autoscaling.v2.MetricStatus":
    "1:type:string 2:object:autoscaling.v2.ObjectMetricStatus 3:pods:autoscaling.v2.PodsMetricStatus 4:resource:autoscaling.v2.ResourceMetricStatus 5:external:autoscaling.v2.ExternalMetricStatus 7:containerResource:autoscaling.v2.ContainerResourceMetricStatus",
  "autoscaling.v2.MetricTarget":
    "1:type:string 2:value:api.resource.Quantity 3:averageValue:api.resource.Quantity 4:averageUtilization:int32",
  "autoscaling.v2.MetricValueStatus":
    "1:value:api.resource.Quantity 2:averageValue:api.resource.Quantity 3:averageUtilization:int32",
  "autoscaling.v2.ObjectMetricSource":
    "1:describedObject:autoscaling.v2.CrossVersionObjectReference 2:target:autoscaling.v2.MetricTarget 3:metric:autoscaling.v2.MetricIdentifier",
  "autoscaling.v2.ObjectMetricStatus":
    "1:metric:autoscaling.v2.MetricIdentifier 2:current:autoscaling.v2.MetricValueStatus 3:describedObject:autoscaling.v2.CrossVersionObjectReference",
  "autoscaling.v2.PodsMetricSource":
    "1:metric:autoscaling.v2.MetricIdentifier 2:target:autoscaling.v2.MetricTarget",
  "autoscaling.v2.PodsMetricStatus":
    "1:metric:autoscaling.v2.MetricIdentifier 2:current:autoscaling.v2.MetricValueStatus",
  "autoscaling.v2.ResourceMetricSource": "1:name:string 2:target:autoscaling.v2.MetricTarget",
  "autoscaling.v2.ResourceMetricStatus": "1:name:string 2:current:autoscaling.v2.MetricValueStatus",
  "batch.v1.CronJob":
    "1:metadata:meta.v1.ObjectMeta 2:spec:batch.v1.CronJobSpec 3:status:batch.v1.CronJobStatus",
  "batch.v1.CronJobSpec":
    "1:schedule:string 2:startingDeadlineSeconds:int64 3:concurrencyPolicy:string 4:suspend:bool 5:jobTemplate:batch.v1.JobTemplateSpec 6:successfulJobsHistoryLimit:int32 7:failedJobsHistoryLimit:int32 8:timeZone:string",
  "batch.v1.CronJobStatus":
    "1:active:core.v1.ObjectReference:r 4:lastScheduleTime:meta.v1.Time 5:lastSuccessfulTime:meta.v1.Time",
  "batch.v1.Job": "1:metadata:meta.v1.ObjectMeta 2:spec:batch.v1.JobSpec 3:status:batch.v1.JobStatus",
  "batch.v1.JobCondition":
    "1:type:string 2:status:string 3:lastProbeTime:meta.v1.Time 4:lastTransitionTime:meta.v1.Time 5:reason:string 6:message:string",
  "batch.v1.JobSchedulingConfiguration":
    "1:schedulingPolicy:scheduling.v1alpha3.WorkloadPodGroupSchedulingPolicy 2:schedulingConstraints:scheduling.v1alpha3.WorkloadPodGroupSchedulingConstraints 3:disruptionMode:scheduling.v1alpha3.WorkloadPodGroupDisruptionMode 4:resourceClaims:scheduling.v1alpha3.WorkloadPodGroupResourceClaim:r",
  "batch.v1.JobSpec":
    "1:parallelism:int32 2:completions:int32 3:activeDeadlineSeconds:int64 4:selector:meta.v1.LabelSelector 5:manualSelector:bool 6:template:core.v1.PodTemplateSpec 7:backoffLimit:int32 8:ttlSecondsAfterFinished:int32 9:completionMode:string 10:suspend:bool 11:podFailurePolicy:batch.v1.PodFailurePolicy 12:backoffLimitPerIndex:int32 13:maxFailedIndexes:int32 14:podReplacementPolicy:string 15:managedBy:string 16:successPolicy:batch.v1.SuccessPolicy 17:scheduling:batch.v1.JobSchedulingConfiguration",
  "batch.v1.JobStatus":
    "1:conditions:batch.v1.JobCondition:r 2:startTime:meta.v1.Time 3:completionTime:meta.v1.Time 4:active:int32 5:succeeded:int32 6:failed:int32 7:completedIndexes:string 8:uncountedTerminatedPods:batch.v1.UncountedTerminatedPods 9:ready:int32 10:failedIndexes:string 11:terminating:int32",
  "batch.v1.JobTemplateSpec": "1:metadata:meta.v1.ObjectMeta 2:spec:batch.v1.JobSpec",
  "batch.v1.PodFailurePolicy": "1:rules:batch.v1.PodFailurePolicyRule:r",
  "batch.v1.PodFailurePolicyOnExitCodesRequirement":
    "1:containerName:string 2:operator:string 3:values:int32:r",
  "batch.v1.PodFailurePolicyOnPodConditionsPattern": "1:type:string 2:status:string",
  "batch.v1.PodFailurePolicyRule":
    "1:action:string 2:onExitCodes:batch.v1.PodFailurePolicyOnExitCodesRequirement 3:onPodConditions:batch.v1.PodFailurePolicyOnPodConditionsPattern:r",
  "batch.v1.SuccessPolicy": "1:rules:batch.v1.SuccessPolicyRule:r",
  "batch.v1.SuccessPolicyRule": "1:succeededIndexes:string 2:succeededCount:int32",
  "batch.v1.UncountedTerminatedPods": "1:succeeded:string:r 2:failed:string:r",
  "core.v1.AWSElasticBlockStoreVolumeSource":
    "1:volumeID:string 2:fsType:string 3:partition:int32 4:readOnly:bool",
  "core.v1.Affinity":
    "1:nodeAffinity:core.v1.NodeAffinity 2:podAffinity:core.v1.PodAffinity 3:podAntiAffinity:core.v1.PodAntiAffinity",
  "core.v1.AppArmorProfile": "1:type:string 2:localhostProfile:string",
  "core.v1.AttachedVolume": "1:name:string 2:devicePath:string",
  "core.v1.AzureDiskVolumeSource":
    "1:diskName:string 2:diskURI:string 3:cachingMode:string 4:fsType:string 5:readOnly:bool 6:kind:string",
  "core.v1.AzureFileVolumeSource": "1:secretName:string 2:shareName:string 3:readOnly:bool",
  "core.v1.CSIVolumeSource":
    "1:driver:string 2:readOnly:bool 3:fsType:string 4:volumeAttributes:string:m 5:nodePublishSecretRef:core.v1.LocalObjectReference",
  "core.v1.Capabilities": "1:add:string:r 2:drop:string:r",
  "core.v1.CephFSVolumeSource":
    "1:monitors:string:r 2:path:string 3:user:string 4:secretFile:string 5:secretRef:core.v1.LocalObjectReference 6:readOnly:bool",
  "core.v1.CinderVolumeSource":
    "1:volumeID:string 2:fsType:string 3:readOnly:bool 4:secretRef:core.v1.LocalObjectReference",
  "core.v1.ClientIPConfig": "1:timeoutSeconds:int32",
  "core.v1.ClusterTrustBundleProjection":
    "1:name:string 2:signerName:string 3:labelSelector:meta.v1.LabelSelector 4:path:string 5:optional:bool 6:user:int64",
  "core.v1.ConfigMap": "1:metadata:meta.v1.ObjectMeta 2:data:string:m 3:binaryData:bytes:m 4:immutable:bool",
  "core.v1.ConfigMapEnvSource": "1:localObjectReference:core.v1.LocalObjectReference 2:optional:bool",
  "core.v1.ConfigMapKeySelector":
    "1:localObjectReference:core.v1.LocalObjectReference 2:key:string 3:optional:bool",
  "core.v1.ConfigMapNodeConfigSource":
    "1:namespace:string 2:name:string 3:uid:string 4:resourceVersion:string 5:kubeletConfigKey:string",
  "core.v1.ConfigMapProjection":
    "1:localObjectReference:core.v1.LocalObjectReference 2:items:core.v1.KeyToPath:r 4:optional:bool",
  "core.v1.ConfigMapVolumeSource":
    "1:localObjectReference:core.v1.LocalObjectReference 2:items:core.v1.KeyToPath:r 3:defaultMode:int32 4:optional:bool 5:defaultUser:int64",
  "core.v1.Container":
    "1:name:string 2:image:string 3:command:string:r 4:args:string:r 5:workingDir:string 6:ports:core.v1.ContainerPort:r 7:env:core.v1.EnvVar:r 8:resources:core.v1.ResourceRequirements 9:volumeMounts:core.v1.VolumeMount:r 10:livenessProbe:core.v1.Probe 11:readinessProbe:core.v1.Probe 12:lifecycle:core.v1.Lifecycle 13:terminationMessagePath:string 14:imagePullPolicy:string 15:securityContext:core.v1.SecurityContext 16:stdin:bool 17:stdinOnce:bool 18:tty:bool 19:envFrom:core.v1.EnvFromSource:r 20:terminationMessagePolicy:string 21:volumeDevices:core.v1.VolumeDevice:r 22:startupProbe:core.v1.Probe 23:resizePolicy:core.v1.ContainerResizePolicy:r 24:restartPolicy:string 25:restartPolicyRules:core.v1.ContainerRestartRule:r",
  "core.v1.ContainerExtendedResourceRequest":
    "1:containerName:string 2:resourceName:string 3:requestName:string",
  "core.v1.ContainerImage": "1:names:string:r 2:sizeBytes:int64",
  "core.v1.ContainerPort":
    "1:name:string 2:hostPort:int32 3:containerPort:int32 4:protocol:string 5:hostIP:string",
  "core.v1.ContainerResizePolicy": "1:resourceName:string 2:restartPolicy:string",
  "core.v1.ContainerRestartRule": "1:action:string 2:exitCodes:core.v1.ContainerRestartRuleOnExitCodes",
  "core.v1.ContainerRestartRuleOnExitCodes": "1:operator:string 2:values:int32:r",
  "core.v1.ContainerState":
    "1:waiting:core.v1.ContainerStateWaiting 2:running:core.v1.ContainerStateRunning 3:terminated:core.v1.ContainerStateTerminated",
  "core.v1.ContainerStateRunning": "1:startedAt:meta.v1.Time",
  "core.v1.ContainerStateTerminated":
    "1:exitCode:int32 2:signal:int32 3:reason:string 4:message:string 5:startedAt:meta.v1.Time 6:finishedAt:meta.v1.Time 7:containerID:string",
  "core.v1.ContainerStateWaiting": "1:reason:string 2:message:string",
  "core.v1.ContainerStatus":
    "1:name:string 2:state:core.v1.ContainerState 3:lastState:core.v1.ContainerState 4:ready:bool 5:restartCount:int32 6:image:string 7:imageID:string 8:containerID:string 9:started:bool 10:allocatedResources:api.resource.Quantity:m 11:resources:core.v1.ResourceRequirements 12:volumeMounts:core.v1.VolumeMountStatus:r 13:user:core.v1.ContainerUser 14:allocatedResourcesStatus:core.v1.ResourceStatus:r 15:stopSignal:string",
  "core.v1.ContainerUser": "1:linux:core.v1.LinuxContainerUser",
  "core.v1.DaemonEndpoint": "1:Port:int32",
  "core.v1.DownwardAPIProjection": "1:items:core.v1.DownwardAPIVolumeFile:r",
  "core.v1.DownwardAPIVolumeFile":
    "1:path:string 2:fieldRef:core.v1.ObjectFieldSelector 3:resourceFieldRef:core.v1.ResourceFieldSelector 4:mode:int32 5:user:int64",
  "core.v1.DownwardAPIVolumeSource":
    "1:items:core.v1.DownwardAPIVolumeFile:r 2:defaultMode:int32 3:defaultUser:int64",
  "core.v1.EmptyDirVolumeSource": "1:medium:string 2:sizeLimit:api.resource.Quantity 3:mode:int32",
  "core.v1.EndpointAddress":
    "1:ip:string 2:targetRef:core.v1.ObjectReference 3:hostname:string 4:nodeName:string",
  "core.v1.EndpointPort": "1:name:string 2:port:int32 3:protocol:string 4:appProtocol:string",
  "core.v1.EndpointSubset":
    "1:addresses:core.v1.EndpointAddress:r 2:notReadyAddresses:core.v1.EndpointAddress:r 3:ports:core.v1.EndpointPort:r",
  "core.v1.Endpoints": "1:metadata:meta.v1.ObjectMeta 2:subsets:core.v1.EndpointSubset:r",
  "core.v1.EnvFromSource":
    "1:prefix:string 2:configMapRef:core.v1.ConfigMapEnvSource 3:secretRef:core.v1.SecretEnvSource",
  "core.v1.EnvVar": "1:name:string 2:value:string 3:valueFrom:core.v1.EnvVarSource",
  "core.v1.EnvVarSource":
    "1:fieldRef:core.v1.ObjectFieldSelector 2:resourceFieldRef:core.v1.ResourceFieldSelector 3:configMapKeyRef:core.v1.ConfigMapKeySelector 4:secretKeyRef:core.v1.SecretKeySelector 5:fileKeyRef:core.v1.FileKeySelector",
  "core.v1.EphemeralContainer":
    "1:ephemeralContainerCommon:core.v1.EphemeralContainerCommon 2:targetContainerName:string",
  "core.v1.EphemeralContainerCommon":
    "1:name:string 2:image:string 3:command:string:r 4:args:string:r 5:workingDir:string 6:ports:core.v1.ContainerPort:r 7:env:core.v1.EnvVar:r 8:resources:core.v1.ResourceRequirements 9:volumeMounts:core.v1.VolumeMount:r 10:livenessProbe:core.v1.Probe 11:readinessProbe:core.v1.Probe 12:lifecycle:core.v1.Lifecycle 13:terminationMessagePath:string 14:imagePullPolicy:string 15:securityContext:core.v1.SecurityContext 16:stdin:bool 17:stdinOnce:bool 18:tty:bool 19:envFrom:core.v1.EnvFromSource:r 20:terminationMessagePolicy:string 21:volumeDevices:core.v1.VolumeDevice:r 22:startupProbe:core.v1.Probe 23:resizePolicy:core.v1.ContainerResizePolicy:r 24:restartPolicy:string 25:restartPolicyRules:core.v1.ContainerRestartRule:r",
  "core.v1.EphemeralVolumeSource": "1:volumeClaimTemplate:core.v1.PersistentVolumeClaimTemplate",
  "core.v1.Event":
    "1:metadata:meta.v1.ObjectMeta 2:involvedObject:core.v1.ObjectReference 3:reason:string 4:message:string 5:source:core.v1.EventSource 6:firstTimestamp:meta.v1.Time 7:lastTimestamp:meta.v1.Time 8:count:int32 9:type:string 10:eventTime:meta.v1.MicroTime 11:series:core.v1.EventSeries 12:action:string 13:related:core.v1.ObjectReference 14:reportingComponent:string 15:reportingInstance:string",
  "core.v1.EventSeries": "1:count:int32 2:lastObservedTime:meta.v1.MicroTime",
  "core.v1.EventSource": "1:component:string 2:host:string",
  "core.v1.EvictionResponder": "1:name:string 2:priority:int32",
  "core.v1.ExecAction": "1:command:string:r",
  "core.v1.FCVolumeSource":
    "1:targetWWNs:string:r 2:lun:int32 3:fsType:string 4:readOnly:bool 5:wwids:string:r",
  "core.v1.FileKeySelector": "1:volumeName:string 2:path:string 3:key:string 4:optional:bool",
  "core.v1.FlexVolumeSource":
    "1:driver:string 2:fsType:string 3:secretRef:core.v1.LocalObjectReference 4:readOnly:bool 5:options:string:m",
  "core.v1.FlockerVolumeSource": "1:datasetName:string 2:datasetUUID:string",
  "core.v1.GCEPersistentDiskVolumeSource":
    "1:pdName:string 2:fsType:string 3:partition:int32 4:readOnly:bool",
  "core.v1.GRPCAction": "1:port:int32 2:service:string 3:mode:string",
  "core.v1.GitRepoVolumeSource": "1:repository:string 2:revision:string 3:directory:string",
  "core.v1.GlusterfsVolumeSource": "1:endpoints:string 2:path:string 3:readOnly:bool",
  "core.v1.HTTPGetAction":
    "1:path:string 2:port:util.intstr.IntOrString 3:host:string 4:scheme:string 5:httpHeaders:core.v1.HTTPHeader:r 6:protocol:string",
  "core.v1.HTTPHeader": "1:name:string 2:value:string",
  "core.v1.HostAlias": "1:ip:string 2:hostnames:string:r",
  "core.v1.HostIP": "1:ip:string",
  "core.v1.HostPathVolumeSource": "1:path:string 2:type:string",
  "core.v1.ISCSIVolumeSource":
    "1:targetPortal:string 2:iqn:string 3:lun:int32 4:iscsiInterface:string 5:fsType:string 6:readOnly:bool 7:portals:string:r 8:chapAuthDiscovery:bool 10:secretRef:core.v1.LocalObjectReference 11:chapAuthSession:bool 12:initiatorName:string",
  "core.v1.ImageVolumeSource": "1:reference:string 2:pullPolicy:string",
  "core.v1.ImageVolumeStatus": "1:imageRef:string",
  "core.v1.KeyToPath": "1:key:string 2:path:string 3:mode:int32 4:user:int64",
  "core.v1.Lifecycle":
    "1:postStart:core.v1.LifecycleHandler 2:preStop:core.v1.LifecycleHandler 3:stopSignal:string",
  "core.v1.LifecycleHandler":
    "1:exec:core.v1.ExecAction 2:httpGet:core.v1.HTTPGetAction 3:tcpSocket:core.v1.TCPSocketAction 4:sleep:core.v1.SleepAction",
  "core.v1.LinuxContainerUser": "1:uid:int64 2:gid:int64 3:supplementalGroups:int64:r",
  "core.v1.LoadBalancerIngress": "1:ip:string 2:hostname:string 3:ipMode:string 4:ports:core.v1.PortStatus:r",
  "core.v1.LoadBalancerStatus": "1:ingress:core.v1.LoadBalancerIngress:r",
  "core.v1.LocalObjectReference": "1:name:string",
  "core.v1.NFSVolumeSource": "1:server:string 2:path:string 3:readOnly:bool",
  "core.v1.Namespace":
    "1:metadata:meta.v1.ObjectMeta 2:spec:core.v1.NamespaceSpec 3:status:core.v1.NamespaceStatus",
  "core.v1.NamespaceCondition":
    "1:type:string 2:status:string 4:lastTransitionTime:meta.v1.Time 5:reason:string 6:message:string",
  "core.v1.NamespaceSpec": "1:finalizers:string:r",
  "core.v1.NamespaceStatus": "1:phase:string 2:conditions:core.v1.NamespaceCondition:r",
  "core.v1.Node": "1:metadata:meta.v1.ObjectMeta 2:spec:core.v1.NodeSpec 3:status:core.v1.NodeStatus",
  "core.v1.NodeAddress": "1:type:string 2:address:string",
  "core.v1.NodeAffinity":
    "1:requiredDuringSchedulingIgnoredDuringExecution:core.v1.NodeSelector 2:preferredDuringSchedulingIgnoredDuringExecution:core.v1.PreferredSchedulingTerm:r",
  "core.v1.NodeAllocatableMappedResources": "1:name:string 2:quantity:api.resource.Quantity",
  "core.v1.NodeAllocatableOverheadResources":
    "1:name:string 2:perPod:api.resource.Quantity 3:perContainer:api.resource.Quantity",
  "core.v1.NodeAllocatableResourceClaimStatus":
    "1:resourceClaimName:string 2:containers:string:r 4:mapping:core.v1.NodeAllocatableMappedResources:r 5:overhead:core.v1.NodeAllocatableOverheadResources:r",
  "core.v1.NodeCondition":
    "1:type:string 2:status:string 3:lastHeartbeatTime:meta.v1.Time 4:lastTransitionTime:meta.v1.Time 5:reason:string 6:message:string",
  "core.v1.NodeConfigSource": "2:configMap:core.v1.ConfigMapNodeConfigSource",
  "core.v1.NodeConfigStatus":
    "1:assigned:core.v1.NodeConfigSource 2:active:core.v1.NodeConfigSource 3:lastKnownGood:core.v1.NodeConfigSource 4:error:string",
  "core.v1.NodeDaemonEndpoints": "1:kubeletEndpoint:core.v1.DaemonEndpoint",
  "core.v1.NodeFeatures": "1:supplementalGroupsPolicy:bool",
  "core.v1.NodePodPreemptionPolicy": "1:disableResizePreemption:string:r",
  "core.v1.NodeRuntimeHandler": "1:name:string 2:features:core.v1.NodeRuntimeHandlerFeatures",
  "core.v1.NodeRuntimeHandlerFeatures": "1:recursiveReadOnlyMounts:bool 2:userNamespaces:bool",
  "core.v1.NodeSelector": "1:nodeSelectorTerms:core.v1.NodeSelectorTerm:r",
  "core.v1.NodeSelectorRequirement": "1:key:string 2:operator:string 3:values:string:r",
  "core.v1.NodeSelectorTerm":
    "1:matchExpressions:core.v1.NodeSelectorRequirement:r 2:matchFields:core.v1.NodeSelectorRequirement:r",
  "core.v1.NodeSpec":
    "1:podCIDR:string 2:externalID:string 3:providerID:string 4:unschedulable:bool 5:taints:core.v1.Taint:r 6:configSource:core.v1.NodeConfigSource 7:podCIDRs:string:r 8:podPreemptionPolicy:core.v1.NodePodPreemptionPolicy",
  "core.v1.NodeStatus":
    "1:capacity:api.resource.Quantity:m 2:allocatable:api.resource.Quantity:m 3:phase:string 4:conditions:core.v1.NodeCondition:r 5:addresses:core.v1.NodeAddress:r 6:daemonEndpoints:core.v1.NodeDaemonEndpoints 7:nodeInfo:core.v1.NodeSystemInfo 8:images:core.v1.ContainerImage:r 9:volumesInUse:string:r 10:volumesAttached:core.v1.AttachedVolume:r 11:config:core.v1.NodeConfigStatus 12:runtimeHandlers:core.v1.NodeRuntimeHandler:r 13:features:core.v1.NodeFeatures 14:declaredFeatures:string:r",
  "core.v1.NodeSwapStatus": "1:capacity:int64",
  "core.v1.NodeSystemInfo":
    "1:machineID:string 2:systemUUID:string 3:bootID:string 4:kernelVersion:string 5:osImage:string 6:containerRuntimeVersion:string 7:kubeletVersion:string 8:kubeProxyVersion:string 9:operatingSystem:string 10:architecture:string 11:swap:core.v1.NodeSwapStatus",
  "core.v1.ObjectFieldSelector": "1:apiVersion:string 2:fieldPath:string",
  "core.v1.ObjectReference":
    "1:kind:string 2:namespace:string 3:name:string 4:uid:string 5:apiVersion:string 6:resourceVersion:string 7:fieldPath:string",
  "core.v1.PersistentVolumeClaimSpec":
    "1:accessModes:string:r 2:resources:core.v1.VolumeResourceRequirements 3:volumeName:string 4:selector:meta.v1.LabelSelector 5:storageClassName:string 6:volumeMode:string 7:dataSource:core.v1.TypedLocalObjectReference 8:dataSourceRef:core.v1.TypedObjectReference 9:volumeAttributesClassName:string",
  "core.v1.PersistentVolumeClaimTemplate":
    "1:metadata:meta.v1.ObjectMeta 2:spec:core.v1.PersistentVolumeClaimSpec",
  "core.v1.PersistentVolumeClaimVolumeSource": "1:claimName:string 2:readOnly:bool",
  "core.v1.PhotonPersistentDiskVolumeSource": "1:pdID:string 2:fsType:string",
  "core.v1.Pod": "1:metadata:meta.v1.ObjectMeta 2:spec:core.v1.PodSpec 3:status:core.v1.PodStatus",
  "core.v1.PodAffinity":
    "1:requiredDuringSchedulingIgnoredDuringExecution:core.v1.PodAffinityTerm:r 2:preferredDuringSchedulingIgnoredDuringExecution:core.v1.WeightedPodAffinityTerm:r",
  "core.v1.PodAffinityTerm":
    "1:labelSelector:meta.v1.LabelSelector 2:namespaces:string:r 3:topologyKey:string 4:namespaceSelector:meta.v1.LabelSelector 5:matchLabelKeys:string:r 6:mismatchLabelKeys:string:r",
  "core.v1.PodAntiAffinity":
    "1:requiredDuringSchedulingIgnoredDuringExecution:core.v1.PodAffinityTerm:r 2:preferredDuringSchedulingIgnoredDuringExecution:core.v1.WeightedPodAffinityTerm:r",
  "core.v1.PodCertificateProjection":
    "1:signerName:string 2:keyType:string 3:maxExpirationSeconds:int32 4:credentialBundlePath:string 5:keyPath:string 6:certificateChainPath:string 7:userAnnotations:string:m 8:user:int64",
  "core.v1.PodCondition":
    "1:type:string 2:status:string 3:lastProbeTime:meta.v1.Time 4:lastTransitionTime:meta.v1.Time 5:reason:string 6:message:string 7:observedGeneration:int64",
  "core.v1.PodDNSConfig": "1:nameservers:string:r 2:searches:string:r 3:options:core.v1.PodDNSConfigOption:r",
  "core.v1.PodDNSConfigOption": "1:name:string 2:value:string",
  "core.v1.PodExtendedResourceClaimStatus":
    "1:requestMappings:core.v1.ContainerExtendedResourceRequest:r 2:resourceClaimName:string",
  "core.v1.PodIP": "1:ip:string",
  "core.v1.PodOS": "1:name:string",
  "core.v1.PodReadinessGate": "1:conditionType:string",
  "core.v1.PodResourceClaim": "1:name:string 3:resourceClaimName:string 4:resourceClaimTemplateName:string",
  "core.v1.PodResourceClaimStatus": "1:name:string 2:resourceClaimName:string",
  "core.v1.PodSchedulingGate": "1:name:string",
  "core.v1.PodSchedulingGroup": "1:podGroupName:string",
  "core.v1.PodSecurityContext":
    "1:seLinuxOptions:core.v1.SELinuxOptions 2:runAsUser:int64 3:runAsNonRoot:bool 4:supplementalGroups:int64:r 5:fsGroup:int64 6:runAsGroup:int64 7:sysctls:core.v1.Sysctl:r 8:windowsOptions:core.v1.WindowsSecurityContextOptions 9:fsGroupChangePolicy:string 10:seccompProfile:core.v1.SeccompProfile 11:appArmorProfile:core.v1.AppArmorProfile 12:supplementalGroupsPolicy:string 13:seLinuxChangePolicy:string",
  "core.v1.PodSpec":
    "1:volumes:core.v1.Volume:r 2:containers:core.v1.Container:r 3:restartPolicy:string 4:terminationGracePeriodSeconds:int64 5:activeDeadlineSeconds:int64 6:dnsPolicy:string 7:nodeSelector:string:m 8:serviceAccountName:string 9:serviceAccount:string 10:nodeName:string 11:hostNetwork:bool 12:hostPID:bool 13:hostIPC:bool 14:securityContext:core.v1.PodSecurityContext 15:imagePullSecrets:core.v1.LocalObjectReference:r 16:hostname:string 17:subdomain:string 18:affinity:core.v1.Affinity 19:schedulerName:string 20:initContainers:core.v1.Container:r 21:automountServiceAccountToken:bool 22:tolerations:core.v1.Toleration:r 23:hostAliases:core.v1.HostAlias:r 24:priorityClassName:string 25:priority:int32 26:dnsConfig:core.v1.PodDNSConfig 27:shareProcessNamespace:bool 28:readinessGates:core.v1.PodReadinessGate:r 29:runtimeClassName:string 30:enableServiceLinks:bool 31:preemptionPolicy:string 32:overhead:api.resource.Quantity:m 33:topologySpreadConstraints:core.v1.TopologySpreadConstraint:r 34:ephemeralContainers:core.v1.EphemeralContainer:r 35:setHostnameAsFQDN:bool 36:os:core.v1.PodOS 37:hostUsers:bool 38:schedulingGates:core.v1.PodSchedulingGate:r 39:resourceClaims:core.v1.PodResourceClaim:r 40:resources:core.v1.ResourceRequirements 41:hostnameOverride:string 43:schedulingGroup:core.v1.PodSchedulingGroup 44:evictionResponders:core.v1.EvictionResponder:r",
  "core.v1.PodStatus":
    "1:phase:string 2:conditions:core.v1.PodCondition:r 3:message:string 4:reason:string 5:hostIP:string 6:podIP:string 7:startTime:meta.v1.Time 8:containerStatuses:core.v1.ContainerStatus:r 9:qosClass:string 10:initContainerStatuses:core.v1.ContainerStatus:r 11:nominatedNodeName:string 12:podIPs:core.v1.PodIP:r 13:ephemeralContainerStatuses:core.v1.ContainerStatus:r 14:resize:string 15:resourceClaimStatuses:core.v1.PodResourceClaimStatus:r 16:hostIPs:core.v1.HostIP:r 17:observedGeneration:int64 18:extendedResourceClaimStatus:core.v1.PodExtendedResourceClaimStatus 19:allocatedResources:api.resource.Quantity:m 20:resources:core.v1.ResourceRequirements 21:nodeAllocatableResourceClaimStatuses:core.v1.NodeAllocatableResourceClaimStatus:r 22:volumeHealth:core.v1.PodVolumeHealth:r",
  "core.v1.PodTemplateSpec": "1:metadata:meta.v1.ObjectMeta 2:spec:core.v1.PodSpec",
  "core.v1.PodVolumeHealth":
    "1:name:string 2:healthConditions:core.v1.VolumeHealthCondition:r 3:lastTransitionTime:meta.v1.Time",
  "core.v1.PortStatus": "1:port:int32 2:protocol:string 3:error:string",
  "core.v1.PortworxVolumeSource": "1:volumeID:string 2:fsType:string 3:readOnly:bool",
  "core.v1.PreferredSchedulingTerm": "1:weight:int32 2:preference:core.v1.NodeSelectorTerm",
  "core.v1.Probe":
    "1:handler:core.v1.ProbeHandler 2:initialDelaySeconds:int32 3:timeoutSeconds:int32 4:periodSeconds:int32 5:successThreshold:int32 6:failureThreshold:int32 7:terminationGracePeriodSeconds:int64",
  "core.v1.ProbeHandler":
    "1:exec:core.v1.ExecAction 2:httpGet:core.v1.HTTPGetAction 3:tcpSocket:core.v1.TCPSocketAction 4:grpc:core.v1.GRPCAction",
  "core.v1.ProjectedVolumeSource":
    "1:sources:core.v1.VolumeProjection:r 2:defaultMode:int32 3:defaultUser:int64",
  "core.v1.QuobyteVolumeSource":
    "1:registry:string 2:volume:string 3:readOnly:bool 4:user:string 5:group:string 6:tenant:string",
  "core.v1.RBDVolumeSource":
    "1:monitors:string:r 2:image:string 3:fsType:string 4:pool:string 5:user:string 6:keyring:string 7:secretRef:core.v1.LocalObjectReference 8:readOnly:bool",
  "core.v1.ResourceClaim": "1:name:string 2:request:string",
  "core.v1.ResourceFieldSelector": "1:containerName:string 2:resource:string 3:divisor:api.resource.Quantity",
  "core.v1.ResourceHealth": "1:resourceID:string 2:health:string 6:message:string",
  "core.v1.ResourceRequirements":
    "1:limits:api.resource.Quantity:m 2:requests:api.resource.Quantity:m 3:claims:core.v1.ResourceClaim:r",
  "core.v1.ResourceStatus": "1:name:string 2:resources:core.v1.ResourceHealth:r",
  "core.v1.SELinuxOptions": "1:user:string 2:role:string 3:type:string 4:level:string",
  "core.v1.ScaleIOVolumeSource":
    "1:gateway:string 2:system:string 3:secretRef:core.v1.LocalObjectReference 4:sslEnabled:bool 5:protectionDomain:string 6:storagePool:string 7:storageMode:string 8:volumeName:string 9:fsType:string 10:readOnly:bool",
  "core.v1.SeccompProfile": "1:type:string 2:localhostProfile:string",
  "core.v1.Secret":
    "1:metadata:meta.v1.ObjectMeta 2:data:bytes:m 3:type:string 4:stringData:string:m 5:immutable:bool",
  "core.v1.SecretEnvSource": "1:localObjectReference:core.v1.LocalObjectReference 2:optional:bool",
  "core.v1.SecretKeySelector":
    "1:localObjectReference:core.v1.LocalObjectReference 2:key:string 3:optional:bool",
  "core.v1.SecretProjection":
    "1:localObjectReference:core.v1.LocalObjectReference 2:items:core.v1.KeyToPath:r 4:optional:bool",
  "core.v1.SecretVolumeSource":
    "1:secretName:string 2:items:core.v1.KeyToPath:r 3:defaultMode:int32 4:optional:bool 5:defaultUser:int64",
  "core.v1.SecurityContext":
    "1:capabilities:core.v1.Capabilities 2:privileged:bool 3:seLinuxOptions:core.v1.SELinuxOptions 4:runAsUser:int64 5:runAsNonRoot:bool 6:readOnlyRootFilesystem:bool 7:allowPrivilegeEscalation:bool 8:runAsGroup:int64 9:procMount:string 10:windowsOptions:core.v1.WindowsSecurityContextOptions 11:seccompProfile:core.v1.SeccompProfile 12:appArmorProfile:core.v1.AppArmorProfile",
  "core.v1.Service":
    "1:metadata:meta.v1.ObjectMeta 2:spec:core.v1.ServiceSpec 3:status:core.v1.ServiceStatus",
  "core.v1.ServiceAccount":
    "1:metadata:meta.v1.ObjectMeta 2:secrets:core.v1.ObjectReference:r 3:imagePullSecrets:core.v1.LocalObjectReference:r 4:automountServiceAccountToken:bool",
  "core.v1.ServiceAccountTokenProjection":
    "1:audience:string 2:expirationSeconds:int64 3:path:string 4:user:int64",
  "core.v1.ServicePort":
    "1:name:string 2:protocol:string 3:port:int32 4:targetPort:util.intstr.IntOrString 5:nodePort:int32 6:appProtocol:string",
  "core.v1.ServiceSpec":
    "1:ports:core.v1.ServicePort:r 2:selector:string:m 3:clusterIP:string 4:type:string 5:externalIPs:string:r 7:sessionAffinity:string 8:loadBalancerIP:string 9:loadBalancerSourceRanges:string:r 10:externalName:string 11:externalTrafficPolicy:string 12:healthCheckNodePort:int32 13:publishNotReadyAddresses:bool 14:sessionAffinityConfig:core.v1.SessionAffinityConfig 17:ipFamilyPolicy:string 18:clusterIPs:string:r 19:ipFamilies:string:r 20:allocateLoadBalancerNodePorts:bool 21:loadBalancerClass:string 22:internalTrafficPolicy:string 23:trafficDistribution:string",
  "core.v1.ServiceStatus": "1:loadBalancer:core.v1.LoadBalancerStatus 2:conditions:meta.v1.Condition:r",
  "core.v1.SessionAffinityConfig": "1:clientIP:core.v1.ClientIPConfig",
  "core.v1.SleepAction": "1:seconds:int64",
  "core.v1.StorageOSVolumeSource":
    "1:volumeName:string 2:volumeNamespace:string 3:fsType:string 4:readOnly:bool 5:secretRef:core.v1.LocalObjectReference",
  "core.v1.Sysctl": "1:name:string 2:value:string",
  "core.v1.TCPSocketAction": "1:port:util.intstr.IntOrString 2:host:string",
  "core.v1.Taint": "1:key:string 2:value:string 3:effect:string 4:timeAdded:meta.v1.Time",
  "core.v1.Toleration":
    "1:key:string 2:operator:string 3:value:string 4:effect:string 5:tolerationSeconds:int64",
  "core.v1.TopologySpreadConstraint":
    "1:maxSkew:int32 2:topologyKey:string 3:whenUnsatisfiable:string 4:labelSelector:meta.v1.LabelSelector 5:minDomains:int32 6:nodeAffinityPolicy:string 7:nodeTaintsPolicy:string 8:matchLabelKeys:string:r",
  "core.v1.TypedLocalObjectReference": "1:apiGroup:string 2:kind:string 3:name:string",
  "core.v1.TypedObjectReference": "1:apiGroup:string 2:kind:string 3:name:string 4:namespace:string",
  "core.v1.Volume": "1:name:string 2:volumeSource:core.v1.VolumeSource",
  "core.v1.VolumeDevice": "1:name:string 2:devicePath:string",
  "core.v1.VolumeHealthCondition": "1:status:string 2:reason:string 3:message:string",
  "core.v1.VolumeMount":
    "1:name:string 2:readOnly:bool 3:mountPath:string 4:subPath:string 5:mountPropagation:string 6:subPathExpr:string 7:recursiveReadOnly:string 8:bindMountOptions:string:r",
  "core.v1.VolumeMountStatus":
    "1:name:string 2:mountPath:string 3:readOnly:bool 4:recursiveReadOnly:string 5:volumeStatus:core.v1.VolumeStatus",
  "core.v1.VolumeProjection":
    "1:secret:core.v1.SecretProjection 2:downwardAPI:core.v1.DownwardAPIProjection 3:configMap:core.v1.ConfigMapProjection 4:serviceAccountToken:core.v1.ServiceAccountTokenProjection 5:clusterTrustBundle:core.v1.ClusterTrustBundleProjection 6:podCertificate:core.v1.PodCertificateProjection",
  "core.v1.VolumeResourceRequirements": "1:limits:api.resource.Quantity:m 2:requests:api.resource.Quantity:m",
  "core.v1.VolumeSource":
    "1:hostPath:core.v1.HostPathVolumeSource 2:emptyDir:core.v1.EmptyDirVolumeSource 3:gcePersistentDisk:core.v1.GCEPersistentDiskVolumeSource 4:awsElasticBlockStore:core.v1.AWSElasticBlockStoreVolumeSource 5:gitRepo:core.v1.GitRepoVolumeSource 6:secret:core.v1.SecretVolumeSource 7:nfs:core.v1.NFSVolumeSource 8:iscsi:core.v1.ISCSIVolumeSource 9:glusterfs:core.v1.GlusterfsVolumeSource 10:persistentVolumeClaim:core.v1.PersistentVolumeClaimVolumeSource 11:rbd:core.v1.RBDVolumeSource 12:flexVolume:core.v1.FlexVolumeSource 13:cinder:core.v1.CinderVolumeSource 14:cephfs:core.v1.CephFSVolumeSource 15:flocker:core.v1.FlockerVolumeSource 16:downwardAPI:core.v1.DownwardAPIVolumeSource 17:fc:core.v1.FCVolumeSource 18:azureFile:core.v1.AzureFileVolumeSource 19:configMap:core.v1.ConfigMapVolumeSource 20:vsphereVolume:core.v1.VsphereVirtualDiskVolumeSource 21:quobyte:core.v1.QuobyteVolumeSource 22:azureDisk:core.v1.AzureDiskVolumeSource 23:photonPersistentDisk:core.v1.PhotonPersistentDiskVolumeSource 24:portworxVolume:core.v1.PortworxVolumeSource 25:scaleIO:core.v1.ScaleIOVolumeSource 26:projected:core.v1.ProjectedVolumeSource 27:storageos:core.v1.StorageOSVolumeSource 28:csi:core.v1.CSIVolumeSource 29:ephemeral:core.v1.EphemeralVolumeSource 30:image:core.v1.ImageVolumeSource",
  "core.v1.VolumeStatus": "1:image:core.v1.ImageVolumeStatus",
  "core.v1.VsphereVirtualDiskVolumeSource":
    "1:volumePath:string 2:fsType:string 3:storagePolicyName:string 4:storagePolicyID:string",
  "core.v1.WeightedPodAffinityTerm": "1:weight:int32 2:podAffinityTerm:core.v1.PodAffinityTerm",
  "core.v1.WindowsSecurityContextOptions":
    "1:gmsaCredentialSpecName:string 2:gmsaCredentialSpec:string 3:runAsUserName:string 4:hostProcess:bool",
  "discovery.v1.Endpoint":
    "1:addresses:string:r 2:conditions:discovery.v1.EndpointConditions 3:hostname:string 4:targetRef:core.v1.ObjectReference 5:deprecatedTopology:string:m 6:nodeName:string 7:zone:string 8:hints:discovery.v1.EndpointHints",
  "discovery.v1.EndpointConditions": "1:ready:bool 2:serving:bool 3:terminating:bool",
  "discovery.v1.EndpointHints": "1:forZones:discovery.v1.ForZone:r 2:forNodes:discovery.v1.ForNode:r",
  "discovery.v1.EndpointPort": "1:name:string 2:protocol:string 3:port:int32 4:appProtocol:string",
  "discovery.v1.EndpointSlice":
    "1:metadata:meta.v1.ObjectMeta 2:endpoints:discovery.v1.Endpoint:r 3:ports:discovery.v1.EndpointPort:r 4:addressType:string",
  "discovery.v1.ForNode": "1:name:string",
  "discovery.v1.ForZone": "1:name:string",
  "networking.v1.HTTPIngressPath": "1:path:string 3:pathType:string 2:backend:networking.v1.IngressBackend",
  "networking.v1.HTTPIngressRuleValue": "1:paths:networking.v1.HTTPIngressPath:r",
  "networking.v1.Ingress":
    "1:metadata:meta.v1.ObjectMeta 2:spec:networking.v1.IngressSpec 3:status:networking.v1.IngressStatus",
  "networking.v1.IngressBackend":
    "4:service:networking.v1.IngressServiceBackend 3:resource:core.v1.TypedLocalObjectReference",
  "networking.v1.IngressClass": "1:metadata:meta.v1.ObjectMeta 2:spec:networking.v1.IngressClassSpec",
  "networking.v1.IngressClassParametersReference":
    "1:apiGroup:string 2:kind:string 3:name:string 4:scope:string 5:namespace:string",
  "networking.v1.IngressClassSpec":
    "1:controller:string 2:parameters:networking.v1.IngressClassParametersReference",
  "networking.v1.IngressLoadBalancerIngress":
    "1:ip:string 2:hostname:string 4:ports:networking.v1.IngressPortStatus:r",
  "networking.v1.IngressLoadBalancerStatus": "1:ingress:networking.v1.IngressLoadBalancerIngress:r",
  "networking.v1.IngressPortStatus": "1:port:int32 2:protocol:string 3:error:string",
  "networking.v1.IngressRule": "1:host:string 2:ingressRuleValue:networking.v1.IngressRuleValue",
  "networking.v1.IngressRuleValue": "1:http:networking.v1.HTTPIngressRuleValue",
  "networking.v1.IngressServiceBackend": "1:name:string 2:port:networking.v1.ServiceBackendPort",
  "networking.v1.IngressSpec":
    "4:ingressClassName:string 1:defaultBackend:networking.v1.IngressBackend 2:tls:networking.v1.IngressTLS:r 3:rules:networking.v1.IngressRule:r",
  "networking.v1.IngressStatus": "1:loadBalancer:networking.v1.IngressLoadBalancerStatus",
  "networking.v1.IngressTLS": "1:hosts:string:r 2:secretName:string",
  "networking.v1.ServiceBackendPort": "1:name:string 2:number:int32",
  "policy.v1.Eviction": "1:metadata:meta.v1.ObjectMeta 2:deleteOptions:meta.v1.DeleteOptions",
  "policy.v1.PodDisruptionBudget":
    "1:metadata:meta.v1.ObjectMeta 2:spec:policy.v1.PodDisruptionBudgetSpec 3:status:policy.v1.PodDisruptionBudgetStatus",
  "policy.v1.PodDisruptionBudgetSpec":
    "1:minAvailable:util.intstr.IntOrString 2:selector:meta.v1.LabelSelector 3:maxUnavailable:util.intstr.IntOrString 4:unhealthyPodEvictionPolicy:string",
  "policy.v1.PodDisruptionBudgetStatus":
    "1:observedGeneration:int64 2:disruptedPods:meta.v1.Time:m 3:disruptionsAllowed:int32 4:currentHealthy:int32 5:desiredHealthy:int32 6:expectedPods:int32 7:conditions:meta.v1.Condition:r",
  "api.resource.Quantity": "1:string:string",
  "meta.v1.Condition":
    "1:type:string 2:status:string 3:observedGeneration:int64 4:lastTransitionTime:meta.v1.Time 5:reason:string 6:message:string",
  "meta.v1.DeleteOptions":
    "1:gracePeriodSeconds:int64 2:preconditions:meta.v1.Preconditions 3:orphanDependents:bool 4:propagationPolicy:string 5:dryRun:string:r 6:ignoreStoreReadErrorWithClusterBreakingPotential:bool",
  "meta.v1.FieldsV1": "1:Raw:bytes",
  "meta.v1.LabelSelector": "1:matchLabels:string:m 2:matchExpressions:meta.v1.LabelSelectorRequirement:r",
  "meta.v1.LabelSelectorRequirement": "1:key:string 2:operator:string 3:values:string:r",
  "meta.v1.ManagedFieldsEntry":
    "1:manager:string 2:operation:string 3:apiVersion:string 4:time:meta.v1.Time 6:fieldsType:string 7:fieldsV1:meta.v1.FieldsV1 8:subresource:string",
  "meta.v1.ListMeta":
    "1:selfLink:string 2:resourceVersion:string 3:continue:string 4:remainingItemCount:int64",
  "meta.v1.MicroTime": "1:seconds:int64 2:nanos:int32",
  "meta.v1.ObjectMeta":
    "1:name:string 2:generateName:string 3:namespace:string 4:selfLink:string 5:uid:string 6:resourceVersion:string 7:generation:int64 8:creationTimestamp:meta.v1.Time 9:deletionTimestamp:meta.v1.Time 10:deletionGracePeriodSeconds:int64 11:labels:string:m 12:annotations:string:m 13:ownerReferences:meta.v1.OwnerReference:r 14:finalizers:string:r 17:managedFields:meta.v1.ManagedFieldsEntry:r",
  "meta.v1.OwnerReference":
    "1:kind:string 3:name:string 4:uid:string 5:apiVersion:string 6:controller:bool 7:blockOwnerDeletion:bool",
  "meta.v1.PartialObjectMetadata": "1:metadata:meta.v1.ObjectMeta",
  "meta.v1.Preconditions": "1:uid:string 2:resourceVersion:string",
  "meta.v1.Status":
    "1:metadata:meta.v1.ListMeta 2:status:string 3:message:string 4:reason:string 5:details:meta.v1.StatusDetails 6:code:int32",
  "meta.v1.StatusCause": "1:reason:string 2:message:string 3:field:string",
  "meta.v1.StatusDetails":
    "1:name:string 2:group:string 3:kind:string 6:uid:string 4:causes:meta.v1.StatusCause:r 5:retryAfterSeconds:int32",
  "meta.v1.Time": "1:seconds:int64 2:nanos:int32",
  "meta.v1.WatchEvent": "1:type:string 2:object:runtime.RawExtension",
  "runtime.RawExtension": "1:raw:bytes",
  "runtime.TypeMeta": "1:apiVersion:string 2:kind:string",
  "runtime.Unknown": "1:typeMeta:runtime.TypeMeta 2:raw:bytes 3:contentEncoding:string 4:contentType:string",
  "util.intstr.IntOrString": "1:type:int64 2:intVal:int32 3:strVal:string",
  "rbac.v1.AggregationRule": "1:clusterRoleSelectors:meta.v1.LabelSelector:r",
  "rbac.v1.ClusterRole":
    "1:metadata:meta.v1.ObjectMeta 2:rules:rbac.v1.PolicyRule:r 3:aggregationRule:rbac.v1.AggregationRule",
  "rbac.v1.ClusterRoleBinding":
    "1:metadata:meta.v1.ObjectMeta 2:subjects:rbac.v1.Subject:r 3:roleRef:rbac.v1.RoleRef",
  "rbac.v1.PolicyRule":
    "1:verbs:string:r 2:apiGroups:string:r 3:resources:string:r 4:resourceNames:string:r 5:nonResourceURLs:string:r",
  "rbac.v1.Role": "1:metadata:meta.v1.ObjectMeta 2:rules:rbac.v1.PolicyRule:r",
  "rbac.v1.RoleBinding":
    "1:metadata:meta.v1.ObjectMeta 2:subjects:rbac.v1.Subject:r 3:roleRef:rbac.v1.RoleRef",
  "rbac.v1.RoleRef": "1:apiGroup:string 2:kind:string 3:name:string",
  "rbac.v1.Subject": "1:kind:string 2:apiGroup:string 3:name:string 4:namespace:string",
  "authentication.v1.BoundObjectReference": "1:kind:string 2:apiVersion:string 3:name:string 4:uid:string",
  "authentication.v1.TokenRequest": "1:metadata:meta.v1.ObjectMeta 2:spec:authentication.v1.TokenRequestSpec",
  "authentication.v1.TokenRequestSpec":
    "1:audiences:string:r 3:boundObjectRef:authentication.v1.BoundObjectReference 4:expirationSeconds:int64",
  "authentication.v1.TokenReview": "1:metadata:meta.v1.ObjectMeta 2:spec:authentication.v1.TokenReviewSpec",
  "authentication.v1.TokenReviewSpec": "1:token:string 2:audiences:string:r",
  "authorization.v1.NonResourceAttributes": "1:path:string 2:verb:string",
  "authorization.v1.ResourceAttributes":
    "1:namespace:string 2:verb:string 3:group:string 4:version:string 5:resource:string 6:subresource:string 7:name:string",
  "authorization.v1.SelfSubjectAccessReview":
    "1:metadata:meta.v1.ObjectMeta 2:spec:authorization.v1.SelfSubjectAccessReviewSpec",
  "authorization.v1.SelfSubjectAccessReviewSpec":
    "1:resourceAttributes:authorization.v1.ResourceAttributes 2:nonResourceAttributes:authorization.v1.NonResourceAttributes",
  "authorization.v1.SelfSubjectRulesReview":
    "1:metadata:meta.v1.ObjectMeta 2:spec:authorization.v1.SelfSubjectRulesReviewSpec",
  "authorization.v1.SelfSubjectRulesReviewSpec": "1:namespace:string",
  "authorization.v1.SubjectAccessReview":
    "1:metadata:meta.v1.ObjectMeta 2:spec:authorization.v1.SubjectAccessReviewSpec",
  "authorization.v1.SubjectAccessReviewSpec":
    "1:resourceAttributes:authorization.v1.ResourceAttributes 2:nonResourceAttributes:authorization.v1.NonResourceAttributes 3:user:string 4:groups:string:r 6:uid:string",
  "coordination.v1.Lease": "1:metadata:meta.v1.ObjectMeta 2:spec:coordination.v1.LeaseSpec",
  "coordination.v1.LeaseSpec":
    "1:holderIdentity:string 2:leaseDurationSeconds:int32 3:acquireTime:meta.v1.MicroTime 4:renewTime:meta.v1.MicroTime 5:leaseTransitions:int32 6:strategy:string 7:preferredHolder:string",
};
