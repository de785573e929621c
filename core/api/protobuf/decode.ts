import { ApiError } from "../../errors.ts";

/** Placeholder until the hand-written decoder lands: protobuf bodies are refused with 415. */
export function decodeProtobufObject(_bytes: Uint8Array): unknown {
  throw new ApiError(
    "UnsupportedMediaType",
    "protobuf request bodies are not supported yet: use `kubectl create … --dry-run=client -o yaml | kubectl apply -f -`",
  );
}
