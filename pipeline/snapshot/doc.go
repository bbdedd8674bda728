// Package snapshot keeps every input of a run, fetched over HTTP or read
// from a local path, exactly once in a content-addressed store with a
// provenance record (where it came from, when, its size and SHA-256), so a
// release can be rebuilt byte for byte and an offline run can work from
// snapshots alone. It must not parse, transform or publish data, must not
// log, and must never make a half-written or unchecked download visible:
// an object appears under its hash only after it has been read completely,
// checked against the kind it claims to be, and synced to disk.
//
// Layout of a store directory:
//
//	objects/sha256/<first 2 hex>/<64 hex>   read-only object files
//	index/<source>/<name>.json              the latest record of an input
//	index/<source>/<name>.jsonl             every record of an input, oldest first
//	tmp/                                    files being written; never read
//
// Objects are written to tmp/, synced, made read-only and renamed into
// place, so a reader sees either no object or a complete one; two processes
// storing the same content both rename identical bytes onto the same name.
// The latest record of an input is replaced the same way. Records are
// written only after their object is in place, so a record never points at
// a missing object.
//
// Fetcher downloads one upstream file with per-attempt timeouts, retries
// with exponential backoff and full jitter (honouring Retry-After),
// conditional requests against the previous record, a size limit, and a
// content check that sniffs the bytes instead of trusting Content-Type.
package snapshot
