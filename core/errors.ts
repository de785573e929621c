/**
 * The one error type of minik. It knows its HTTP code and Kubernetes reason, so the API turns it
 * into a `Status` body and the CLI into one readable line.
 */
export type StatusReason =
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Gone"
  | "Expired"
  | "Invalid"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "UnsupportedMediaType"
  | "RequestEntityTooLarge"
  | "TooManyRequests"
  | "Timeout"
  | "ServiceUnavailable"
  | "InternalError";

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

const codes: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  Invalid: 422,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  UnsupportedMediaType: 415,
  RequestEntityTooLarge: 413,
  TooManyRequests: 429,
  Timeout: 504,
  ServiceUnavailable: 503,
  InternalError: 500,
};

export class ApiError extends Error {
  readonly code: number;
  constructor(
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = "ApiError";
    this.code = codes[reason];
  }

  /** The Kubernetes `Status` object for this error. */
  toStatus() {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }

  static notFound(resource: string, name: string, group = ""): ApiError {
    const what = group ? `${resource}.${group}` : resource;
    return new ApiError("NotFound", `${what} "${name}" not found`, { name, group, kind: resource });
  }

  static alreadyExists(resource: string, name: string, group = ""): ApiError {
    const what = group ? `${resource}.${group}` : resource;
    return new ApiError("AlreadyExists", `${what} "${name}" already exists`, { name, group, kind: resource });
  }

  static conflict(resource: string, name: string, group = ""): ApiError {
    const what = group ? `${resource}.${group}` : resource;
    return new ApiError(
      "Conflict",
      `Operation cannot be fulfilled on ${what} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group, kind: resource },
    );
  }

  static invalid(kind: string, name: string, causes: StatusCause[], group = ""): ApiError {
    const list = causes.map((c) => `${c.field ? `${c.field}: ` : ""}${c.message}`).join(", ");
    const what = group ? `${kind}.${group}` : kind;
    return new ApiError("Invalid", `${what} "${name}" is invalid: ${list}`, { name, group, kind, causes });
  }
}

export function isApiError(e: unknown, reason?: StatusReason): e is ApiError {
  return e instanceof ApiError && (reason === undefined || e.reason === reason);
}
