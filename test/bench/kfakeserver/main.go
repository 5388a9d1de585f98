// Command kfakeserver runs franz-go's kfake as its own process, so
// benchmarks can compare spool against a second Kafka implementation under
// the same conditions (a separate process on loopback).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 0, "listen port on 127.0.0.1")
	dataDir := flag.String("data-dir", "", "persist to this directory (kfake DataDir)")
	syncWrites := flag.Bool("sync-writes", false, "fsync every write (with --data-dir)")
	flag.Parse()
	opts := []kfake.Opt{kfake.Ports(*port), kfake.NumBrokers(1), kfake.AllowAutoTopicCreation()}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
		if *syncWrites {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake:", err)
		os.Exit(1)
	}
	fmt.Println(c.ListenAddrs()[0])
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
	c.Close()
}
