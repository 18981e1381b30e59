/** The slice of the untyped npm `opsgenie-sdk` (0.5.1) this service uses; see protocols.md §4.8. */
declare module 'opsgenie-sdk' {
  /** Non-2xx: the parsed error body plus `httpStatusCode`; network failure: the request error. */
  type SdkCallback = (error: (Record<string, unknown> & { httpStatusCode?: number }) | Error | null, result: unknown) => void;

  /** An alias is NOT URL-encoded by the SDK: pass it encoded. */
  interface SdkIdentifier {
    identifier: string;
    identifierType: 'id' | 'tiny' | 'alias';
  }

  /** Per-call options, handed to `requestretry` (merged append-only with the SDK's headers). */
  interface SdkCallConfig {
    maxAttempts?: number;
    timeout?: number;
    retryStrategy?: (err: (Error & { code?: string }) | null, response: SdkResponse | undefined, body: unknown) => unknown;
  }

  interface SdkResponse {
    statusCode: number;
    headers: Record<string, string | string[] | undefined>;
  }

  interface AlertV2 {
    create(data: object, config: SdkCallConfig, cb: SdkCallback): void;
    get(identifier: SdkIdentifier, config: SdkCallConfig, cb: SdkCallback): void;
    close(identifier: SdkIdentifier, data: object, config: SdkCallConfig, cb: SdkCallback): void;
    acknowledge(identifier: SdkIdentifier, data: object, config: SdkCallConfig, cb: SdkCallback): void;
    addNote(identifier: SdkIdentifier, data: object, config: SdkCallConfig, cb: SdkCallback): void;
    getRequestStatus(requestId: string, config: SdkCallConfig, cb: SdkCallback): void;
  }

  const opsgenie: {
    version: string;
    /** GLOBAL for the whole process: the SDK is a module singleton. */
    configure(options: { api_key?: string; host?: string }): void;
    alertV2: AlertV2;
  };
  export = opsgenie;
}
