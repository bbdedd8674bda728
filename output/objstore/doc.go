// Package objstore publishes a finished local release folder to
// S3-compatible object storage (AWS S3, MinIO, Ceph, SeaweedFS, versitygw
// and the S3 interfaces of other clouds) with the guarantees of the local
// publish: every file is uploaded under an immutable
// <prefix>/releases/<id>/ prefix, read back and checked (size and SHA-256)
// against the release's manifest, and only then is the small
// <prefix>/latest.json pointer written. Old releases are removed only
// after the pointer moved, and never the one it names. A rerun skips the
// objects already present with the right size and SHA-256.
//
// It reads the release folder and run.json's file list; it must not build
// releases, import pipeline, or read credentials from anywhere but the
// standard AWS environment variables and shared credentials file.
package objstore
