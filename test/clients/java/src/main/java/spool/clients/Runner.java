package spool.clients;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * The kafka-clients runner of the client matrix. It implements the runner
 * contract of test/clients/internal/spec: the same flags, JSON-lines record
 * files, and on failure one line of reason on stdout and exit status 1.
 */
public final class Runner {
    /** Seconds past --timeout before the watchdog gives up on a blocked call. */
    private static final double GRACE = 5;

    /** Room for the matrix's 1 MiB records and their batch framing. */
    static final int MAX_BYTES = 4_000_000;

    private static final PrintStream OUT = new PrintStream(System.out, true, StandardCharsets.UTF_8);

    private Runner() { }

    public static void main(String[] argv) {
        int code = 0;
        try {
            Args a = Args.parse(argv);
            watchdog(a.timeoutSeconds + GRACE);
            run(a);
        } catch (Fail e) {
            code = fail(e.getMessage());
        } catch (Exception e) {
            code = fail(Fail.describe(e));
        }
        System.err.flush();
        // The clients are closed; do not wait for threads a library leaves.
        Runtime.getRuntime().halt(code);
    }

    private static void run(Args a) throws Exception {
        switch (a.scenario) {
            case "version" -> OUT.println(version() + " (Java " + System.getProperty("java.version") + ")");
            case "admin" -> Admin.run(a);
            case "produce" -> Produce.run(a);
            case "group" -> Consume.group(a);
            case "transform" -> Consume.transform(a);
            case "offsets" -> Lookup.offsets(a);
            case "metadata" -> Lookup.metadata(a);
            default -> throw new Fail("unknown scenario " + a.scenario);
        }
    }

    /** The kafka-clients version, as the library itself reports it. */
    private static String version() throws java.io.IOException {
        Properties p = new Properties();
        try (var in = org.apache.kafka.clients.producer.KafkaProducer.class.getResourceAsStream("/kafka/kafka-version.properties")) {
            if (in == null) {
                throw new Fail("kafka-clients has no kafka-version.properties");
            }
            p.load(in);
        }
        return p.getProperty("version", "unknown");
    }

    private static int fail(String msg) {
        OUT.println(msg == null ? "failed" : msg.replace("\n", " | "));
        return 1;
    }

    /** Some client calls block past any timeout they are given; the deadline still holds. */
    private static void watchdog(double seconds) {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep((long) (seconds * 1000));
            } catch (InterruptedException e) {
                return;
            }
            OUT.printf("no result within %.0fs (the client call did not return)%n", seconds);
            Runtime.getRuntime().halt(1);
        }, "watchdog");
        t.setDaemon(true);
        t.start();
    }

    /** The settings every client of a scenario shares. */
    static Properties common(Args a) {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, a.bootstrap);
        p.put(CommonClientConfigs.CLIENT_ID_CONFIG, "matrix-java");
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, a.securityProtocol);
        if (a.securityProtocol.endsWith("SSL")) {
            // A PEM truststore (KIP-651): the same CA file every other client reads.
            p.put("ssl.truststore.type", "PEM");
            p.put("ssl.truststore.location", a.caFile);
        }
        if (a.securityProtocol.startsWith("SASL_")) {
            p.put("sasl.mechanism", a.saslMechanism);
            p.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + a.saslUser + "\" password=\"" + a.saslPassword + "\";");
        }
        return p;
    }
}
