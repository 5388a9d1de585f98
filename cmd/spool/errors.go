package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"
)

// dialAny checks that at least one bootstrap address accepts a TCP
// connection, trying them all at once; kgo would otherwise retry a refused
// address until the command's timeout. It returns the first address's
// error when none answers.
func dialAny(ctx context.Context, addrs []string) error {
	errs := make(chan error, len(addrs))
	for _, a := range addrs {
		go func() {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", a)
			if err == nil {
				c.Close()
			}
			errs <- err
		}()
	}
	var first error
	for range addrs {
		err := <-errs
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// unreachable is the one-line error for a cluster that does not accept
// connections, naming the cause (refused, unknown host, no route).
func unreachable(addrs []string, err error) error {
	at := strings.Join(addrs, ",")
	var dns *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &dns):
		return fmt.Errorf("cannot reach a Kafka broker at %s: unknown host %s (check --bootstrap-server)", at, dns.Name)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot reach a Kafka broker at %s: connection refused, nothing listens there (start a broker with `spool server`, or pass --bootstrap-server)", at)
	}
	return fmt.Errorf("cannot reach a Kafka broker at %s: %v (start a broker with `spool server`, or pass --bootstrap-server)", at, causeOf(err))
}

// notKafka explains a seed that accepts connections but fails the first
// Kafka request.
func notKafka(addrs []string, err error, sec secured) error {
	at := strings.Join(addrs, ",")
	if e := authFailure(at, err, sec); e != nil {
		return e
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return fmt.Errorf("%s refused this client: %w", at, kafkaError(err, ""))
	}
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) {
		if sec.file != "" {
			return fmt.Errorf("%s closed the connection at the first Kafka request: is it a broker's client listener, and does it use security.protocol=%s? (a CONTROLLER listener serves only controllers and brokers; %s)", at, sec.protocol, sec.where("security.protocol"))
		}
		return fmt.Errorf("%s closed the connection at the first Kafka request: is it a broker's client listener? (a CONTROLLER listener serves only controllers and brokers; a TLS or SASL listener needs --command-config)", at)
	}
	return fmt.Errorf("%s does not answer as a Kafka broker: %v", at, causeOf(err))
}

// causeOf strips the Go plumbing from a network error: "dial tcp
// 127.0.0.1:9092: connect: connection refused" becomes "connection refused".
func causeOf(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		var sys *os.SyscallError
		if errors.As(op.Err, &sys) {
			return sys.Err
		}
		return op.Err
	}
	return err
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
