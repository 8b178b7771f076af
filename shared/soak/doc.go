// Package soak proves the system under load and faults, as figures (`make soak`, a test behind
// the soak build tag). Everything runs on loopback: a dev server on 127.0.0.1 with its own
// dynoxide (which the run kills and restarts mid-job) and local-aws-sqs, every queue message
// delivered twice. It is bounded (SOAK_SECONDS, 60 by default, for the mixed workload of 32
// clients; the whole run well under ten minutes) and stops by itself. It prints p50/p95/p99 per
// route and ends with a line "N passed, N failed".
package soak
