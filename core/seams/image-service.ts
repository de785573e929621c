/**
 * What the API's image endpoints (`/minik/v1/images`) need from the node's image store. The
 * runtime's ImageStore implements it; `minik image …` talks to it over HTTP.
 */
export interface ImageSummary {
  name: string;
  id: string;
  digest?: string;
  size: number;
}

/** `minik image inspect/history`: what `docker image inspect` and `docker history` show. */
export interface ImageDetails extends ImageSummary {
  created?: string;
  architecture?: string;
  os?: string;
  /** The image config's `config` object (Env, Entrypoint, Cmd, WorkingDir, User, …). */
  config: Record<string, unknown>;
  /** Bottom first. */
  layers: { diffId: string; sizeBytes: number; createdBy?: string }[];
  /** Build steps, oldest first; `emptyLayer` steps changed only the config. */
  history: { created?: string; createdBy?: string; comment?: string; emptyLayer: boolean }[];
}

export interface ImageService {
  list(): Promise<ImageSummary[]>;
  pull(
    ref: string,
    onProgress?: (p: { item: string; done: number; total: number }) => void,
  ): Promise<ImageSummary>;
  /** ApiError Conflict while a container uses it; NotFound when unknown. */
  remove(ref: string): Promise<void>;
  load(archive: ReadableStream<Uint8Array>): Promise<ImageSummary[]>;
  /** ApiError NotFound when the image is not present. */
  inspect(ref: string): Promise<ImageDetails>;
}
