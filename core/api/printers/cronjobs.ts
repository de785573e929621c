import type { CronJob } from "kubernetes-types/batch/v1";
import { since } from "./human-duration.ts";
import {
  ageColumn,
  column,
  containersColumn,
  imagesColumn,
  nameColumn,
  type Printer,
  selectorColumn,
  selectorString,
  templateCells,
} from "./printer.ts";

export const cronJobPrinter: Printer = {
  columns: [
    nameColumn,
    column("Schedule", "string", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
    column(
      "Timezone",
      "string",
      "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.",
    ),
    column("Suspend", "boolean", "This flag tells the controller to suspend subsequent executions."),
    column("Active", "integer", "A list of pointers to currently running jobs."),
    column(
      "Last Schedule",
      "string",
      "Information when was the last time the job was successfully scheduled.",
    ),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  cells(obj, now) {
    const cj = obj as unknown as CronJob;
    const suspend = cj.spec?.suspend;
    const lastSchedule = cj.status?.lastScheduleTime;
    return [
      cj.metadata?.name,
      cj.spec?.schedule,
      cj.spec?.timeZone ?? "<none>",
      suspend === undefined ? "<unset>" : suspend ? "True" : "False",
      cj.status?.active?.length ?? 0,
      lastSchedule ? since(lastSchedule, now) : "<none>",
      since(cj.metadata?.creationTimestamp, now),
      ...templateCells(cj.spec?.jobTemplate?.spec?.template),
      selectorString(cj.spec?.jobTemplate?.spec?.selector),
    ];
  },
};
