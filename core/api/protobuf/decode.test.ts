import { describe, expect, test } from "bun:test";
import { decodeProtobufObject } from "./decode.ts";

/** Bodies captured from kubectl 1.32 (`create deployment web --image=nginx:1.25 --replicas=0`, `create secret generic s --from-literal=pw=s3`). */
const DEPLOYMENT =
  "azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50ErcBCiYKA3dlYhIAGgdkZWZhdWx0IgAqADIAOABCAFoKCgNhcHASA3dlYhJ/CAASDAoKCgNhcHASA3dlYhplChwKABIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViEkUSJwoFbmdpbngSCm5naW54OjEuMjUqAEIAagByAIABAIgBAJABAKIBABoAMgBCAEoAUgBYAGAAaACCAQCKAQCaAQDCAQAiAgoAKAA4ABoMCAAQABgAIAAoADgAGgAiAA==";
const SECRET = "azhzAAoMCgJ2MRIGU2VjcmV0EiYKGAoBcxIAGgdkZWZhdWx0IgAqADIAOABCABIICgJwdxICczMaABoAIgA=";
const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

describe("protobuf bodies", () => {
  test("a kubectl create deployment body becomes the JSON Deployment, keeping replicas: 0", () => {
    const obj = decodeProtobufObject(bytes(DEPLOYMENT)) as any;
    expect(obj.apiVersion).toBe("apps/v1");
    expect(obj.kind).toBe("Deployment");
    expect(obj.metadata).toEqual({ name: "web", namespace: "default", labels: { app: "web" } });
    expect(obj.spec.replicas).toBe(0);
    expect(obj.spec.selector).toEqual({ matchLabels: { app: "web" } });
    expect(obj.spec.template.metadata.labels).toEqual({ app: "web" });
    expect(obj.spec.template.spec.containers).toEqual([
      { name: "nginx", image: "nginx:1.25", resources: {} },
    ]);
  });

  test("Secret data bytes become base64", () => {
    const obj = decodeProtobufObject(bytes(SECRET)) as any;
    expect(obj).toMatchObject({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      data: { pw: btoa("s3") },
    });
  });

  test("a body without the magic or truncated is a 400 Status", () => {
    expect(() => decodeProtobufObject(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/magic/);
    const cut = bytes(DEPLOYMENT).subarray(0, 40);
    expect(() => decodeProtobufObject(cut)).toThrow(/could not be decoded/);
  });
});
