package spool.clients;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The produce scenario: produce the records of --in to their partitions
 * (plain, idempotent, or aborted then committed in two transactions), then
 * read them back read_committed without a group into --out.
 */
final class Produce {
    private Produce() { }

    static void run(Args a) throws Exception {
        List<Rec> want = Rec.read(a.in);
        Properties extra = new Properties();
        extra.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, a.codec);
        extra.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, a.idempotent || a.transactional);
        if (a.transactional) {
            extra.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, a.topic + "-txn");
        }
        try (var p = producer(a, extra)) {
            if (a.transactional) {
                p.initTransactions();
                p.beginTransaction();
                send(p, a, a.topic, want);
                p.abortTransaction();
                p.beginTransaction();
                send(p, a, a.topic, want);
                p.commitTransaction();
            } else {
                send(p, a, a.topic, want);
            }
        }
        Rec.writeLines(a.out, readBack(a, Rec.perPartition(want)));
    }

    static KafkaProducer<byte[], byte[]> producer(Args a, Properties extra) {
        Properties p = Runner.common(a);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Runner.MAX_BYTES);
        int request = (int) Math.max(1000, Math.min(30_000, a.leftMs()));
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) Math.max(1000, a.leftMs()));
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, request);
        // The client insists on room for one linger and one request.
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(request + 10, a.leftMs()));
        p.putAll(extra);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Sends every record to the same partition of topic and waits for each acknowledgement. */
    static void send(KafkaProducer<byte[], byte[]> p, Args a, String topic, List<Rec> recs) throws InterruptedException {
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        for (Rec r : recs) {
            Long ts = r.ts == 0 ? null : r.ts;
            acks.add(p.send(new ProducerRecord<>(topic, r.p, ts, r.k, r.v, r.headers())));
        }
        p.flush();
        for (Future<RecordMetadata> f : acks) {
            try {
                f.get(Math.max(1, a.leftMs()), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new Fail("produce", e.getCause());
            } catch (TimeoutException e) {
                throw new Fail("produce: no acknowledgement by the deadline");
            }
        }
    }

    static Properties consumerProps(Args a) {
        Properties p = Runner.common(a);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Runner.MAX_BYTES);
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 2 * Runner.MAX_BYTES);
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.max(1000, a.leftMs()));
        return p;
    }

    static KafkaConsumer<byte[], byte[]> consumer(Properties p) {
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** Reads every partition from its start until it has want's count of records. */
    static List<Rec> readBack(Args a, Map<Integer, Integer> want) {
        List<Rec> out = new ArrayList<>();
        Map<Integer, Integer> got = new HashMap<>();
        try (var c = consumer(consumerProps(a))) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int part : want.keySet()) {
                tps.add(new TopicPartition(a.topic, part));
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            while (!done(got, want)) {
                if (a.expired()) {
                    throw new Fail("read back: have " + got + " of " + want + " records per partition");
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(Math.min(500, a.leftMs())))) {
                    got.merge(r.partition(), 1, Integer::sum);
                    out.add(Rec.of(r));
                }
            }
        }
        return out;
    }

    private static boolean done(Map<Integer, Integer> got, Map<Integer, Integer> want) {
        for (var e : want.entrySet()) {
            if (got.getOrDefault(e.getKey(), 0) < e.getValue()) {
                return false;
            }
        }
        return true;
    }
}
