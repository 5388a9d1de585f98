package spool.clients;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The Kafka Streams exactly-once application of the client matrix. It
 * re-keys each input record by its value (a word), which goes through a
 * repartition topic, counts the records of each word in a state store
 * backed by a changelog topic, and writes every new count to the output
 * topic: with the record cache off, each input yields exactly one update,
 * so under exactly_once_v2 a word's counts read_committed are 1, 2, ... n
 * with nothing repeated or skipped, however often the process is killed.
 *
 * <p>Flags: --bootstrap, --app-id, --input, --output, --state-dir, --rf. It
 * prints "running" when it first reaches RUNNING and exits 1 with a reason
 * line when the application fails; SIGTERM closes it.
 */
public final class StreamsEos {
    private static final PrintStream OUT = new PrintStream(System.out, true, StandardCharsets.UTF_8);

    private StreamsEos() { }

    public static void main(String[] argv) {
        Properties flags = new Properties();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            flags.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
        }
        KafkaStreams streams = new KafkaStreams(topology(flags).build(), config(flags));
        streams.setUncaughtExceptionHandler(e -> {
            OUT.println("stream thread failed: " + Fail.describe(e));
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.setStateListener((next, prev) -> {
            if (next == KafkaStreams.State.RUNNING && prev == KafkaStreams.State.REBALANCING) {
                OUT.println("running");
            }
            if (next == KafkaStreams.State.ERROR) {
                OUT.println("application failed (state ERROR)");
                Runtime.getRuntime().halt(1);
            }
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> streams.close(Duration.ofSeconds(15))));
        streams.start();
    }

    static StreamsBuilder topology(Properties flags) {
        StreamsBuilder b = new StreamsBuilder();
        b.stream(flags.getProperty("input"), Consumed.with(Serdes.String(), Serdes.String()))
            .groupBy((id, word) -> word, Grouped.with("by-word", Serdes.String(), Serdes.String()))
            .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("counts")
                .withKeySerde(Serdes.String())
                .withValueSerde(Serdes.Long()))
            .toStream()
            .to(flags.getProperty("output"), Produced.with(Serdes.String(), Serdes.Long()));
        return b;
    }

    static Properties config(Properties flags) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, flags.getProperty("app-id"));
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, flags.getProperty("bootstrap"));
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, flags.getProperty("state-dir"));
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, Integer.parseInt(flags.getProperty("rf", "-1")));
        // Every input yields its own update, so the output shows each count.
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        // Transactions stay open long enough, and their records go out
        // at once, so that a kill finds one with records on the output.
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 500);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 0);
        // A killed instance leaves the group after the broker's minimum
        // session timeout rather than Kafka's 45 s default.
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1500);
        return p;
    }
}
