package kafkapeer

import (
	"context"
	"os/exec"
	"path/filepath"
)

// Tool is one of Kafka's command-line tools by its usual name
// (kafka-topics, kafka-configs, kafka-consumer-groups, ...; see
// test/peers/kafka/tool.sh --list), ready to run with args.
func Tool(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, filepath.Join(Dir(), "tool.sh"), append([]string{name}, args...)...)
}

// BinDir holds one executable per Kafka tool under its usual name (with and
// without .sh), for PATH.
func BinDir() string { return filepath.Join(Dir(), "bin") }
