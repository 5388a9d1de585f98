package clients_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"spool/test/peers/kafkapeer"
)

// javaDir is the Maven project of the Java runners: the kafka-clients
// runner and the Kafka Streams application. scripts/install-clients.sh
// builds it (`make clients`) and stamps the build. The runners run on the
// Apache Kafka peer's jars (`make kafka-peer`), so the client and Streams
// under test are the peer's own version.
func javaDir(b *builds) string { return filepath.Join(b.root, "test", "clients", "java") }

// jvmFlags keep each runner's start-up cheap: the runners are short-lived
// and move a few megabytes, so the C1 compiler alone and the serial
// collector do, and the heap stays bounded with six cells at once.
var jvmFlags = []string{"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Xmx512m"}

// javaCommand is the command that runs main (a class of the Maven project)
// after checking the build is there and newer than its sources.
func javaCommand(b *builds, main string) ([]string, error) {
	if err := kafkapeer.Installed(); err != nil {
		return nil, err
	}
	dir := javaDir(b)
	stamp, err := os.Stat(filepath.Join(dir, "target", ".built"))
	if err != nil {
		return nil, fmt.Errorf("the Java runners are not built: run `make clients` (mvn package in test/clients/java)")
	}
	if newer, err := newerThan(dir, stamp.ModTime()); err != nil {
		return nil, err
	} else if newer != "" {
		return nil, fmt.Errorf("the Java runners are older than %s: run `make clients` to rebuild them", newer)
	}
	// The jar, not target/classes: the JVM shares class data only for
	// classes from jars.
	cp := filepath.Join(dir, "target", "clients-java-0.jar") + string(os.PathListSeparator) + filepath.Join(kafkapeer.Dir(), "lib", "*")
	argv := append([]string{"java"}, jvmFlags...)
	argv = append(argv, "-Dlog4j2.configurationFile="+filepath.Join(kafkapeer.Dir(), "config", "log4j2.properties"), "-cp", cp)
	if jsa := b.javaArchive(argv); jsa != "" {
		argv = append(argv, "-XX:SharedArchiveFile="+jsa)
	}
	return append(argv, main), nil
}

// javaArchive records, once per run, the classes a runner loads in a
// class-data archive, which cuts each later runner's start-up by about a
// third. A runner asking a closed port for metadata loads the client and
// gives up within a second. Without the archive the runners just start
// slower.
func (b *builds) javaArchive(argv []string) string {
	b.jsaOnce.Do(func() {
		jsa := filepath.Join(b.dir, "java-runner.jsa")
		args := append(append(slices.Clone(argv[1:]), "-XX:ArchiveClassesAtExit="+jsa, "spool.clients.Runner"),
			"--scenario", "metadata", "--bootstrap", "127.0.0.1:1", "--topic", "archive", "--timeout", "1",
			"--out", filepath.Join(b.dir, "java-archive.jsonl"))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = exec.CommandContext(ctx, argv[0], args...).Run()
		if st, err := os.Stat(jsa); err == nil && st.Size() > 0 {
			b.jsa = jsa
		}
	})
	return b.jsa
}

// newerThan names a source file of the Maven project changed after t.
func newerThan(dir string, t time.Time) (string, error) {
	var newer string
	check := func(path string) error {
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		if st.ModTime().After(t) {
			newer, _ = filepath.Rel(dir, path)
		}
		return nil
	}
	if err := check(filepath.Join(dir, "pom.xml")); err != nil {
		return "", err
	}
	err := filepath.WalkDir(filepath.Join(dir, "src"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || newer != "" {
			return err
		}
		return check(path)
	})
	return newer, err
}

func javaRunner(b *builds) ([]string, error) { return javaCommand(b, "spool.clients.Runner") }

func javaVersion(ctx context.Context, b *builds) string {
	argv, err := javaRunner(b)
	if err != nil {
		return "unknown"
	}
	out, err := exec.CommandContext(ctx, argv[0], append(argv[1:], "--scenario", "version")...).Output()
	if err != nil {
		return "unknown"
	}
	return "kafka-clients " + strings.TrimSpace(string(out))
}
