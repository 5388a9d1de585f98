package consumergroup

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestTranscripts runs the datadriven transcripts in testdata/.
func TestTranscripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		d := newDriver(t)
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string { return d.run(td) })
	})
}
