/**
 * Labels and annotations of batch/v1 Jobs and their pods, as Kubernetes 1.32 writes them. The
 * registry stamps the selector labels on a Job's template; the job and cronjob controllers read
 * and write the rest.
 */
export const CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid";
export const JOB_NAME_LABEL = "batch.kubernetes.io/job-name";
/** The pre-1.27 spellings, still written for selectors and scripts that use them. */
export const LEGACY_CONTROLLER_UID_LABEL = "controller-uid";
export const LEGACY_JOB_NAME_LABEL = "job-name";
/** Label and annotation on an Indexed Job's pod; JOB_COMPLETION_INDEX reads the annotation. */
export const COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index";
/** On a Job a CronJob created: the schedule time it ran for, in the CronJob's time zone. */
export const CRONJOB_SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/** On a Job `kubectl create job --from=cronjob/X` made. */
export const CRONJOB_INSTANTIATE = "cronjob.kubernetes.io/instantiate";
/** backoffLimitPerIndex: an Indexed Job pod's count of earlier (counted / ignored) failures of its index. */
export const INDEX_FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count";
export const INDEX_IGNORED_FAILURE_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count";
