package main

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// dialAny checks that at least one bootstrap address accepts a TCP
// connection; kgo would otherwise retry a refused address until the
// command's timeout.
func dialAny(addrs []string, timeout time.Duration) error {
	var first error
	for _, a := range addrs {
		c, err := net.DialTimeout("tcp", a, timeout)
		if err == nil {
			c.Close()
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// unreachable is the one-line error for a cluster that does not answer.
func unreachable(addrs []string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	return fmt.Errorf("cannot reach a Kafka broker at %s: %v (is spool running? start one with `make run`, or pass --bootstrap-server)", strings.Join(addrs, ","), err)
}

// kafkaError renders a Kafka error code and the broker's message as one
// line: "TOPIC_ALREADY_EXISTS: Topic 'x' already exists."
func kafkaError(err error, msg string) error {
	if err == nil {
		return nil
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		if msg != "" {
			return fmt.Errorf("%s: %s", ke.Message, msg)
		}
		return fmt.Errorf("%s: %s", ke.Message, ke.Description)
	}
	return err
}

// failures is the exit status of a command whose failed items were each
// reported on their own line already: non-zero, with nothing more to say.
func failures(n int) error {
	if n == 0 {
		return nil
	}
	return &exitError{code: 1}
}
