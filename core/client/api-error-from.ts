import { ApiError, type StatusReason } from "../errors.ts";

/** The ApiError of a non-2xx answer, from its Status body when there is one. */
export async function apiErrorFrom(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const status = JSON.parse(text);
    if (status?.kind === "Status") {
      return new ApiError(
        (status.reason as StatusReason) || "InternalError",
        status.message ?? text,
        status.details,
      );
    }
  } catch {}
  const reason: StatusReason =
    res.status === 401 ? "Unauthorized" : res.status === 404 ? "NotFound" : "InternalError";
  return new ApiError(reason, `${res.status} ${res.statusText}: ${text.slice(0, 300)}`);
}
