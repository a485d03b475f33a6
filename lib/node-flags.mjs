// V8 flags for the commands that stream large inputs (`sesflow ingest`, `sesflow compact`): a capped old space makes
// the collector keep the heap near what is live instead of letting it grow with the input (ingest holds bounded column
// buffers and a bounded id index; see ingest/ingest-stream.ts). The bench's ingest child runs with the same.
export const STREAMING_COMMANDS = new Set(['ingest', 'compact']);
export const STREAMING_NODE_FLAGS = ['--max-old-space-size=160'];
