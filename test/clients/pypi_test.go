package clients_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// The current PyPI clients run in the project's virtualenv
// (test/clients/python/.venv, from requirements.txt, made by
// scripts/install-clients.sh); Debian's packaged ones stay on
// /usr/bin/python3.

func venvPython(b *builds) string {
	return filepath.Join(b.root, "test", "clients", "python", ".venv", "bin", "python")
}

func venvRunner(script, module string) func(*builds) ([]string, error) {
	return func(b *builds) ([]string, error) {
		py := venvPython(b)
		if out, err := exec.Command(py, "-c", "import "+module).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s is not installed in the virtualenv: run `make clients` (pip install -r test/clients/python/requirements.txt): %s", module, lastLine(string(out)+err.Error()))
		}
		return []string{py, filepath.Join(b.root, "test", "clients", "python", script)}, nil
	}
}

// venvVersion prints what expr evaluates to in the virtualenv.
func venvVersion(module, expr string) func(context.Context, *builds) string {
	return func(ctx context.Context, b *builds) string {
		out, err := exec.CommandContext(ctx, venvPython(b), "-c", "import "+module+"; print("+expr+")").Output()
		if err != nil {
			return "unknown"
		}
		return strings.TrimSpace(string(out)) + " (PyPI)"
	}
}

var pypiClients = []*client{
	{
		name:    "confluent-kafka-pypi",
		prepare: venvRunner("confluent_runner.py", "confluent_kafka"),
		version: venvVersion("confluent_kafka", `confluent_kafka.__version__ + " (bundled librdkafka " + confluent_kafka.libversion()[0] + ")"`),
	},
	{
		name:    "kafka-python-pypi",
		prepare: venvRunner("kafka_python_runner.py", "kafka"),
		version: venvVersion("kafka", "kafka.__version__"),
		na:      map[string]string{"group-kip848": naKafkaPython848},
	},
	{
		name:    "aiokafka",
		prepare: venvRunner("aiokafka_runner.py", "aiokafka"),
		version: venvVersion("aiokafka", "aiokafka.__version__"),
		na:      map[string]string{"group-kip848": naAiokafka848},
	},
}

func init() { clients = append(clients, pypiClients...) }
