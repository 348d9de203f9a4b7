export declare const APP_HEAP_FLAG: string;
export declare const APP_NODE_ARGS: readonly string[];
