// Package bigbuf keeps large buffers (request frames, inflated record
// batches) for the next user of about the same size, under a byte bound,
// and drops them, handing the memory back to the system, once they have
// idled. It imports nothing of ours.
package bigbuf
