export declare const STREAMING_COMMANDS: ReadonlySet<string>;
export declare const STREAMING_NODE_FLAGS: readonly string[];
