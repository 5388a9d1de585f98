package spool.clients;

import java.util.ArrayList;
import java.util.List;

/** The flags every matrix runner takes (test/clients/internal/spec). */
final class Args {
    String bootstrap = "";
    String scenario = "";
    String topic = "";
    String in = "";
    String out = "";
    String group = "";
    int count;
    String codec = "none";
    boolean idempotent;
    boolean transactional;
    String to = "";
    boolean abort;
    int partitions = 3;
    int rf = 1;
    List<Long> timestamps = new ArrayList<>();
    double timeoutSeconds = 30;
    /** Group protocol of the group scenarios: classic, or consumer (KIP-848). */
    String groupProtocol = "classic";
    /** Kafka's security.protocol, and what SASL_SSL needs: the SCRAM login and the CA (PEM) to trust. */
    String securityProtocol = "PLAINTEXT";
    String saslMechanism = "SCRAM-SHA-512";
    String saslUser = "";
    String saslPassword = "";
    String caFile = "";

    private long deadlineNanos;

    static Args parse(String[] argv) {
        Args a = new Args();
        for (int i = 0; i < argv.length; i++) {
            String flag = argv[i];
            // Boolean flags take no value.
            switch (flag) {
                case "--idempotent" -> { a.idempotent = true; continue; }
                case "--transactional" -> { a.transactional = true; continue; }
                case "--abort" -> { a.abort = true; continue; }
                default -> { }
            }
            if (i + 1 >= argv.length) {
                throw new Fail("flag " + flag + " needs a value");
            }
            String v = argv[++i];
            switch (flag) {
                case "--bootstrap" -> a.bootstrap = v;
                case "--scenario" -> a.scenario = v;
                case "--topic" -> a.topic = v;
                case "--in" -> a.in = v;
                case "--out" -> a.out = v;
                case "--group" -> a.group = v;
                case "--count" -> a.count = Integer.parseInt(v);
                case "--codec" -> a.codec = v;
                case "--to" -> a.to = v;
                case "--partitions" -> a.partitions = Integer.parseInt(v);
                case "--rf" -> a.rf = Integer.parseInt(v);
                case "--timeout" -> a.timeoutSeconds = Double.parseDouble(v);
                case "--group-protocol" -> a.groupProtocol = v;
                case "--security-protocol" -> a.securityProtocol = v;
                case "--sasl-mechanism" -> a.saslMechanism = v;
                case "--sasl-user" -> a.saslUser = v;
                case "--sasl-password" -> a.saslPassword = v;
                case "--ca-file" -> a.caFile = v;
                case "--timestamps" -> {
                    for (String t : v.split(",")) {
                        if (!t.isEmpty()) {
                            a.timestamps.add(Long.parseLong(t));
                        }
                    }
                }
                default -> throw new Fail("unknown flag " + flag);
            }
        }
        a.deadlineNanos = System.nanoTime() + (long) (a.timeoutSeconds * 1e9);
        return a;
    }

    /** Milliseconds left until the scenario's deadline, at least zero. */
    long leftMs() {
        return Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000);
    }

    boolean expired() {
        return leftMs() == 0;
    }
}
