package spool.clients;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;

/** The group scenarios: consume in a group and commit, or consume-transform-produce in a transaction. */
final class Consume {
    private Consume() { }

    /** Consumes --count records of --topic in --group from the earliest offset, commits exactly those, and leaves. */
    static void group(Args a) {
        List<Rec> out;
        try (var c = groupConsumer(a)) {
            List<ConsumerRecord<byte[], byte[]>> recs = take(c, a);
            c.commitSync(next(recs), Duration.ofMillis(Math.max(1000, a.leftMs())));
            out = toRecs(recs);
        }
        Rec.writeLines(a.out, out);
    }

    /**
     * Consumes --count records in --group read_committed and, in one
     * transaction, produces each to the same partition of --to and sends the
     * consumed offsets with the consumer's group metadata; --abort aborts
     * that transaction instead of committing it.
     */
    static void transform(Args a) throws InterruptedException {
        List<Rec> out;
        try (var c = groupConsumer(a)) {
            List<ConsumerRecord<byte[], byte[]>> recs = take(c, a);
            out = toRecs(recs);
            Properties extra = new Properties();
            extra.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            extra.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, a.topic + "-txn");
            try (var p = Produce.producer(a, extra)) {
                p.initTransactions();
                p.beginTransaction();
                List<Rec> copies = new ArrayList<>();
                for (Rec r : out) {
                    Rec cp = new Rec();
                    cp.p = r.p;
                    cp.k = r.k;
                    cp.v = r.v;
                    cp.h = r.h;
                    copies.add(cp);
                }
                Produce.send(p, a, a.to, copies);
                p.sendOffsetsToTransaction(next(recs), c.groupMetadata());
                if (a.abort) {
                    p.abortTransaction();
                } else {
                    p.commitTransaction();
                }
            }
        }
        Rec.writeLines(a.out, out);
    }

    private static KafkaConsumer<byte[], byte[]> groupConsumer(Args a) {
        Properties p = Produce.consumerProps(a);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, a.group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(1, a.count));
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, a.groupProtocol);
        var c = Produce.consumer(p);
        c.subscribe(List.of(a.topic));
        return c;
    }

    /**
     * Polls until --count records have come. A poll may hand out more than
     * are wanted; the first --count are a prefix of every partition's
     * records, so committing past them skips nothing.
     */
    private static List<ConsumerRecord<byte[], byte[]>> take(KafkaConsumer<byte[], byte[]> c, Args a) {
        List<ConsumerRecord<byte[], byte[]>> recs = new ArrayList<>();
        while (recs.size() < a.count) {
            if (a.expired()) {
                throw new Fail("consumed " + recs.size() + " of " + a.count + " records");
            }
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(Math.min(500, a.leftMs())))) {
                if (recs.size() < a.count) {
                    recs.add(r);
                }
            }
        }
        return recs;
    }

    /** The offset after the last record taken of each partition. */
    private static Map<TopicPartition, OffsetAndMetadata> next(List<ConsumerRecord<byte[], byte[]>> recs) {
        Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : recs) {
            m.merge(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1),
                (x, y) -> x.offset() >= y.offset() ? x : y);
        }
        return m;
    }

    private static List<Rec> toRecs(List<ConsumerRecord<byte[], byte[]>> recs) {
        List<Rec> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : recs) {
            out.add(Rec.of(r));
        }
        return out;
    }
}
