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

export interface ImageService {
  list(): Promise<ImageSummary[]>;
  pull(
    ref: string,
    onProgress?: (p: { item: string; done: number; total: number }) => void,
  ): Promise<ImageSummary>;
  /** ApiError Conflict while a container uses it; NotFound when unknown. */
  remove(ref: string): Promise<void>;
  load(archive: ReadableStream<Uint8Array>): Promise<ImageSummary[]>;
}
