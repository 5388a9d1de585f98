package test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

// The visibility and fencing tests hold Spool to Kafka's behaviour; they
// pass against franz-go's kfake, a second implementation, too, so what
// they expect is Kafka's and not an artefact of Spool's.
func TestTxnExpectationsHoldOnKfake(t *testing.T) {
	t.Parallel()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	checkAbortedNeverVisible(t, addr)
	checkZombieFenced(t, addr)
}
